"""Rows written without capture (a demo, a database from before sync) are sealed at the first exchange, in chunks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ess_accompagnement.demo import generate_demo
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.store.db import open_database
from ess_accompagnement.store.setup import initialise
from ess_accompagnement.sync import exchange
from ess_accompagnement.sync import install as sync_install
from ess_accompagnement.sync.codec import driver


def test_a_demo_is_sealed_at_the_first_exchange_a_chunk_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a demo database of one structure: its rows were bulk-loaded with capture off
    db = open_database(tmp_path / "demo.db")
    try:
        initialise(db, advisor_name="Conseillère test", structure="urscop")
        generate_demo(db, projects=15, seed=3, today=dt.date(2026, 3, 15))
        with db.read() as session:
            raw = driver(session.connection())
            assert sync_install.baseline_pending(raw)
            assert raw.execute("SELECT count(*) FROM sync_fv WHERE tbl = 'project'").fetchone() == (0,)
        # WHEN the copy is bound for its first exchange, sealing 7 rows at a time
        monkeypatch.setattr(sync_install, "BASELINE_CHUNK", 7)
        with db.transaction() as session:
            raw = driver(session.connection())
            sealed = sync_install.run_baseline(raw, chunk=7)
        # THEN every project field now has its version, and the baseline is not pending any more
        with db.read() as session:
            raw = driver(session.connection())
            projects = raw.execute("SELECT count(*) FROM project").fetchone()[0]
            projects_with_title = raw.execute(
                "SELECT count(DISTINCT pk) FROM sync_fv WHERE tbl = 'project' AND col = 'title'").fetchone()[0]
            assert not sync_install.baseline_pending(raw)
        assert sealed > projects and projects_with_title == projects
    finally:
        db.close()


def test_a_fresh_database_has_no_baseline_to_do(tmp_path: Path) -> None:
    db = open_database(tmp_path / "fresh.db")
    try:
        with db.read() as session:
            assert not sync_install.baseline_pending(driver(session.connection()))
        assert exchange.keystore_for(tmp_path / "fresh.db") is not None
    finally:
        db.close()


def test_a_regional_demo_cannot_be_bound_to_one_structure(tmp_path: Path) -> None:
    # GIVEN a demo database: projects of every structure of the region, none sealed yet
    db = open_database(tmp_path / "demo.db")
    try:
        initialise(db, advisor_name="Conseillère test", structure="urscop")
        generate_demo(db, projects=15, seed=3, today=dt.date(2026, 3, 15))
        # WHEN it is bound for a first exchange THEN it is refused in plain French, and stays unbound
        with pytest.raises(UserFacingError, match="plusieurs structures"):
            exchange.ensure_bound(db)
        with db.read() as session:
            assert sync_install.baseline_pending(driver(session.connection()))
    finally:
        db.close()
