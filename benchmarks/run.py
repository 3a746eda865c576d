"""Benchmarks at scale: the app's main read queries on a demo database of 100 000 projects, each timed beside
the same SQL run with raw ``sqlite3`` (the floor: no SQLAlchemy, no session, no dataclass).

``python -m benchmarks.run [--projects N] [--rebuild] [--runs N]`` (also ``python benchmarks/run.py``):

1. builds ``benchmarks/work/bench.db`` with ``ess_accompagnement.demo`` (or reuses it when its JSON stamp
   says it was built with the same parameters and the same generator), and reports the build time;
2. times, after a warm-up, ``--runs`` runs of each workload: a search (rotating realistic terms), the first
   page of a filtered project list, a project's timeline. The raw side replays, on its own ``sqlite3``
   connection to the same file with the app's pragmas, exactly the statements and parameters SQLAlchemy sent
   for the same input (captured once beforehand), and fetches the same rows;
3. prints a table (medians, 95th percentiles, ratios ours / raw, targets), and writes it to
   ``benchmarks/results/latest.json`` and ``benchmarks/results/YYYY-MM-DD-<sha>.md``.

A missed target is marked « au-delà de la cible » and the figures are still recorded: the script fails only
when it cannot measure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
if not __package__:  # run as « python benchmarks/run.py »: make the package importable
    sys.path.insert(0, str(ROOT.parent))

from sqlalchemy import Engine, event, select  # noqa: E402

from ess_accompagnement import demo  # noqa: E402
from ess_accompagnement.domain.codes import Phase  # noqa: E402
from ess_accompagnement.domain.entities import Commune, Person, Project  # noqa: E402
from ess_accompagnement.domain.queries import project_detail  # noqa: E402
from ess_accompagnement.domain.queries.projects import (  # noqa: E402
    ProjectFilter,
    ProjectSort,
    project_ids,
    project_rows,
)
from ess_accompagnement.domain.queries.search import search  # noqa: E402
from ess_accompagnement.domain.text import tokens  # noqa: E402
from ess_accompagnement.store import derived  # noqa: E402
from ess_accompagnement.store.db import PRAGMAS, Database, open_database  # noqa: E402
from ess_accompagnement.store.setup import load_reference_data  # noqa: E402

logger = logging.getLogger("benchmarks.run")

WORK = ROOT / "work"
DB_PATH = WORK / "bench.db"
STAMP_PATH = WORK / "bench.json"
RESULTS = ROOT / "results"
TODAY = dt.date(2026, 11, 23)  # the demo's « today »: fixed, so the database can be reused from day to day
SEED = 1
WARM_UP = 10
DEPARTEMENTS = ("18", "28", "36", "37", "41", "45")
Statement = tuple[str, Any]


@dataclass(frozen=True)
class Target:
    label: str
    p95_ms: float
    max_ratio: float | None = None  # ours / raw, on the medians


TARGETS = {
    "search": Target("recherche / search", 20.0, 2.0),
    "list_page": Target("liste filtrée, 1re page / filtered list, first page", 20.0),
    "timeline": Target("fil d'un projet / project timeline", 10.0),
}


# ---- The database --------------------------------------------------------------------------------


def _generator_hash() -> str:
    """What the stored rows depend on: the generator, the entities and the derived tables' code."""
    digest = hashlib.sha256()
    for module in ("demo.py", "domain/entities.py", "store/derived.py"):
        digest.update((Path(demo.__file__).parent / module).read_bytes())
    return digest.hexdigest()[:16]


def ensure_database(projects: int, *, rebuild: bool) -> dict[str, Any]:
    """The benchmark database's stamp, building the database first unless an identical one is there."""
    wanted = {"projects": projects, "seed": SEED, "today": TODAY.isoformat(), "generator": _generator_hash()}
    if not rebuild and DB_PATH.exists() and STAMP_PATH.exists():
        stamp = json.loads(STAMP_PATH.read_text(encoding="utf-8"))
        if {key: stamp.get(key) for key in wanted} == wanted:
            print(f"Base réutilisée / database reused: {DB_PATH} (construite en {stamp['build_seconds']} s)")
            return {**stamp, "reused": True}
    return {**_build(wanted), "reused": False}


