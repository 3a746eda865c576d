"""Benchmark: every project of a database exported to XLSX, with its time and peak memory.

Target: 100 000 projects under 300 MB. Run ``python -m benchmarks.bench_exports PATH [--format csv]``
(PATH: a database made by ``ess-acc demo --projects 100000``). The database is opened read-only through a
SQLite URI, never migrated nor written (``immutable=1`` when no ``-wal`` file is beside it, so not even
``-shm``/``-wal`` files appear); the export runs in a fresh child process, so the peak resident memory
reported (``ru_maxrss``) is the export's own and not that of whatever ran before.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

TARGET_MB = 300


def _rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kibibytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read_only_uri(path: Path) -> str:
    """A URI opening ``path`` read-only; immutable (no locks, no side files) unless a WAL is pending."""
    pending_wal = path.with_name(path.name + "-wal").exists()
    return f"file:{path}?{'mode=ro' if pending_wal else 'immutable=1'}&uri=true"


def _child(db_path: str, fmt: str, out_dir: str) -> dict[str, Any]:
    from ess_accompagnement.reports.exports import ExportFormat, ExportKind, export_list
    from ess_accompagnement.store.db import Database, make_engine

    path = Path(db_path).resolve()
    db = Database(path, make_engine(_read_only_uri(path)))
    before = _rss_mb()
    out = Path(out_dir) / f"projets.{fmt}"
    start = time.perf_counter()
    try:
        result = export_list(db, ExportKind.PROJECTS, ExportFormat(fmt), out)
    finally:
        db.close()
    seconds = time.perf_counter() - start
    return {"rows": result.rows, "seconds": round(seconds, 2), "rss_before_mb": round(before, 1),
            "peak_rss_mb": round(_rss_mb(), 1), "file_mb": round(out.stat().st_size / 2**20, 1)}


def bench_export(db_path: Path | str, fmt: str = "xlsx") -> dict[str, Any]:
    """Export all projects of ``db_path`` in a child process; time, memory and size of the file."""
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as out_dir, ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        figures = pool.submit(_child, str(db_path), fmt, out_dir).result()
    rows = max(figures["rows"], 1)
    return {"benchmark": f"export_projects_{fmt}", **figures, "rows_per_second": round(rows / figures["seconds"]),
            "target_peak_mb": TARGET_MB, "within_target": figures["peak_rss_mb"] < TARGET_MB}


def bench_xlsx_export(db_path: Path | str) -> dict[str, Any]:
    """Every project to XLSX (openpyxl write-only): seconds, peak RSS in MB, rows, file size."""
    return bench_export(db_path, "xlsx")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_exports", description=__doc__.splitlines()[0])
    parser.add_argument("db", metavar="CHEMIN", help="base à exporter (ouverte en lecture seule)")
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    args = parser.parse_args(argv)
    if not Path(args.db).is_file():
        print(f"Base introuvable : {args.db}", file=sys.stderr)
        return 2
    figures = bench_export(args.db, args.format)
    json.dump(figures, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0 if figures["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
