"""Copies of one database for sync tests: each a real SQLite file made from the migrated template."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from ess_accompagnement.domain.ids import catalogue_id
from ess_accompagnement.domain.text import sort_key
from ess_accompagnement.store.db import Database, make_engine, open_database
from ess_accompagnement.sync import api, capture, install
from ess_accompagnement.sync.codec import Tx, driver

A = catalogue_id("structure", "urscop").hex
B = catalogue_id("structure", "fa-cvl").hex


def seed_structures(db: Database) -> None:
    """Two structures (catalogue rows) written without capture: the shared baseline of every copy."""
    with db.engine.connect() as connection:
        raw = driver(connection)
        raw.execute("BEGIN IMMEDIATE")
        with capture.disabled(raw):
            for sid, name in ((A, "URSCOP"), (B, "France Active")):
                raw.execute("INSERT INTO structure(id, owner_structure_id, name, kind, support_types, phases, "
                            "former_names, active, sort_key, created_at, updated_at) VALUES (?, ?, ?, 'autre', "
                            "'[]', '[]', '[]', 1, ?, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')",
                            (sid, sid, name, name.lower()))
        raw.execute("COMMIT")


@pytest.fixture(scope="session")
def sync_template(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sync_template") / "sync.db"
    shutil.copyfile(template_db, path)
    db = open_database(path)
    seed_structures(db)
    db.close()
    return path


def open_copy(path: Path) -> Database:
    """Open an already migrated copy quickly (what open_database does, minus the migration check)."""
    engine = make_engine(path)
    # Tests do not need durability across power loss: skip fsyncs (the app keeps synchronous=FULL).
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=OFF"))
    with engine.begin() as connection:
        install.on_open(connection, path)
    db = Database(path, engine)
    install.attach(db._writer)
    return db


class Copies:
    """Opens copies of the sync template under one directory and closes them all at the end."""

    def __init__(self, template: Path, directory: Path) -> None:
        self.template, self.directory, self.open = template, directory, []  # type: list[Database]

    def new(self, name: str, structure: str | None = A) -> Database:
        path = self.directory / f"{name}.db"
        shutil.copyfile(self.template, path)
        db = open_copy(path)
        if structure is not None:
            with db.transaction() as session:
                api.bind_structure(session.connection(), structure)
        self.open.append(db)
        return db

    def close(self) -> None:
        for db in self.open:
            db.close()
        self.open = []


@pytest.fixture
def copies(sync_template: Path, tmp_path: Path) -> Iterator[Copies]:
    made = Copies(sync_template, tmp_path)
    yield made
    made.close()


def export(db: Database, structure: str | None = A, known: Any = None) -> list[Tx]:
    with db.read() as session:
        return list(api.export_transactions(session.connection(), structure_id=structure, known=known))


def transfer(source: Database, target: Database, structure: str | None = A) -> api.ApplyResult:
    with target.read() as session:
        known = api.receipt(session.connection())
    return api.apply_transactions(target, export(source, structure, known))


def new_project(db: Database, title: str = "Épicerie", owner: str = A, **extra: Any) -> str:
    pid = uuid.uuid4().hex
    cols = {"id": pid, "owner_structure_id": owner, "lead_structure_id": owner, "title": title,
            "sort_key": sort_key(title), "legal_form": "non_definie", "status": "actif", "innovation_sociale": 0,
            "esus": 0, "confidential": 0, "created_at": "2026-01-01 00:00:00.000000",
            "updated_at": "2026-01-01 00:00:00.000000", **extra}
    with db.transaction() as session:
        session.execute(text(f"INSERT INTO project({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"),
                        cols)
    return pid


def set_field(db: Database, pid: str, col: str, value: Any, table: str = "project") -> None:
    with db.transaction() as session:
        session.execute(text(f'UPDATE "{table}" SET "{col}" = :v WHERE id = :id'), {"v": value, "id": pid})


def row(db: Database, pid: str, table: str = "project") -> dict[str, Any] | None:
    with db.read() as session:
        found = session.execute(text(f'SELECT * FROM "{table}" WHERE id = :id'), {"id": pid}).mappings().first()
        return dict(found) if found else None


def conflicts(db: Database) -> list[api.ConflictRow]:
    with db.read() as session:
        return api.list_conflicts(session)
