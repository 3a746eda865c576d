"""Loading the shipped communes into a real SQLite file."""

from __future__ import annotations

import csv
import gzip
import time
from typing import Any

import pytest
from sqlalchemy import Connection

from ess_accompagnement.resources import resource_path
from ess_accompagnement.store.communes import load_communes
from ess_accompagnement.store.db import Database

LOAD_BUDGET_SECONDS = 5.0  # measured at about 1.2 s; the budget only catches a row-by-row regression


def file_rows() -> list[dict[str, str]]:
    with gzip.open(resource_path("communes", "communes.csv.gz"), "rt", encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def scalar(connection: Connection, sql: str, *params: Any) -> Any:
    return connection.exec_driver_sql(sql, params).scalar()


def dump(connection: Connection) -> tuple[list[Any], list[Any]]:
    communes = connection.exec_driver_sql("SELECT * FROM commune ORDER BY code").all()
    postal_codes = connection.exec_driver_sql("SELECT * FROM postal_code ORDER BY postal_code, commune_code").all()
    return communes, postal_codes


def total_changes(connection: Connection) -> int:
    raw = connection.connection.driver_connection
    assert raw is not None
    return raw.total_changes


def test_load_fills_communes_and_postal_codes(db: Database) -> None:
    # GIVEN an empty database and the shipped file
    rows = file_rows()
    pairs = sum(len(row["postal_codes"].split()) for row in rows)
    # WHEN the communes are loaded
    started = time.perf_counter()
    with db.engine.begin() as connection:
        count = load_communes(connection)
    elapsed = time.perf_counter() - started
    # THEN every commune of the file is there, current, with its postal codes, quickly
    assert count == len(rows) > 34_000
    with db.engine.connect() as connection:
        assert scalar(connection, "SELECT count(*) FROM commune") == count
        assert scalar(connection, "SELECT count(*) FROM commune WHERE current = 1") == count
        assert scalar(connection, "SELECT count(*) FROM postal_code") == pairs
    assert elapsed < LOAD_BUDGET_SECONDS


def test_centre_val_de_loire_has_its_six_departements(loaded_db: Database) -> None:
    # GIVEN the loaded communes
    with loaded_db.engine.connect() as connection:
        # WHEN the départements of région 24 are listed
        departements = {d for (d,) in connection.exec_driver_sql(
            "SELECT DISTINCT departement FROM commune WHERE region = '24'")}
    # THEN they are Cher, Eure-et-Loir, Indre, Indre-et-Loire, Loir-et-Cher and Loiret
    assert departements == {"18", "28", "36", "37", "41", "45"}


def test_tours_has_its_code_postal_code_and_epci(loaded_db: Database) -> None:
    # GIVEN the loaded communes
    with loaded_db.engine.connect() as connection:
        # WHEN Tours is read, and postal code 37000 looked up
        tours = connection.exec_driver_sql(
            "SELECT name, sort_key, departement, region, epci_name, population, current FROM commune "
            "WHERE code = '37261'").one()
        by_postal_code = [code for (code,) in connection.exec_driver_sql(
            "SELECT commune_code FROM postal_code WHERE postal_code = '37000'")]
    # THEN Tours is 37261 in Indre-et-Loire, in Tours Métropole Val de Loire, reached by 37000
    assert tours.name == "Tours"
    assert tours.sort_key == "tours"
    assert (tours.departement, tours.region) == ("37", "24")
    assert tours.epci_name == "Tours Métropole Val de Loire"
    assert tours.population > 100_000
    assert tours.current == 1
    assert by_postal_code == ["37261"]


def test_overseas_communes_are_present(loaded_db: Database) -> None:
    # GIVEN the loaded communes
    with loaded_db.engine.connect() as connection:
        # WHEN Saint-Denis de La Réunion and Ajaccio (Corse-du-Sud) are read
        saint_denis = connection.exec_driver_sql(
            "SELECT name, departement, postal_codes FROM commune WHERE code = '97411'").one()
        ajaccio = scalar(connection, "SELECT departement FROM commune WHERE code = '2A004'")
    # THEN both are there, with their département codes
    assert saint_denis.name == "Saint-Denis"
    assert saint_denis.departement == "974"
    assert "97400" in saint_denis.postal_codes.split()
    assert ajaccio == "2A"


def test_sort_keys_are_folded_words(loaded_db: Database) -> None:
    # GIVEN the loaded communes
    with loaded_db.engine.connect() as connection:
        # WHEN the search keys of names with hyphens, apostrophes, accents and ligatures are read
        keys = dict(connection.exec_driver_sql(
            "SELECT code, sort_key FROM commune WHERE code IN ('18197', '01001', '51410', '36044')").all())
    # THEN they are lower-case words without accents, joined by single spaces
    assert keys == {
        "18197": "saint amand montrond",
        "01001": "l abergement clemenciat",
        "51410": "oeuilly",
        "36044": "chateauroux",
    }


def test_second_load_changes_nothing(loaded_db: Database) -> None:
    # GIVEN a database where the communes are already loaded
    with loaded_db.engine.connect() as connection:
        before = dump(connection)
    # WHEN the same file is loaded again
    with loaded_db.engine.begin() as connection:
        changes_before = total_changes(connection)
        count = load_communes(connection)
        changes = total_changes(connection) - changes_before
    # THEN no row was inserted, updated or deleted (so no trigger fired), and the tables are identical
    assert count == len(before[0])
    assert changes == 0
    with loaded_db.engine.connect() as connection:
        assert dump(connection) == before


def test_only_changed_communes_are_updated(loaded_db: Database) -> None:
    # GIVEN Tours renamed and moved out of its EPCI in the database, and a probe counting commune updates
    with loaded_db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE commune SET name = 'Tours-Ancien', epci_name = NULL WHERE code = '37261'")
    with loaded_db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TEMP TABLE updated (code TEXT)")
        connection.exec_driver_sql(
            "CREATE TEMP TRIGGER probe AFTER UPDATE ON main.commune BEGIN INSERT INTO updated VALUES (NEW.code); END")
        # WHEN the file is loaded again
        load_communes(connection)
        updated = [code for (code,) in connection.exec_driver_sql("SELECT code FROM updated")]
        tours = connection.exec_driver_sql("SELECT name, epci_name FROM commune WHERE code = '37261'").one()
    # THEN only Tours was updated, back to the file's values
    assert updated == ["37261"]
    assert tuple(tours) == ("Tours", "Tours Métropole Val de Loire")


def test_commune_missing_from_the_file_is_kept_not_current(loaded_db: Database) -> None:
    # GIVEN a commune the file does not have (merged away since), with a postal code
    with loaded_db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO commune (code, name, sort_key, postal_codes, population, departement, region, current) "
            "VALUES ('37999', 'Ancienne-Commune', 'ancienne commune', '37998', 120, '37', '24', 1)")
        connection.exec_driver_sql("INSERT INTO postal_code (postal_code, commune_code) VALUES ('37998', '37999')")
    # WHEN the file is loaded
    with loaded_db.engine.begin() as connection:
        count = load_communes(connection)
    # THEN the commune is still there, no longer current; its postal code is gone; the others are untouched
    with loaded_db.engine.connect() as connection:
        kept = connection.exec_driver_sql("SELECT name, current FROM commune WHERE code = '37999'").one()
        assert tuple(kept) == ("Ancienne-Commune", 0)
        assert scalar(connection, "SELECT count(*) FROM postal_code WHERE commune_code = '37999'") == 0
        assert scalar(connection, "SELECT count(*) FROM commune WHERE current = 1") == count
        assert scalar(connection, "SELECT count(*) FROM commune") == count + 1


def test_commune_back_in_the_file_is_current_again(loaded_db: Database) -> None:
    # GIVEN Tours marked as no longer current
    with loaded_db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE commune SET current = 0 WHERE code = '37261'")
    # WHEN the file, which has Tours, is loaded
    with loaded_db.engine.begin() as connection:
        load_communes(connection)
    # THEN Tours is current again
    with loaded_db.engine.connect() as connection:
        assert scalar(connection, "SELECT current FROM commune WHERE code = '37261'") == 1


def test_load_does_not_commit_the_callers_transaction(loaded_db: Database) -> None:
    # GIVEN a transaction that loads the file, renames Tours and then fails
    with pytest.raises(RuntimeError), loaded_db.engine.begin() as connection:
        load_communes(connection)
        connection.exec_driver_sql("UPDATE commune SET name = 'Rollback' WHERE code = '37261'")
        raise RuntimeError("the caller fails after the load")
    # WHEN the database is read afterwards
    with loaded_db.engine.connect() as connection:
        name = scalar(connection, "SELECT name FROM commune WHERE code = '37261'")
    # THEN nothing of that transaction was kept
    assert name == "Tours"
