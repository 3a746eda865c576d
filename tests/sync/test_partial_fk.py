"""Foreign keys after a partial sync: a copy holding references to rows still in transit (an appointment
whose permanence, from the catalogue scope, has not arrived) still opens after a schema upgrade, while a
dangling reference written locally still stops the migration."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from ess_accompagnement.store.db import Database, make_engine, open_database
from ess_accompagnement.store.migrate import alembic_config
from ess_accompagnement.sync import api
from ess_accompagnement.sync.codec import driver
from tests.sync.syncworld import A, Copies, export, new_project

NOW = "2026-01-02 00:00:00.000000"
PREVIOUS = "0003"  # the revision before head: downgrading then reopening replays a real upgrade


def _appointment_at_a_new_permanence(db: Database, pid: str) -> tuple[str, str]:
    permanence, appointment = uuid.uuid4().hex, uuid.uuid4().hex
    with db.transaction() as session:
        session.execute(text("INSERT INTO permanence(id, owner_structure_id, name, timezone, structure_ids, active, "
                             "created_at, updated_at) VALUES (:id, :s, 'Mairie de Bourges', 'Europe/Paris', '[]', 1, "
                             ":now, :now)"), {"id": permanence, "s": A, "now": NOW})
        session.execute(text("INSERT INTO appointment(id, owner_structure_id, project_id, starts_at, duration_minutes, "
                             "mode, status, permanence_id, topics, shared, created_at, updated_at) VALUES (:id, :s, "
                             ":p, :now, 60, 'permanence', 'planifie', :perm, '[]', 0, :now, :now)"),
                        {"id": appointment, "s": A, "p": pid, "perm": permanence, "now": NOW})
    return permanence, appointment


def _fk_problems(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        return [(r[0], r[2]) for r in session.execute(text("PRAGMA foreign_key_check"))]


def _upgrade_again(path: Path) -> Database:
    """What a new release does to this copy: the copy is taken back to the previous release's schema (its
    capture triggers did not know the newer columns), then the app opens it, which upgrades it."""
    engine = make_engine(path)
    try:
        with engine.begin() as connection:
            raw = driver(connection)
            for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE "
                                       "'sync_cap_person_%' OR name LIKE 'sync_cap_referral_%')").fetchall():
                raw.execute(f'DROP TRIGGER "{name}"')
            raw.execute("UPDATE local_setting SET value = 'previous release' WHERE key = 'sync_triggers_version'")
        command.downgrade(alembic_config(engine), PREVIOUS)
    finally:
        engine.dispose()
    return open_database(path)


def test_a_partially_synced_copy_opens_after_an_upgrade(copies: Copies, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a copy that received a structure's appointment but not yet the catalogue's permanence
    source, partial = copies.new("source"), copies.new("partial")
    pid = new_project(source)
    permanence, appointment = _appointment_at_a_new_permanence(source, pid)
    in_transit = [tx for tx in export(source) if tx["scope"] != "catalogue"]
    assert api.apply_transactions(partial, in_transit).applied == len(in_transit)
    assert _fk_problems(partial) == [("appointment", "permanence")]
    partial.close()
    # WHEN a new release upgrades it
    with caplog.at_level(logging.WARNING, logger="ess_accompagnement.store.migrations"):
        upgraded = _upgrade_again(partial.path)
    copies.open.append(upgraded)
    # THEN it opens, says how many references wait (no personal data), and the late permanence completes it
    assert [r.getMessage() for r in caplog.records] == [
        "foreign key check: 1 references to rows not received yet (sync in progress)"] * 2  # down, then up
    assert "Bourges" not in caplog.text and appointment not in caplog.text
    api.apply_transactions(upgraded, [tx for tx in export(source) if tx["scope"] == "catalogue"])
    assert _fk_problems(upgraded) == []


def test_a_dangling_reference_written_locally_still_stops_the_upgrade(copies: Copies) -> None:
    # GIVEN a copy whose own appointment points to a permanence that no copy ever had (local corruption)
    db = copies.new("corrupt")
    pid = new_project(db)
    _, appointment = _appointment_at_a_new_permanence(db, pid)
    with db.engine.connect() as connection:
        raw = driver(connection)
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute("UPDATE appointment SET permanence_id = ? WHERE id = ?", (uuid.uuid4().hex, appointment))
        raw.execute("PRAGMA foreign_keys=ON")
    with db.transaction() as session:  # the stray write is sealed: a local leaf, not one in transit
        api.seal(session.connection())
    assert _fk_problems(db) == [("appointment", "permanence")]
    db.close()
    # WHEN it is upgraded THEN the foreign key check refuses it, as before
    with pytest.raises(RuntimeError, match="foreign key check failed after migration: 1 rows"):
        _upgrade_again(db.path)
