"""Wiring the engine into a database: at open (triggers, site, baseline) and on every commit (seal)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from ess_accompagnement.sync import capture, seal, site
from ess_accompagnement.sync.codec import driver

logger = logging.getLogger(__name__)


def on_open(connection: Connection, db_path: Path | None) -> site.Site:
    """Install or upgrade the capture triggers, create or rotate the site, seal a baseline if needed."""
    raw = driver(connection)
    capture.ensure(raw)
    first = raw.execute("SELECT count(*) FROM sync_site").fetchone()[0] == 0
    current = site.ensure(raw, db_path)
    if first:
        _baseline(raw)
    seal.seal_raw(raw)  # anything a stray writer left unsealed
    return current


def _baseline(raw: sqlite3.Connection) -> None:
    """Rows that existed before the engine (a database from before migration 0002) travel as creations."""
    for table in sorted(capture.synced_tables()):
        _baseline_table(raw, table, capture.captured_columns(table))


def _baseline_table(raw: sqlite3.Connection, table: str, cols: tuple[str, ...]) -> None:
    if raw.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is None:
        return
    logger.info("sync baseline for %s", table)
    for col in cols:
        raw.execute(f"INSERT INTO sync_pending(tbl, pk, col, val) SELECT '{table}', id, '{col}', \"{col}\" "
                    f'FROM "{table}"')


def attach(sessionmaker_or_session: object) -> None:
    """Seal before every commit of sessions made by this sessionmaker (``Database.transaction()``)."""
    event.listen(sessionmaker_or_session, "before_commit", _before_commit)


def _before_commit(session: Session) -> None:
    session.flush()
    seal.seal(session.connection())
