"""Build ``resources/communes/communes.csv.gz`` from the npm package ``@etalab/decoupage-administratif``.

A maintainer runs this once a year, when Etalab publishes the new vintage (millésime) of the
Code officiel géographique; the application never runs it. It needs ``npm`` and the npm registry::

    python tools/build_communes.py                  # version 6.0.0 (COG 2026)
    python tools/build_communes.py --version 6.1.0  # a later release

It keeps only current communes (``type == "commune-actuelle"``): the arrondissements municipaux of
Paris, Lyon and Marseille and the communes déléguées / associées are parts of a current commune,
not communes, and some of them share their INSEE code with it (see resources/communes/SOURCES.md).
The output is sorted by INSEE code and gzipped with mtime=0, so the same input gives the same bytes.
After a run, update the version, vintage and counts in resources/communes/SOURCES.md.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import logging
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PACKAGE = "@etalab/decoupage-administratif"
DEFAULT_VERSION = "6.0.0"
OUTPUT = Path(__file__).resolve().parent.parent / "resources" / "communes" / "communes.csv.gz"
COLUMNS = ("code", "name", "postal_codes", "population", "departement", "region", "epci_siren", "epci_name")
CURRENT_TYPE = "commune-actuelle"
DATA_FILES = ("communes", "epci", "departements", "regions")
MIN_COMMUNES = 30_000  # France has about 35 000 communes: fewer means the package changed shape

Row = dict[str, str]


def download(version: str, workdir: Path) -> Path:
    """``npm pack`` the package into ``workdir`` and return the tarball's path."""
    command = ["npm", "pack", f"{PACKAGE}@{version}", "--json", "--silent"]
    logger.info("running %s", " ".join(command))
    result = subprocess.run(command, cwd=workdir, check=True, capture_output=True, text=True)
    filename = json.loads(result.stdout)[0]["filename"]
    return workdir / filename


def read_package(tarball: Path) -> dict[str, Any]:
    """The package's manifest and data files, read from the tarball without extracting it to disk."""
    contents: dict[str, Any] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for name, member in [("package", "package/package.json")] + [
            (name, f"package/data/{name}.json") for name in DATA_FILES
        ]:
            stream = tar.extractfile(member)
            if stream is None:
                raise SystemExit(f"{member} is not a regular file in {tarball.name}")
            with stream:
                contents[name] = json.load(stream)
    return contents


def epci_by_commune(epcis: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The EPCI à fiscalité propre each member commune (by INSEE code) belongs to."""
    membership: dict[str, dict[str, Any]] = {}
    for epci in epcis:
        for member in epci["membres"]:
            if member["code"] in membership:
                raise SystemExit(f"commune {member['code']} is in two EPCI")
            membership[member["code"]] = epci
    return membership


def to_row(commune: dict[str, Any], epci: dict[str, Any] | None) -> Row:
    population = commune.get("population")
    return {
        "code": commune["code"],
        "name": commune["nom"],
        "postal_codes": " ".join(sorted(set(commune.get("codesPostaux") or []))),
        "population": "" if population is None else str(int(population)),
        "departement": commune["departement"],
        "region": commune.get("region") or "",
        "epci_siren": epci["code"] if epci else "",
        "epci_name": epci["nom"] if epci else "",
    }


def build_rows(data: dict[str, Any]) -> list[Row]:
    """One row per current commune, sorted by INSEE code."""
    membership = epci_by_commune(data["epci"])
    communes = [c for c in data["communes"] if c["type"] == CURRENT_TYPE]
    rows = sorted((to_row(c, membership.get(c["code"])) for c in communes), key=lambda row: row["code"])
    check(rows, data)
    return rows


def check(rows: list[Row], data: dict[str, Any]) -> None:
    """Refuse to write a file that does not look like the communes of France."""
    codes = [row["code"] for row in rows]
    if len(set(codes)) != len(codes):
        raise SystemExit("duplicate INSEE codes among current communes")
    if len(rows) < MIN_COMMUNES:
        raise SystemExit(f"only {len(rows)} current communes: has the package changed shape?")
    departements = {d["code"] for d in data["departements"]}
    regions = {r["code"] for r in data["regions"]}
    unknown = {row["departement"] for row in rows} - departements
    unknown |= {row["region"] for row in rows} - regions
    if unknown:
        raise SystemExit(f"unknown département/région codes: {sorted(unknown)}")


def write_csv(rows: list[Row], path: Path) -> None:
    """Write ``rows`` as a reproducible gzipped CSV (UTF-8, "\\n" line ends, no name nor date in the header)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        gz.write(buffer.getvalue().encode("utf-8"))


def summarize(data: dict[str, Any], rows: list[Row], path: Path) -> None:
    """Print the counts SOURCES.md quotes."""
    types = Counter(c["type"] for c in data["communes"])
    print(f"{PACKAGE}@{data['package']['version']}: {len(data['communes'])} entries in communes.json")
    for kind, count in sorted(types.items()):
        print(f"  {kind}: {count}")
    print(f"written: {len(rows)} communes, {sum(1 for r in rows if r['epci_siren'])} in an EPCI, "
          f"{sum(1 for r in rows if not r['population'])} without population, "
          f"{sum(1 for r in rows if not r['postal_codes'])} without postal code, "
          f"{sum(len(r['postal_codes'].split()) for r in rows)} (postal code, commune) pairs")
    print(f"{path} ({path.stat().st_size} bytes)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build resources/communes/communes.csv.gz from " + PACKAGE)
    parser.add_argument("--version", default=DEFAULT_VERSION, help=f"package version (default {DEFAULT_VERSION})")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the gzipped CSV")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    with tempfile.TemporaryDirectory(prefix="communes-") as workdir:
        data = read_package(download(args.version, Path(workdir)))
    if data["package"]["version"] != args.version:
        raise SystemExit(f"npm gave version {data['package']['version']}, not {args.version}")
    rows = build_rows(data)
    write_csv(rows, args.output)
    summarize(data, rows, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
