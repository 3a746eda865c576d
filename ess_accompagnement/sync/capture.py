"""Change capture: SQL triggers generated from the models, guarded by ``sync_capture_enabled()``.

Every synced table (the models of ``entities.SYNCED_MODELS``) gets AFTER INSERT / UPDATE / DELETE triggers
writing one ``sync_pending`` row per field: INSERT captures every column but the key and the derived ones
(``info={"derived": True}``), UPDATE only the columns whose value changed (``OLD.c IS NOT NEW.c``), and a
physical DELETE is captured as a soft delete (``deleted_at`` = now). Local tables (commune, postal_code,
local_setting) are never captured. Like ``store/derived.py``, the triggers are derived objects: versioned
by a hash of their SQL and rebuilt by :func:`ensure` when it changes.

``sync_capture_enabled()`` is registered on every connection by ``store/db.py`` (returns 1); the apply
path re-registers it to return 0 on its own connection for the duration of its transaction
(:func:`disabled`). A connection without the function fails on write instead of writing uncaptured data.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
from collections.abc import Iterator
from functools import cache

from sqlalchemy import Table

from ess_accompagnement.domain.entities import SYNCED_MODELS

logger = logging.getLogger(__name__)

FUNCTION = "sync_capture_enabled"
_VERSION_KEY = "sync_triggers_version"
NOW_SQL = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"


def synced_tables() -> dict[str, Table]:
    return {model.__tablename__: model.__table__ for model in SYNCED_MODELS}  # type: ignore[attr-defined]


@cache
def captured_columns(table: str) -> tuple[str, ...]:
    """The columns of ``table`` that travel: neither the key nor derived ones."""
    return tuple(c.name for c in synced_tables()[table].columns if not c.primary_key and not c.info.get("derived"))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _triggers(table: str, columns: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    cols = captured_columns(table) if columns is None else columns
    t = _q(table)
    values = ", ".join(f"('{table}', NEW.id, '{c}', NEW.{_q(c)})" for c in cols)
    changed = " UNION ALL ".join(
        f"SELECT '{table}', NEW.id, '{c}', NEW.{_q(c)} WHERE OLD.{_q(c)} IS NOT NEW.{_q(c)}" for c in cols
    )
    guard = f"WHEN {FUNCTION}()"
    return [
        (f"sync_cap_{table}_ins", f"CREATE TRIGGER sync_cap_{table}_ins AFTER INSERT ON {t} FOR EACH ROW {guard} "
         f"BEGIN INSERT INTO sync_pending(tbl, pk, col, val) VALUES {values}; END"),
        (f"sync_cap_{table}_upd", f"CREATE TRIGGER sync_cap_{table}_upd AFTER UPDATE ON {t} FOR EACH ROW {guard} "
         f"BEGIN INSERT INTO sync_pending(tbl, pk, col, val) {changed}; END"),
        (f"sync_cap_{table}_del", f"CREATE TRIGGER sync_cap_{table}_del AFTER DELETE ON {t} FOR EACH ROW {guard} "
         f"BEGIN INSERT INTO sync_pending(tbl, pk, col, val) VALUES ('{table}', OLD.id, 'deleted_at', {NOW_SQL}); "
         f"END"),
    ]


@cache
def all_triggers() -> tuple[tuple[str, str], ...]:
    return tuple(t for table in sorted(synced_tables()) for t in _triggers(table))


def version() -> str:
    return hashlib.sha256("\n".join(sql for _, sql in all_triggers()).encode()).hexdigest()[:16]


def drop(raw: sqlite3.Connection) -> None:
    for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'sync_cap_%'"
                           ).fetchall():
        raw.execute(f"DROP TRIGGER IF EXISTS {_q(row[0])}")


def install(raw: sqlite3.Connection) -> None:
    drop(raw)
    for _, sql in all_triggers():
        raw.execute(sql)
    raw.execute("INSERT OR REPLACE INTO local_setting(key, value) VALUES (?, ?)", (_VERSION_KEY, version()))


def install_table(raw: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> None:
    """Hook for tests simulating another schema on one copy: rebuild ``table``'s triggers capturing exactly
    ``columns``. The stored version is left alone, so :func:`ensure` keeps them until the models change.
    Production code never calls it."""
    for name, sql in _triggers(table, columns):
        raw.execute(f"DROP TRIGGER IF EXISTS {_q(name)}")
        raw.execute(sql)


def ensure(raw: sqlite3.Connection) -> bool:
    """(Re)build the capture triggers when their version differs; True when they were rebuilt."""
    row = raw.execute("SELECT value FROM local_setting WHERE key = ?", (_VERSION_KEY,)).fetchone()
    if row is not None and row[0] == version():
        return False
    logger.info("installing sync capture triggers (version %s)", version())
    install(raw)
    return True


def _on() -> int:
    return 1


def _off() -> int:
    return 0


def register(raw: sqlite3.Connection) -> None:
    """What ``store/db.py`` does on every new connection."""
    raw.create_function(FUNCTION, 0, _on)


@contextlib.contextmanager
def disabled(raw: sqlite3.Connection) -> Iterator[None]:
    """Capture off on this connection only (the apply path writes remote values, not local edits)."""
    raw.create_function(FUNCTION, 0, _off)
    try:
        yield
    finally:
        raw.create_function(FUNCTION, 0, _on)
