"""The SQLite store: pragmas, transactions, migrations matching the models, deferred foreign keys."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc, func, select, text

from ess_accompagnement.domain.codes import StructureKind
from ess_accompagnement.domain.entities import SYNCED_MODELS, Base, Structure
from ess_accompagnement.domain.ids import new_id
from ess_accompagnement.store import derived, migrate
from ess_accompagnement.store.db import MAPPED_READ_BYTES, Database, make_engine, memory_mapped, open_database


def test_pragmas_on_every_connection(db: Database) -> None:
    with db.read() as session:
        values = {name: session.execute(text(f"PRAGMA {name}")).scalar()
                  for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")}
    assert values == {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 2, "busy_timeout": 5000}


def test_a_long_read_is_memory_mapped_then_the_map_is_dropped(db: Database) -> None:
    # GIVEN a read WHEN a long read runs under memory_mapped THEN the file is mapped during it, not after
    with db.read() as session:
        assert session.execute(text("PRAGMA mmap_size")).scalar() == 0
        tables = session.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
        with memory_mapped(session):
            assert session.execute(text("PRAGMA mmap_size")).scalar() == MAPPED_READ_BYTES
            assert session.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one() == tables > 0
        assert session.execute(text("PRAGMA mmap_size")).scalar() == 0
        with pytest.raises(RuntimeError), memory_mapped(session):  # even when the read fails
            raise RuntimeError("boom")
        assert session.execute(text("PRAGMA mmap_size")).scalar() == 0


def test_upgrade_of_an_empty_database_reaches_head(tmp_path: Path) -> None:
    # GIVEN an empty file WHEN it is opened THEN every migration ran and the derived tables exist
    database = open_database(tmp_path / "new.db")
    try:
        assert migrate.current_revision(database.engine) == migrate.head_revision()
        with database.read() as session:
            tables = set(session.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars())
        assert {"project", "referral", "search_fts", "project_state", "alembic_version"} <= tables
    finally:
        database.close()


def test_models_match_the_migrations(db: Database) -> None:
    # GIVEN a database migrated to head WHEN Alembic compares it with the models THEN there is nothing to do
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_name": lambda name, type_, _parents: not (
                type_ == "table" and derived.is_derived_table(name))},
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_synced_tables_have_no_unique_constraint_but_the_key(db: Database) -> None:
    with db.read() as session:
        for model in SYNCED_MODELS:
            table = model.__tablename__
            indexes = session.execute(text(f"PRAGMA index_list('{table}')")).all()
            unique = [row.name for row in indexes if row.unique and row.origin != "pk"]
            assert unique == [], f"{table} has unique indexes {unique}"
            columns = {c.name for c in model.__table__.columns}
            assert {"id", "owner_structure_id", "deleted_at", "created_at", "updated_at"} <= columns


def test_a_failed_transaction_writes_nothing(db: Database) -> None:
    sid = new_id()
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.add(Structure(id=sid, owner_structure_id=sid, name="Structure test", kind=StructureKind.AUTRE,
                              sort_key="structure test"))
        session.flush()
        raise RuntimeError("boom")
    with db.read() as session:
        assert session.get(Structure, sid) is None


def test_foreign_keys_are_checked_at_commit_not_per_statement(db: Database) -> None:
    # GIVEN a structure owned by a structure inserted later in the same transaction: accepted (deferred)
    first, second = new_id(), new_id()
    with db.transaction() as session:
        session.add(Structure(id=first, owner_structure_id=second, name="A", kind=StructureKind.AUTRE, sort_key="a"))
        session.flush()
        session.add(Structure(id=second, owner_structure_id=second, name="B", kind=StructureKind.AUTRE,
                              sort_key="b"))
    # WHEN a reference points nowhere THEN the commit fails and nothing is written
    dangling = new_id()
    with pytest.raises(exc.IntegrityError), db.transaction() as session:
        session.add(Structure(id=dangling, owner_structure_id=uuid.uuid4(), name="C", kind=StructureKind.AUTRE,
                              sort_key="c"))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Structure)) == 2


def test_two_writers_queue_instead_of_failing(tmp_path: Path, template_db: Path) -> None:
    # GIVEN two engines on the same file, one holding a write transaction
    import shutil

    path = tmp_path / "shared.db"
    shutil.copyfile(template_db, path)
    first, second = open_database(path), make_engine(path)
    try:
        with first.transaction() as session:
            session.execute(text("INSERT INTO local_setting(key, value) VALUES ('a', '1')"))
            # WHEN another connection reads meanwhile THEN it sees the last committed state (WAL)
            with second.connect() as other:
                assert other.execute(text("SELECT count(*) FROM local_setting WHERE key='a'")).scalar() == 0
    finally:
        first.close()
        second.dispose()
