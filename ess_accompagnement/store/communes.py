"""Loading the shipped list of French communes (resources/communes/communes.csv.gz) into the database.

The load is an upsert that only writes what changed, so running it again on the same file changes
no row at all and fires no trigger (``trg_commune_upd`` re-indexes the projects of a commune whose
name, EPCI or postal codes change). Communes that left the official list (merged into a commune
nouvelle) are kept with ``current = 0``, never deleted: old projects, people and permanences still
reference them. ``postal_code`` is brought to exactly the file's (postal code, commune) pairs.
"""

from __future__ import annotations

import csv
import gzip
import logging
import time
from pathlib import Path

from sqlalchemy import Connection

from ess_accompagnement.domain.queries.communes import commune_key
from ess_accompagnement.resources import resource_path

logger = logging.getLogger(__name__)

CommuneValues = tuple[str, str, str, str, int | None, str, str | None, str | None, str | None]

_UPSERT = """
INSERT INTO commune (code, name, sort_key, postal_codes, population, departement, region, epci_siren, epci_name,
                     current)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
ON CONFLICT (code) DO UPDATE SET
    name = excluded.name, sort_key = excluded.sort_key, postal_codes = excluded.postal_codes,
    population = excluded.population, departement = excluded.departement, region = excluded.region,
    epci_siren = excluded.epci_siren, epci_name = excluded.epci_name, current = 1
WHERE commune.name IS NOT excluded.name OR commune.sort_key IS NOT excluded.sort_key
    OR commune.postal_codes IS NOT excluded.postal_codes OR commune.population IS NOT excluded.population
    OR commune.departement IS NOT excluded.departement OR commune.region IS NOT excluded.region
    OR commune.epci_siren IS NOT excluded.epci_siren OR commune.epci_name IS NOT excluded.epci_name
    OR commune.current IS NOT 1
"""


def communes_file() -> Path:
    return resource_path("communes", "communes.csv.gz")


def read_communes(path: Path) -> list[CommuneValues]:
    """The rows of the gzipped CSV, as the values ``_UPSERT`` takes (empty cells become NULL)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as stream:
        return [
            (
                row["code"], row["name"], commune_key(row["name"]), row["postal_codes"],
                int(row["population"]) if row["population"] else None,
                row["departement"], row["region"] or None, row["epci_siren"] or None, row["epci_name"] or None,
            )
            for row in csv.DictReader(stream)
        ]


def load_communes(connection: Connection) -> int:
    """Bring ``commune`` and ``postal_code`` up to the shipped file, on the caller's transaction.

    Returns the number of communes in the file.
    """
    started = time.perf_counter()
    communes = read_communes(communes_file())
    connection.exec_driver_sql(_UPSERT, communes)
    retired = _retire_missing(connection, {values[0] for values in communes})
    added, removed = _sync_postal_codes(connection, communes)
    logger.info(
        "communes loaded: %d in the file, %d no longer current, postal codes +%d -%d (%.2f s)",
        len(communes), retired, added, removed, time.perf_counter() - started,
    )
    return len(communes)


def _retire_missing(connection: Connection, codes: set[str]) -> int:
    """Mark ``current = 0`` the current communes absent from the file; return how many."""
    current = {code for (code,) in connection.exec_driver_sql("SELECT code FROM commune WHERE current = 1")}
    missing = sorted(current - codes)
    if missing:
        connection.exec_driver_sql("UPDATE commune SET current = 0 WHERE code = ?", [(code,) for code in missing])
    return len(missing)


def _sync_postal_codes(connection: Connection, communes: list[CommuneValues]) -> tuple[int, int]:
    """Make ``postal_code`` hold exactly the file's pairs, touching only the differences; return (added, removed)."""
    wanted = {(postal_code, values[0]) for values in communes for postal_code in values[3].split()}
    present = {(postal_code, code) for postal_code, code in connection.exec_driver_sql(
        "SELECT postal_code, commune_code FROM postal_code")}
    stale, new = sorted(present - wanted), sorted(wanted - present)
    if stale:
        connection.exec_driver_sql("DELETE FROM postal_code WHERE postal_code = ? AND commune_code = ?", stale)
    if new:
        connection.exec_driver_sql("INSERT INTO postal_code (postal_code, commune_code) VALUES (?, ?)", new)
    return len(new), len(stale)
