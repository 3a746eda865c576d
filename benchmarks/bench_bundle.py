"""Benchmark: sync bundles — export and import throughput, size per 1 000 field changes, import memory.

Run ``python -m benchmarks.bench_bundle [--transactions N] [--big-mb MB]`` (also ``python benchmarks/bench_bundle.py``).

1. Export: ``--transactions`` synthetic transactions (5 field changes each, generated ids and words, as the
   engine's ``codec.py`` shapes them) written to one bundle; transactions/s, field changes/s and MB/s of JSON.
2. Import: the same bundle verified (:func:`open_bundle`: every check and a full decryption pass) then read
   (:meth:`VerifiedBundle.transactions`); the same rates.
3. Size: bytes of bundle per 1 000 field changes (compressed, encrypted, signed).
4. Memory: a bundle of ``--big-mb`` MB *on disk* is written, then imported in a fresh child process; the
   peak resident memory of that process (VmHWM, its mark reset after start-up) is reported, beside its
   size before the import.
   Target: under 300 MB for 100 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
if not __package__:  # run as « python benchmarks/bench_bundle.py »: make the package importable
    sys.path.insert(0, str(ROOT.parent))

from ess_accompagnement.sync.bundle import BundleProgress, BundleWriter, open_bundle  # noqa: E402
from ess_accompagnement.sync.keys import KeyStore, NetworkKey  # noqa: E402

TARGET_MB = 300
FIELDS_PER_TX = 5
_WORDS = ["projet", "atelier", "collectif", "coopérative", "tiers-lieu", "recyclerie", "épicerie", "jardin",
          "mobilité", "insertion", "formation", "alimentation", "culture", "habitat", "numérique", "énergie"]
_COLUMNS = ["title", "description", "status", "phase", "commune", "start_date", "budget", "notes", "owner", "sector"]


def _rss_mb() -> float:
    """Peak resident memory of this process so far: the kernel's VmHWM (``ru_maxrss`` would also count the
    parent's memory at fork time), else ``ru_maxrss`` (Linux reports kibibytes)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Reset the kernel's peak-RSS mark (Linux ≥ 4.0), so the peak measured is the import's own, not the imports'."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _value(rng: random.Random, column: str) -> Any:
    if column in ("start_date",):
        return f"20{rng.randint(18, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if column == "budget":
        return rng.randint(1_000, 500_000)
    if column in ("description", "notes"):
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 20)))
    return f"{rng.choice(_WORDS)} {rng.randint(1, 9999)}"


def synthetic_transactions(count: int | None, *, seed: int = 1) -> Iterator[dict[str, Any]]:
    """Transactions from three sites of one scope, as the engine makes them (``count=None``: endless)."""
    rng = random.Random(seed)
    sites = [f"{rng.getrandbits(128):032x}" for _ in range(3)]
    scope, seqs, i = "structure:" + f"{rng.getrandbits(128):032x}", dict.fromkeys(sites, 0), 0
    while count is None or i < count:
        site = sites[i % 3]
        seqs[site] += 1
        pk = f"{rng.getrandbits(128):032x}"
        changes = [["project", pk, col, _value(rng, col)] for col in rng.sample(_COLUMNS, FIELDS_PER_TX)]
        yield {"v": 1, "scope": scope, "site": site, "seq": seqs[site], "hlc": (1_700_000_000_000 + i) << 16,
               "deps": {s: n for s, n in seqs.items() if n}, "author": f"{rng.getrandbits(128):032x}",
               "structure": None, "schema": 2, "prev_hash": f"{rng.getrandbits(256):064x}", "changes": changes,
               "tx_hash": f"{rng.getrandbits(256):064x}"}
        i += 1


def _keys(directory: Path) -> KeyStore:
    keys = KeyStore(directory)
    if not keys.has_network_key():
        keys.set_network_key(NetworkKey.generate())
    return keys


