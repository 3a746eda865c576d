"""Test harness: offscreen Qt, and a fresh SQLite file per test copied from a migrated template."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ess_accompagnement.store.db import Database, open_database  # noqa: E402

pytest_plugins = ["tests.worlds"]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database, migrated once per test session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    open_database(path).close()
    return path


def _open_copy(template: Path, path: Path) -> Iterator[Database]:
    shutil.copyfile(template, path)
    database = open_database(path)
    yield database
    database.close()


@pytest.fixture
def db(template_db: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated, empty database file for one test."""
    yield from _open_copy(template_db, tmp_path / "test.db")


@pytest.fixture(scope="session")
def communes_template(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with every commune loaded, built once per test session."""
    from ess_accompagnement.store.communes import load_communes

    path = tmp_path_factory.mktemp("communes_template") / "communes.db"
    shutil.copyfile(template_db, path)
    database = open_database(path)
    with database.engine.begin() as connection:
        load_communes(connection)
    database.close()
    return path


@pytest.fixture
def loaded_db(communes_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh copy of the database with every commune loaded, for one test."""
    yield from _open_copy(communes_template, tmp_path / "loaded.db")
