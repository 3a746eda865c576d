"""Alembic environment: the app's engine (same pragmas), batch mode for SQLite, derived tables ignored."""

from __future__ import annotations

import logging

from alembic import context
from sqlalchemy import Connection, text

from ess_accompagnement.domain import entities
from ess_accompagnement.store import derived

logger = logging.getLogger("ess_accompagnement.store.migrations")

config = context.config
target_metadata = entities.Base.metadata


def include_name(name, type_, parent_names):  # noqa: ARG001 - Alembic's hook signature
    """Leave the derived tables (search index, project state) to store/derived.py."""
    if type_ == "table":
        return not derived.is_derived_table(name)
    return True


def _in_transit(connection: Connection, table: str, rowid: int | None, _parent: str, fkid: int) -> bool:
    """Is this foreign key violation a reference to a row sync has not delivered yet?

    The sync engine applies remote changes with foreign keys off: a row of one scope may reference a row
    of another scope (an appointment's permanence, from the catalogue) that has not arrived. Such a
    violation (the referenced row is absent) is tolerated when the referencing column's current value came
    from another copy: a leaf holding that value, written by a site that is not one of this database's.
    Anything else, such as a dangling reference written locally, is corruption and still stops the
    migration."""
    if rowid is None or not _has_sync_tables(connection):
        return False
    if "id" not in {row[1] for row in connection.exec_driver_sql(f'PRAGMA table_info("{table}")')}:
        return False
    refs = [row[3] for row in connection.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")') if row[0] == fkid]
    if not refs:
        return False
    selected = ", ".join(["id", *(f'"{col}"' for col in refs)])
    found = connection.exec_driver_sql(f'SELECT {selected} FROM "{table}" WHERE rowid = ?', (rowid,)).first()
    if found is None:
        return False
    return all(connection.exec_driver_sql(
        "SELECT 1 FROM sync_fv WHERE tbl = ? AND pk = ? AND col = ? AND val IS ? AND site NOT IN "
        "(SELECT site_id FROM sync_site) LIMIT 1", (table, found[0], col, value)).first() is not None
        for col, value in zip(refs, found[1:], strict=True))


def _has_sync_tables(connection: Connection) -> bool:
    found = connection.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                       "('sync_fv', 'sync_site')").scalar()
    return found == 2


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # command-line use: alembic -x db=path
        from ess_accompagnement.store.db import make_engine

        engine = make_engine(context.get_x_argument(as_dictionary=True)["db"])
    with engine.connect() as connection:
        # Batch migrations copy tables: foreign keys must be off outside the transaction.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
            compare_type=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        problems = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
        genuine = [p for p in problems if not _in_transit(connection, *p)]
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        if genuine:
            raise RuntimeError(f"foreign key check failed after migration: {len(genuine)} rows")
        if problems:
            logger.warning("foreign key check: %d references to rows not received yet (sync in progress)",
                           len(problems))


run_migrations_online()
