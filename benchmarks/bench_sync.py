"""Benchmark of the sync engine: capture overhead, apply rate, export rate.

Run ``python -m benchmarks.bench_sync [N]`` (N projects, default 2000). Targets (issue 5): capture under
2x the same writes without it; apply at least 20 000 field changes per second.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ess_accompagnement.domain.ids import catalogue_id
from ess_accompagnement.store.db import Database, open_database
from ess_accompagnement.sync import api, capture
from ess_accompagnement.sync.codec import driver

OWNER = catalogue_id("structure", "urscop").hex
NOW = "2026-01-01 00:00:00.000000"


def _rows(n: int) -> list[tuple[str, ...]]:
    return [(uuid.uuid4().hex, OWNER, OWNER, f"Projet {i}", f"projet {i}", "Un résumé de projet", NOW, NOW)
            for i in range(n)]


_INSERT = ("INSERT INTO project(id, owner_structure_id, lead_structure_id, title, sort_key, summary, created_at, "
           "updated_at, legal_form, status, innovation_sociale, esus, confidential) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'non_definie', 'actif', 0, 0, 0)")


def _write(db: Database, rows: list[tuple[str, ...]], *, captured: bool, per_tx: int = 10) -> float:
    """Insert then update every row, ``per_tx`` rows per transaction; seconds taken."""
    start = time.perf_counter()
    for i in range(0, len(rows), per_tx):
        with db.transaction() as session:
            raw = driver(session.connection())
            chunk = rows[i:i + per_tx]
            if captured:
                raw.executemany(_INSERT, chunk)
                raw.executemany("UPDATE project SET title = title || ' bis' WHERE id = ?", [(r[0],) for r in chunk])
            else:
                with capture.disabled(raw):
                    raw.executemany(_INSERT, chunk)
                    raw.executemany("UPDATE project SET title = title || ' bis' WHERE id = ?",
                                    [(r[0],) for r in chunk])
    return time.perf_counter() - start


def _fresh(directory: Path, name: str) -> Database:
    db = open_database(directory / f"{name}.db")
    with db.engine.begin() as connection:
        raw = driver(connection)
        with capture.disabled(raw):
            raw.execute("INSERT INTO structure(id, owner_structure_id, name, kind, support_types, phases, "
                        "former_names, active, sort_key, created_at, updated_at) VALUES (?, ?, 'URSCOP', 'autre', "
                        "'[]', '[]', '[]', 1, 'urscop', ?, ?)", (OWNER, OWNER, NOW, NOW))
        api.bind_structure(connection, OWNER)
    return db


def main(argv: list[str] | None = None) -> dict[str, float]:
    n = int((argv or sys.argv[1:] or ["2000"])[0])
    directory = Path(tempfile.mkdtemp(prefix="bench_sync"))
    try:
        plain, captured = _fresh(directory, "plain"), _fresh(directory, "captured")
        t_plain = _write(plain, _rows(n), captured=False)
        t_captured = _write(captured, _rows(n), captured=True)
        with captured.read() as session:
            start = time.perf_counter()
            txs = list(api.export_transactions(session.connection(), structure_id=OWNER))
            t_export = time.perf_counter() - start
        changes = sum(len(t["changes"]) for t in txs)
        target = _fresh(directory, "target")
        start = time.perf_counter()
        result = api.apply_transactions(target, txs)
        t_apply = time.perf_counter() - start
        figures = {"capture_ratio": t_captured / t_plain, "apply_changes_per_s": result.field_changes / t_apply,
                   "export_changes_per_s": changes / t_export, "transactions": float(len(txs)),
                   "field_changes": float(changes)}
        print(f"capture overhead: {t_captured:.2f}s vs {t_plain:.2f}s without capture = "
              f"{figures['capture_ratio']:.2f}x (target < 2x)")
        print(f"apply: {result.field_changes} field changes in {t_apply:.2f}s = "
              f"{figures['apply_changes_per_s']:.0f}/s (target >= 20000/s)")
        print(f"export: {changes} field changes in {t_export:.2f}s = {figures['export_changes_per_s']:.0f}/s")
        for db in (plain, captured, target):
            db.close()
        return figures
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
