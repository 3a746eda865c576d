"""The other figures of ``make bench``, each measured in its own process on the large database.

``benchmarks.run`` times the three everyday queries against raw SQLite; this script then runs the
benchmarks of the other capabilities, each in a fresh interpreter (so that a peak memory figure is
that workload's own), and writes their output to ``benchmarks/results/extras-latest.txt``:

- the synthèse PDF (a project with 60 appointments), on a scratch database;
- the XLSX export of every project of the large database (time, peak memory);
- a year of indicators on the large database (a copy of it), whole region and busiest structure;
- the desktop: first paint, search keystroke to updated list, memory after scrolling every project;
- the sync engine: capture overhead, apply and export rates; the bundle files: throughput, size, memory.

A benchmark that misses its target still has its figures recorded; the script exits 0 unless one of
them crashed.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DB = ROOT / "work" / "bench.db"
RESULTS = ROOT / "results"
TIMEOUT_S = 1800

BENCHES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Synthèse PDF / summary PDF", ("benchmarks.bench_reports",)),
    ("Export XLSX de tous les projets / XLSX export", ("benchmarks.bench_exports", str(DB))),
    ("Indicateurs d'une année / a year of indicators", ("benchmarks.bench_indicators", str(DB), "--runs", "2")),
    ("Bureau / desktop", ("benchmarks.bench_desktop", str(DB))),
    ("Synchronisation : moteur / sync engine", ("benchmarks.bench_sync", "5000")),
    ("Synchronisation : fichiers / sync bundles", ("benchmarks.bench_bundle",)),
)


def run_one(title: str, module_args: tuple[str, ...]) -> tuple[str, bool]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", *module_args], capture_output=True, text=True, cwd=ROOT.parent,
                          timeout=TIMEOUT_S, check=False)
    elapsed = time.perf_counter() - started
    crashed = done.returncode not in (0, 1)  # 1: ran, but a target was missed
    text = f"## {title} ({elapsed:.0f} s, code {done.returncode})\n\n{done.stdout.strip()}\n"
    if crashed:
        text += f"\n{done.stderr.strip()[-3000:]}\n"
    return text, crashed


def main() -> int:
    if not DB.is_file():
        print(f"{DB} manque : lancez d'abord python -m benchmarks.run", file=sys.stderr)
        return 2
    sections, failures = [f"# make bench — autres mesures / other figures, {dt.datetime.now():%Y-%m-%d %H:%M}\n"], 0
    for title, module_args in BENCHES:
        print(f"… {title}", flush=True)
        text, crashed = run_one(title, module_args)
        print(text, flush=True)
        sections.append(text)
        failures += crashed
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "extras-latest.txt").write_text("\n".join(sections), encoding="utf-8")
    print(f"Résultats / results: {RESULTS / 'extras-latest.txt'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