def _build(wanted: dict[str, Any]) -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    STAMP_PATH.unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        DB_PATH.with_name(DB_PATH.name + suffix).unlink(missing_ok=True)
    print(f"Construction / building {DB_PATH} ({wanted['projects']} projets)…")
    started = time.perf_counter()
    db = open_database(DB_PATH)
    try:
        load_reference_data(db)
        reference_seconds = time.perf_counter() - started
        summary = demo.generate_demo(db, projects=wanted["projects"], seed=SEED, today=TODAY, progress=_progress)
    finally:
        db.close()
    seconds = time.perf_counter() - started
    print(f"\nConstruite en / built in {seconds:.1f} s (démo / demo {summary.seconds} s)")
    stamp = {**wanted, "build_seconds": round(seconds, 1), "reference_data_seconds": round(reference_seconds, 1),
             "demo_seconds": summary.seconds, "peak_rss_mb": _peak_memory(), "rows": asdict(summary),
             "db_mb": round(DB_PATH.stat().st_size / 2**20), "built_at": dt.datetime.now(dt.UTC).isoformat()}
    STAMP_PATH.write_text(json.dumps(stamp, indent=2, ensure_ascii=False), encoding="utf-8")
    return stamp


def _progress(done: int, total: int) -> None:
    print(f"\r  {done} / {total} projets", end="", flush=True)


def _peak_memory() -> dict[str, float] | None:
    """Peak resident memory (MiB) of this process and of the largest generating child, Linux units."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    return {"writer": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "generator": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}


# ---- Workloads: an input list, ours, and the capture of the SQL ours sends -----------------------


@dataclass
class Workload:
    name: str
    inputs: list[Any]
    ours: Callable[[Database, Any], object]
    captured: list[list[Statement]] | None = None  # per input, the statements SQLAlchemy sent


def workloads(db: Database, seed: int) -> list[Workload]:
    rng = random.Random(seed)
    with db.read() as session:
        surnames = sorted({name for (name,) in session.execute(select(Person.last_name))})
        communes = sorted({name for (name,) in session.execute(
            select(Commune.name).join(Project, Project.commune_code == Commune.code).distinct())})
        titles = [title for (title,) in session.execute(select(Project.title).order_by(Project.id).limit(5000))]
        projects = [id_ for (id_,) in session.execute(select(Project.id).order_by(Project.id))]
    words = sorted({word for title in titles for word in tokens(title) if len(word) >= 5})
    terms = (rng.sample(surnames, 10) + rng.sample(communes, 10) + rng.sample(words, 10)
             + [word[:3] for word in rng.sample(surnames + communes + words, 10)])
    rng.shuffle(terms)
    filters = [ProjectFilter(phase=phase, departement=dep) for phase in Phase for dep in DEPARTEMENTS]
    rng.shuffle(filters)
    return [
        Workload("search", terms, lambda database, term: _search(database, term)),
        Workload("list_page", filters, lambda database, criteria: _list_page(database, criteria)),
        Workload("timeline", rng.sample(projects, 200), lambda database, project: _timeline(database, project)),
    ]


def _search(db: Database, term: str) -> object:
    with db.read() as session:
        return search(session, term)


def _list_page(db: Database, criteria: ProjectFilter) -> object:
    with db.read() as session:
        return project_rows(session, project_ids(session, criteria, sort=ProjectSort.TITLE, limit=50))


def _timeline(db: Database, project: Any) -> object:
    with db.read() as session:
        return project_detail.timeline(session, project, today=TODAY, reader_structure_id=None)


class Recorder:
    """The statements and parameters SQLAlchemy sends to the driver, as the driver receives them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[Statement] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: object, _cursor: object, statement: str, parameters: Any, _context: object,
                _executemany: bool) -> None:
        self.statements.append((statement, parameters))

    def take(self) -> list[Statement]:
        taken, self.statements = self.statements, []
        return taken

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


def capture(db: Database, work: Workload) -> None:
    recorder = Recorder(db.engine)
    try:
        work.captured = []
        for item in work.inputs:
            work.ours(db, item)
            work.captured.append(recorder.take())
    finally:
        recorder.close()


