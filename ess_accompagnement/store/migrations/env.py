"""Alembic environment: the app's engine (same pragmas), batch mode for SQLite, derived tables ignored."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from ess_accompagnement.domain import entities
from ess_accompagnement.store import derived

config = context.config
target_metadata = entities.Base.metadata


def include_name(name, type_, parent_names):  # noqa: ARG001 - Alembic's hook signature
    """Leave the derived tables (search index, project state) to store/derived.py."""
    if type_ == "table":
        return not derived.is_derived_table(name)
    return True


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
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        if problems:
            raise RuntimeError(f"foreign key check failed after migration: {len(problems)} rows")


run_migrations_online()
