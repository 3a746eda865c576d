"""Opening the database: SQLite pragmas, real transactions, migrations, derived tables.

Every use case runs inside ``Database.transaction()``: one SQLite transaction, begun IMMEDIATE (so
two writers queue instead of failing half-way), committed when the block ends, rolled back on any
exception. Reads use ``Database.read()``, a deferred transaction that is always rolled back.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ess_accompagnement.domain.errors import UserFacingError

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
PRAGMAS = (
    "foreign_keys=ON",
    "journal_mode=WAL",
    "synchronous=FULL",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
    "temp_store=MEMORY",
    "cache_size=-32000",
)


def make_engine(path: Path | str) -> Engine:
    """An engine on the SQLite file at ``path`` with the app's pragmas and real BEGINs.

    pysqlite's legacy transaction handling skips BEGIN before SELECT and DDL, which breaks
    savepoints and lets DDL escape a rollback; SQLAlchemy's documented recipe is to switch the driver
    to autocommit and emit BEGIN ourselves (ecosystem.md §2.2.2).
    """
    # hide_parameters: SQL errors must never carry holders' data into logs or crash dialogs.
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # Sync capture triggers run only WHEN sync_capture_enabled(); the sync apply path turns it off.
        dbapi_connection.create_function("sync_capture_enabled", 0, _capture_enabled)
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


# SQLite's default ceiling for a memory map (SQLITE_MAX_MMAP_SIZE): a bigger request is cut to it.
MAPPED_READ_BYTES = 0x7FFF0000


@contextlib.contextmanager
def memory_mapped(session: Session) -> Iterator[None]:
    """For one long read of much of the file (a year of indicators), read pages through a memory map.

    Pages are then used where they lie instead of being copied into the 32 MB page cache, which such a
    read overflows many times: about 10 % faster on the 100 000-project benchmark database. The map is
    dropped afterwards, so the app's memory stays bounded by the page cache the rest of the time.
    """
    connection = session.connection()
    before = connection.exec_driver_sql("PRAGMA mmap_size").scalar() or 0
    connection.exec_driver_sql(f"PRAGMA mmap_size={MAPPED_READ_BYTES}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA mmap_size={int(before)}")


def _capture_enabled() -> int:
    return 1


class Database:
    """One database file, opened, migrated and ready for use cases."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self._writer = sessionmaker(bind=engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False)
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One use case: everything in the block commits together, or nothing does."""
        session = self._writer()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only view of the database, consistent for the whole block."""
        session = self._reader()
        try:
            yield session
        finally:
            session.close()  # ends the transaction without expiring what was read

    def close(self) -> None:
        self.engine.dispose()


def open_database(path: Path | str, *, create: bool = True) -> Database:
    """Open the database at ``path``, creating it if asked, and bring its schema up to date."""
    from ess_accompagnement.store import derived, migrate
    from ess_accompagnement.sync import install as sync_install

    path = Path(path)
    if not path.exists():
        if not create:
            raise UserFacingError(
                f"Aucune base de données à l'emplacement {path}. Créez-la avec « ess-acc init ».", field="db"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(path)
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            derived.ensure(connection)
            sync_install.on_open(connection, path)
    except sqlite3.DatabaseError as exc:  # pragma: no cover - depends on a damaged file
        engine.dispose()
        raise UserFacingError(f"Le fichier {path} n'est pas une base ESS Accompagnement lisible.", field="db") from exc
    logger.debug("database opened")
    database = Database(path, engine)
    sync_install.attach(database._writer)  # seal captured changes before every use case commits
    sync_install.after_open(database)  # fields a migration added, transactions parked for this version
    return database
