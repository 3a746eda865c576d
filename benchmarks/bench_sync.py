"""Benchmark of the sync engine: capture overhead, apply rate, export rate.

Run ``python -m benchmarks.bench_sync [N] [RUNS]`` (N projects, default 2000; RUNS capture measurements,
default 5, the median is reported). Targets (issue 5): capture under 2x the same writes without it; apply at
least 20 000 field changes per second. Capture is reported in wall time and in processor time: on a shared
machine the processor time is the steadier figure (wall time is dominated by the commits' fsyncs).

The two sides differ only by capture: the same rows, keyed like the app's (time-ordered UUIDv7, ``ids.new_id``),
written by the same statements, ten rows per transaction. The side without capture has its capture triggers
dropped once, before the run; it must not switch capture off per transaction with ``capture.disabled``, which
re-registers an SQLite function and so discards every prepared statement of the connection (that made the
baseline pay for re-preparing its statements and flattered the ratio by about 0.4).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ess_accompagnement.domain.ids import catalogue_id, new_id
from ess_accompagnement.store.db import Database, open_database
from ess_accompagnement.sync import api, capture
from ess_accompagnement.sync.codec import driver

OWNER = catalogue_id("structure", "urscop").hex
NOW = "2026-01-01 00:00:00.000000"


def _rows(n: int) -> list[tuple[str, ...]]:
    return [(new_id().hex, OWNER, OWNER, f"Projet {i}", f"projet {i}", "Un résumé de projet", NOW, NOW)
            for i in range(n)]


_INSERT = ("INSERT INTO project(id, owner_structure_id, lead_structure_id, title, sort_key, summary, created_at, "
           "updated_at, legal_form, status, innovation_sociale, esus, confidential) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'non_definie', 'actif', 0, 0, 0)")


def _write(db: Database, rows: list[tuple[str, ...]], *, captured: bool, per_tx: int = 10) -> float:
    """Insert then update every row, ``per_tx`` rows per transaction; seconds taken."""
    return _write_timed(db, rows, captured=captured, per_tx=per_tx)[0]


def _write_timed(db: Database, rows: list[tuple[str, ...]], *, captured: bool, per_tx: int = 10
                 ) -> tuple[float, float]:
    """Like :func:`_write`: (wall seconds, processor seconds)."""
    if not captured:
        with db.engine.begin() as connection:
            capture.drop(driver(connection))  # the same writes, no trigger to capture them
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), per_tx):
        with db.transaction() as session:
            raw = driver(session.connection())
            chunk = rows[i:i + per_tx]
            raw.executemany(_INSERT, chunk)
            raw.executemany("UPDATE project SET title = title || ' bis' WHERE id = ?", [(r[0],) for r in chunk])
    return time.perf_counter() - start, time.process_time() - cpu


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


def _capture_run(directory: Path, n: int, run: int) -> tuple[float, float, float, float, Database]:
    """One measurement: (wall plain, wall captured, cpu plain, cpu captured) and the captured database."""
    plain, captured = _fresh(directory, f"plain{run}"), _fresh(directory, f"captured{run}")
    wall_plain, cpu_plain = _write_timed(plain, _rows(n), captured=False)
    wall_captured, cpu_captured = _write_timed(captured, _rows(n), captured=True)
    plain.close()
    return wall_plain, wall_captured, cpu_plain, cpu_captured, captured


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = argv or sys.argv[1:]
    n = int(args[0]) if args else 2000
    runs = max(int(args[1]), 1) if len(args) > 1 else 5
    directory = Path(tempfile.mkdtemp(prefix="bench_sync"))
    try:
        measures, captured = [], None
        for run in range(runs):
            *figures, db = _capture_run(directory, n, run)
            measures.append(figures)
            if captured is not None:
                captured.close()
            captured = db
        assert captured is not None
        wall_plain, wall_captured, cpu_plain, cpu_captured = (statistics.median(m[i] for m in measures)
                                                              for i in range(4))
        ratio = statistics.median(m[1] / m[0] for m in measures)
        cpu_ratio = statistics.median(m[3] / m[2] for m in measures)
        with captured.read() as session:
            start = time.perf_counter()
            txs = list(api.export_transactions(session.connection(), structure_id=OWNER))
            t_export = time.perf_counter() - start
        changes = sum(len(t["changes"]) for t in txs)
        target = _fresh(directory, "target")
        start = time.perf_counter()
        result = api.apply_transactions(target, txs)
        t_apply = time.perf_counter() - start
        figures = {"capture_ratio": ratio, "capture_cpu_ratio": cpu_ratio,
                   "apply_changes_per_s": result.field_changes / t_apply,
                   "export_changes_per_s": changes / t_export, "transactions": float(len(txs)),
                   "field_changes": float(changes)}
        print(f"capture overhead (median of {runs}): {wall_captured:.2f}s vs {wall_plain:.2f}s without capture = "
              f"{ratio:.2f}x (target < 2x); processor time {cpu_captured:.2f}s vs {cpu_plain:.2f}s = "
              f"{cpu_ratio:.2f}x")
        print(f"apply: {result.field_changes} field changes in {t_apply:.2f}s = "
              f"{figures['apply_changes_per_s']:.0f}/s (target >= 20000/s)")
        print(f"export: {changes} field changes in {t_export:.2f}s = {figures['export_changes_per_s']:.0f}/s")
        for db in (captured, target):
            db.close()
        return figures
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