def replay(raw: sqlite3.Connection, statements: list[Statement]) -> int:
    """Run the captured statements on the raw connection, fetching every row; end any transaction begun."""
    rows = 0
    for statement, parameters in statements:
        rows += len(raw.execute(statement, parameters).fetchall())
    if raw.in_transaction:
        raw.execute("ROLLBACK")
    return rows


def raw_connection(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    return connection


# ---- Timing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    median_ms: float
    p95_ms: float
    cpu_median_ms: float  # processor time: steadier than wall time on a busy machine


def _figures(wall: list[float], cpu: list[float]) -> Figures:
    p95 = statistics.quantiles(wall, n=20, method="inclusive")[-1]
    return Figures(round(statistics.median(wall) * 1000, 3), round(p95 * 1000, 3),
                   round(statistics.median(cpu) * 1000, 3))


def measure(db: Database, raw: sqlite3.Connection, work: Workload, runs: int) -> dict[str, Any]:
    """Warm up, then time each run of ours and of the raw replay, alternately on the same input."""
    assert work.captured is not None
    for index in range(WARM_UP):
        work.ours(db, work.inputs[index % len(work.inputs)])
        replay(raw, work.captured[index % len(work.inputs)])
    times: dict[str, tuple[list[float], list[float]]] = {"ours": ([], []), "raw": ([], [])}
    for index in range(runs):
        item, statements = work.inputs[index % len(work.inputs)], work.captured[index % len(work.inputs)]
        for side, run, argument in (("ours", work.ours, item), ("raw", _replay_on(raw), statements)):
            cpu, wall = time.process_time(), time.perf_counter()
            run(db, argument)
            times[side][0].append(time.perf_counter() - wall)
            times[side][1].append(time.process_time() - cpu)
    ours, floor = _figures(*times["ours"]), _figures(*times["raw"])
    return {"ours": asdict(ours), "raw": asdict(floor), "runs": runs, "inputs": len(work.inputs),
            "ratio_median": round(ours.median_ms / floor.median_ms, 2),
            "ratio_p95": round(ours.p95_ms / floor.p95_ms, 2), **_verdict(work.name, ours, floor)}


def _replay_on(raw: sqlite3.Connection) -> Callable[[Database, list[Statement]], object]:
    return lambda _db, statements: replay(raw, statements)


def _verdict(name: str, ours: Figures, floor: Figures) -> dict[str, Any]:
    target = TARGETS[name]
    misses = []
    if ours.p95_ms >= target.p95_ms:
        misses.append(f"p95 {ours.p95_ms:.1f} ms ≥ {target.p95_ms:.0f} ms")
    if target.max_ratio is not None and ours.median_ms > target.max_ratio * floor.median_ms:
        misses.append(f"{ours.median_ms / floor.median_ms:.1f}× brut / raw > {target.max_ratio:.0f}×")
    wanted = f"p95 < {target.p95_ms:.0f} ms" + (f", ≤ {target.max_ratio:.0f}× brut / raw (médianes)"
                                                 if target.max_ratio is not None else "")
    return {"target": wanted, "met": not misses, "misses": misses}


def query_plans(raw: sqlite3.Connection, work: Workload) -> list[dict[str, Any]]:
    """EXPLAIN QUERY PLAN of each statement the workload's first input sent."""
    assert work.captured is not None
    plans = []
    for statement, parameters in work.captured[0]:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        rows = raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
        depth: dict[int, int] = {0: 0}
        lines = []
        for node, parent, _, detail in rows:
            depth[node] = depth.get(parent, 0) + 1
            lines.append("  " * (depth[node] - 1) + detail)
        plans.append({"sql": " ".join(statement.split()), "plan": lines})
    return plans


# ---- Report --------------------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT.parent, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _machine() -> dict[str, Any]:
    import os

    load = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return {"platform": platform.platform(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(), "load_average_1min": load}


def print_table(results: dict[str, dict[str, Any]]) -> None:
    header = (f"{'Mesure / measure':52} {'nous méd.':>10} {'nous p95':>9} {'brut méd.':>10} {'brut p95':>9} "
              f"{'ratio méd.':>10} {'ratio p95':>9}  cible / target → verdict")
    print(header)
    print("-" * len(header))
    for name, result in results.items():
        ours, raw = result["ours"], result["raw"]
        verdict = "ok" if result["met"] else "au-delà de la cible / target missed: " + "; ".join(result["misses"])
        print(f"{TARGETS[name].label:52} {ours['median_ms']:8.2f}ms {ours['p95_ms']:7.2f}ms {raw['median_ms']:8.2f}ms "
              f"{raw['p95_ms']:7.2f}ms {result['ratio_median']:9.1f}× {result['ratio_p95']:8.1f}×  "
              f"{result['target']} → {verdict}")


def markdown(report: dict[str, Any]) -> str:
    database, results = report["database"], report["results"]
    lines = [
        f"# Benchmarks du {report['date'][:10]} ({report['commit']}{', arbre modifié' if report['dirty'] else ''})",
        "",
        f"Machine : {report['machine']['platform']}, {report['machine']['cpus']} cœurs, Python "
        f"{report['machine']['python']}, SQLite {report['machine']['sqlite']}, charge (1 min) au départ : "
        f"{report['machine']['load_average_1min']}.",
        "",
        f"Base : {database['projects']} projets, {database['rows']['appointments']} rendez-vous, "
        f"{database['db_mb']} Mo ; construite en {database['build_seconds']} s (démo {database['demo_seconds']} s), "
        f"pic mémoire {_memory_text(database['peak_rss_mb'])}{' (base réutilisée)' if database['reused'] else ''}.",
        "",
        f"{report['runs']} mesures par charge après {WARM_UP} d'échauffement ; « brut » : les mêmes requêtes SQL "
        "rejouées avec sqlite3 sur le même fichier.",
        "",
        "| Mesure | nous médiane | nous p95 | brut médiane | brut p95 | ratio méd. | ratio p95 | cible | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, result in results.items():
        ours, raw = result["ours"], result["raw"]
        verdict = "ok" if result["met"] else "**au-delà de la cible** (" + "; ".join(result["misses"]) + ")"
        lines.append(f"| {TARGETS[name].label} | {ours['median_ms']:.2f} ms | {ours['p95_ms']:.2f} ms | "
                     f"{raw['median_ms']:.2f} ms | {raw['p95_ms']:.2f} ms | {result['ratio_median']:.1f}× | "
                     f"{result['ratio_p95']:.1f}× | {result['target']} | {verdict} |")
    lines += ["", "## Plans de requête (première entrée de chaque charge)", ""]
    for name, plans in report["plans"].items():
        for plan in plans:
            lines += [f"**{name}** : `{plan['sql'][:300]}`", "", "```", *plan["plan"], "```", ""]
    return "\n".join(lines) + "\n"


def _memory_text(peak: dict[str, float] | None) -> str:
    if not peak:
        return "non mesuré"
    return f"{peak['writer']} Mo (processus écrivain), {peak['generator']} Mo (processus générateur)"


def write_results(report: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    path = RESULTS / f"{report['date'][:10]}-{report['commit']}.md"
    path.write_text(markdown(report), encoding="utf-8")
    return path


# ---- Main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks à l'échelle (make bench).")
    parser.add_argument("--projects", type=int, default=100_000, help="projets de la base de démonstration")
    parser.add_argument("--rebuild", action="store_true", help="reconstruire la base même si elle est à jour")
    parser.add_argument("--runs", type=int, default=100, help="mesures par charge (50 au moins)")
    args = parser.parse_args(argv)
    if args.runs < 50 or args.projects < 1:
        parser.error("--runs : 50 au moins ; --projects : 1 au moins")
    logging.basicConfig(level=logging.WARNING)
    machine = _machine()
    database = ensure_database(args.projects, rebuild=args.rebuild)
    db, raw = open_database(DB_PATH, create=False), raw_connection(DB_PATH)
    try:
        results, plans = {}, {}
        for work in workloads(db, SEED):
            capture(db, work)
            results[work.name] = measure(db, raw, work, args.runs)
            plans[work.name] = query_plans(raw, work)
    finally:
        raw.close()
        db.close()
    report = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
              "commit": _git("rev-parse", "--short", "HEAD") or "local",
              "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")), "machine": machine,
              "database": database, "runs": args.runs, "derived_version": derived.DERIVED_VERSION,
              "results": results, "plans": plans}
    print()
    print_table(results)
    print(f"\nRésultats / results: {RESULTS / 'latest.json'}, {write_results(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