def bench_throughput(work: Path, transactions: int) -> dict[str, Any]:
    """Export then import ``transactions`` transactions; rates and size."""
    keys, path = _keys(work / "keys"), work / "throughput.essync"
    start = time.perf_counter()
    with BundleWriter(path, keys, source_site="a" * 32, created_hlc=1, schema_version=2) as writer:
        for tx in synthetic_transactions(transactions):
            writer.add(tx)
    export_s = time.perf_counter() - start
    manifest = writer.manifest
    assert manifest is not None
    start = time.perf_counter()
    bundle = open_bundle(path, keys)
    verify_s = time.perf_counter() - start
    read = sum(1 for _ in bundle.transactions())
    import_s = time.perf_counter() - start
    assert read == transactions
    json_mb, changes = manifest.payload.uncompressed_size / 1e6, manifest.changes
    return {"transactions": transactions, "field_changes": changes, "json_mb": round(json_mb, 1),
            "file_mb": round(path.stat().st_size / 1e6, 2),
            "export_tx_s": round(transactions / export_s), "export_changes_s": round(changes / export_s),
            "export_mb_s": round(json_mb / export_s, 1), "verify_s": round(verify_s, 2),
            "import_tx_s": round(transactions / import_s), "import_changes_s": round(changes / import_s),
            "import_mb_s": round(json_mb / import_s, 1),
            "bytes_per_1000_changes": round(path.stat().st_size / changes * 1000)}


def _write_big(work: Path, megabytes: int) -> Path:
    """A bundle of about ``megabytes`` MB on disk (the writer's progress tells the size so far)."""
    keys, path, size = _keys(work / "keys"), work / "big.essync", [0]

    def track(progress: BundleProgress) -> None:
        size[0] = progress.bytes_done

    with BundleWriter(path, keys, source_site="a" * 32, created_hlc=1, schema_version=2, progress=track) as writer:
        for tx in synthetic_transactions(None, seed=2):
            writer.add(tx)
            if size[0] >= megabytes * 10**6:
                break
    return path


def _import_child(path: str, keys_dir: str) -> dict[str, Any]:
    keys = KeyStore(keys_dir)
    keys.network_key()
    _reset_peak()
    before = _rss_mb()
    start = time.perf_counter()
    bundle = open_bundle(path, keys)
    count = sum(1 for _ in bundle.transactions())
    return {"transactions": count, "seconds": round(time.perf_counter() - start, 1),
            "rss_before_mb": round(before, 1), "peak_rss_mb": round(_rss_mb(), 1),
            "json_mb": round(bundle.manifest.payload.uncompressed_size / 1e6, 1)}


def bench_memory(work: Path, megabytes: int) -> dict[str, Any]:
    """Write a ``megabytes`` MB bundle, then import it in a fresh process and report that process's peak RSS."""
    path = _write_big(work, megabytes)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        figures = pool.submit(_import_child, str(path), str(work / "keys")).result()
    figures["file_mb"] = round(path.stat().st_size / 1e6, 1)
    figures["target_mb"] = TARGET_MB
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20_000, help="transactions for the throughput runs")
    parser.add_argument("--big-mb", type=int, default=100, help="size on disk of the bundle imported for memory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as work:
        throughput = bench_throughput(Path(work), args.transactions)
        memory = bench_memory(Path(work), args.big_mb)
    t = throughput
    print(f"Export : {t['export_tx_s']:>8} tx/s  {t['export_changes_s']:>8} changements/s  {t['export_mb_s']:>6} Mo/s (JSON)")
    print(f"Import : {t['import_tx_s']:>8} tx/s  {t['import_changes_s']:>8} changements/s  {t['import_mb_s']:>6} Mo/s (JSON)"
          f"  dont vérification {t['verify_s']} s")
    print(f"Taille : {t['bytes_per_1000_changes']} octets pour 1 000 changements de champ "
          f"({t['transactions']} tx, {t['json_mb']} Mo de JSON → {t['file_mb']} Mo)")
    verdict = "dans la cible" if memory["peak_rss_mb"] < TARGET_MB else "au-delà de la cible"
    print(f"Mémoire : import d'un fichier de {memory['file_mb']} Mo ({memory['json_mb']} Mo de JSON, "
          f"{memory['transactions']} tx, {memory['seconds']} s) : pic {memory['peak_rss_mb']} Mo "
          f"(avant import {memory['rss_before_mb']} Mo ; cible < {TARGET_MB} Mo : {verdict})")
    result = {"throughput": throughput, "memory": memory}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
