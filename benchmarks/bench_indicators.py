"""Benchmark: a year of indicators (``domain.indicators.compute_indicators``) on a large database.

Target: under 1 s for a year on 100 000 projects and about 1 000 000 appointments (the demo's ten years
of records, in which the last complete year has about 40 000 projects accompanied and 143 000 appointments). Run
``python -m benchmarks.bench_indicators PATH [--year YYYY] [--runs N]`` (PATH: for instance
``benchmarks/work/bench.db``, made by ``ess-acc demo --projects 100000``). The database is copied to a
temporary folder first (with its ``-wal`` file if one is pending) and only the copy is opened: the
original is never migrated nor written. Two workloads, each timed ``runs`` times after one warm-up run:
the whole database (the region, what the observatory export computes) and the busiest structure alone
(what an advisor asks for). Wall and processor times are both reported: on a shared machine the
processor time is the steadier figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ess_accompagnement.domain.entities import Appointment, PhaseChange, Project, Structure
from ess_accompagnement.domain.indicators import Dimension, Scope, compute_indicators
from ess_accompagnement.store.db import Database, open_database

TARGET_SECONDS = 1.0
RUNS = 3


def _copy(source: Path, folder: Path) -> Path:
    target = folder / source.name
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + "-wal"))
    return target


def _timed(db: Database, scope: Scope, runs: int) -> tuple[dict[str, float], Any]:
    walls, cpus, result = [], [], None
    for index in range(runs + 1):
        with db.read() as session:
            wall, cpu = time.perf_counter(), time.process_time()
            result = compute_indicators(session, scope)
            if index:  # the first run warms the page cache
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
    return {"seconds_median": round(statistics.median(walls), 3), "seconds_best": round(min(walls), 3),
            "cpu_seconds_median": round(statistics.median(cpus), 3)}, result


def _sizes(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {"projects": session.execute(select(func.count()).select_from(Project)).scalar_one(),
                "appointments": session.execute(select(func.count()).select_from(Appointment)).scalar_one(),
                "last_year": session.execute(select(func.max(PhaseChange.effective_date))).scalar_one().year}


def _structure_id(db: Database, key: str) -> uuid.UUID:
    with db.read() as session:
        return session.execute(select(Structure.id).where(Structure.catalogue_key == key)).scalar_one()


def bench_year(db_path: Path | str, year: int | None = None, runs: int = RUNS) -> dict[str, Any]:
    """Time a year of indicators on a copy of ``db_path``: the whole database, then its busiest structure."""
    with tempfile.TemporaryDirectory(prefix="bench-indicators-") as folder:
        db = open_database(_copy(Path(db_path), Path(folder)), create=False)
        try:
            sizes = _sizes(db)
            last = sizes.pop("last_year")
            year = year or last - 1  # the last complete year of the data
            scope = Scope(dt.date(year, 1, 1), dt.date(year, 12, 31))
            whole, figures = _timed(db, scope, runs)
            busiest = max(figures.breakdown("projets_accompagnes", Dimension.STRUCTURE), key=lambda f: f.count)
            one, _ = _timed(db, Scope(scope.start, scope.end, structure_id=_structure_id(db, busiest.bucket)), runs)
        finally:
            db.close()
    return {
        "benchmark": "indicators_year", "year": year, **sizes, "runs": runs, "figures": len(figures.figures),
        "projects_accompanied": figures.count("projets_accompagnes"), "whole_database": whole,
        "busiest_structure": {"structure": busiest.bucket, "projects_accompanied": busiest.count, **one},
        "target_seconds": TARGET_SECONDS,
        "within_target": {"whole_database": whole["seconds_median"] < TARGET_SECONDS,
                          "busiest_structure": one["seconds_median"] < TARGET_SECONDS},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_indicators", description=__doc__.splitlines()[0])
    parser.add_argument("db", metavar="CHEMIN", help="base à mesurer (copiée, jamais modifiée)")
    parser.add_argument("--year", type=int, metavar="AAAA", help="année mesurée (par défaut : la dernière complète)")
    parser.add_argument("--runs", type=int, default=RUNS, metavar="N")
    args = parser.parse_args(argv)
    if not Path(args.db).is_file():
        print(f"Base introuvable : {args.db}", file=sys.stderr)
        return 2
    json.dump(bench_year(args.db, args.year, max(args.runs, 1)), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
