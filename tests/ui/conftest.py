"""UI test fixtures: a demo database built once per session, and per-test QSettings in a temp dir."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication

from ess_accompagnement.store.db import Database, open_database
from ess_accompagnement.ui.context import AppContext, for_owner

DEMO_PROJECTS = 120
DEMO_TODAY = date(2026, 3, 15)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database of DEMO_PROJECTS projects, generated once per session (never opened by tests)."""
    from ess_accompagnement.demo import generate_demo
    from ess_accompagnement.store.setup import initialise

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    db = open_database(path)
    try:
        initialise(db, advisor_name="Conseillère test", structure="cress-cvl")
        generate_demo(db, projects=DEMO_PROJECTS, seed=1, today=DEMO_TODAY)
    finally:
        db.close()
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A private copy of the demo database, opened for one test."""
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    database = open_database(path, create=False)
    yield database
    database.close()


@pytest.fixture(autouse=True)
def ui_settings(qapp: QApplication, tmp_path: Path) -> Iterator[Path]:  # noqa: ARG001 - QApplication first
    """QSettings (INI, as the app uses) written under the test's temp dir, never the user's profile."""
    directory = tmp_path / "settings"
    QCoreApplication.setOrganizationName("ESS Accompagnement tests")
    QCoreApplication.setApplicationName("ui-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(directory))
    yield directory
    QSettings().clear()


@pytest.fixture
def ui_ctx(demo_db: Database) -> Iterator[AppContext]:
    """The desktop's context on a private demo copy, acting as its owner advisor, on DEMO_TODAY."""
    ctx = for_owner(demo_db, today=lambda: DEMO_TODAY)
    yield ctx
    ctx.tasks.wait_idle()
    ctx.close()


@pytest.fixture
def busy_ctx(demo_db: Database) -> Iterator[AppContext]:
    """The desktop's context acting as the demo advisor with the most recent appointments (real work to show)."""
    from ess_accompagnement.domain.queries.home import busiest_advisor

    with demo_db.read() as session:
        advisor_id = busiest_advisor(session, DEMO_TODAY)
    assert advisor_id is not None
    ctx = AppContext(demo_db, advisor_id, today=lambda: DEMO_TODAY)
    yield ctx
    ctx.tasks.wait_idle()
    ctx.close()
