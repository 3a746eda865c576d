"""Wiring the engine into a database: at open (triggers, site, baseline), after open (schema upgrade, parked
transactions) and on every commit (seal)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from ess_accompagnement.sync import apply, capture, seal, site
from ess_accompagnement.sync.codec import driver

if TYPE_CHECKING:
    from ess_accompagnement.store.db import Database

logger = logging.getLogger(__name__)


BASELINE_KEY = "sync_baseline_pending"
"""Set (local_setting) while rows written without capture still have to be sealed (``run_baseline``)."""
BASELINE_CHUNK = 2000
"""Rows sealed at a time by the baseline: memory stays bounded whatever the size of the database."""


def on_open(connection: Connection, db_path: Path | None) -> site.Site:
    """Install or upgrade the capture triggers, create or rotate the site, note a baseline if needed."""
    raw = driver(connection)
    capture.ensure(raw)
    first = raw.execute("SELECT count(*) FROM sync_site").fetchone()[0] == 0
    current = site.ensure(raw, db_path)
    if first and _has_rows(raw):
        mark_baseline_pending(raw)
    seal.seal_raw(raw)  # anything a stray writer left unsealed
    return current


def after_open(db: Database) -> apply.ApplyResult:
    """Finish opening, outside the open transaction (the apply path needs foreign keys off): project the
    fields a migration just added from the leaves kept for them (no change is emitted), and apply the
    transactions parked for a newer schema once this version of the app can read them. A no-op (a few
    reads) when there is nothing to do; every import does the same before applying anything."""
    fairy = db.engine.raw_connection()
    try:
        raw = fairy.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        result = apply.resume_raw(raw)
    finally:
        fairy.close()
    if result.applied:
        logger.info("%d parked transaction(s) applied after opening", result.applied)
    return result


def mark_baseline_pending(raw: sqlite3.Connection) -> None:
    """Rows exist that capture never saw (a database from before 0002, a bulk load with capture off).

    Sealing them is deferred to the first exchange (``run_baseline``): a copy that never syncs never
    pays for it, and opening a large old database stays instant.
    """
    raw.execute("INSERT OR REPLACE INTO local_setting(key, value) VALUES (?, '1')", (BASELINE_KEY,))


def baseline_pending(raw: sqlite3.Connection) -> bool:
    return raw.execute("SELECT 1 FROM local_setting WHERE key = ?", (BASELINE_KEY,)).fetchone() is not None


def run_baseline(raw: sqlite3.Connection, *, chunk: int = BASELINE_CHUNK) -> int:
    """Seal every existing row as a creation, ``chunk`` rows at a time, in the caller's transaction."""
    if not baseline_pending(raw):
        return 0
    sealed = 0
    for table in sorted(capture.synced_tables()):
        sealed += _baseline_table(raw, table, capture.captured_columns(table), chunk)
    raw.execute("DELETE FROM local_setting WHERE key = ?", (BASELINE_KEY,))
    logger.info("sync baseline: %d rows sealed", sealed)
    return sealed


def _has_rows(raw: sqlite3.Connection) -> bool:
    return any(raw.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None
               for table in capture.synced_tables())


def _baseline_table(raw: sqlite3.Connection, table: str, cols: tuple[str, ...], chunk: int) -> int:
    columns = ", ".join(f"\"{col}\"" for col in cols)
    last, count = None, 0
    while True:
        where, params = ("WHERE id > ?", (last,)) if last is not None else ("", ())
        rows = raw.execute(f'SELECT id, {columns} FROM "{table}" {where} ORDER BY id LIMIT {chunk}', params).fetchall()
        if not rows:
            return count
        raw.executemany("INSERT INTO sync_pending(tbl, pk, col, val) VALUES (?, ?, ?, ?)",
                        [(table, row[0], col, value) for row in rows for col, value in zip(cols, row[1:], strict=True)])
        seal.seal_raw(raw)
        last, count = rows[-1][0], count + len(rows)


def attach(sessionmaker_or_session: object) -> None:
    """Seal before every commit of sessions made by this sessionmaker (``Database.transaction()``)."""
    event.listen(sessionmaker_or_session, "before_commit", _before_commit)


def _before_commit(session: Session) -> None:
    session.flush()
    seal.seal(session.connection())
