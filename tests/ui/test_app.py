"""app.py: creating a missing database, options, logging, crash hook, Qt translation (no event loop)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from ess_accompagnement import app
from ess_accompagnement.domain.entities import Project
from ess_accompagnement.domain.queries.projects import ProjectFilter, count_projects
from ess_accompagnement.store.db import Database


def test_ensure_database_creates_a_demo_database(tmp_path: Path) -> None:
    # GIVEN no database file
    path = tmp_path / "sub" / "new.db"
    # WHEN the app ensures it exists, with a tiny demo
    db = app.ensure_database(path, demo_projects=4)
    # THEN the file holds the demo projects, and no temporary file is left behind
    try:
        with db.read() as session:
            assert count_projects(session, ProjectFilter()) == 4
    finally:
        db.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["new.db"]


def test_ensure_database_opens_an_existing_file_as_is(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    app.ensure_database(path, demo_projects=2).close()

    db = app.ensure_database(path, demo_projects=50)

    with db.read() as session:
        assert count_projects(session, ProjectFilter()) == 2
    db.close()


def test_failed_creation_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("ess_accompagnement.demo.generate_demo", broken)
    path = tmp_path / "db" / "new.db"

    with pytest.raises(RuntimeError, match="boom"):
        app.ensure_database(path, demo_projects=3)

    assert list(path.parent.iterdir()) == []


def test_parse_args_keeps_qt_options(tmp_path: Path) -> None:
    args, rest = app.parse_args(["--db", str(tmp_path / "x.db"), "--demo-projects", "12", "-style", "fusion"])

    assert (args.db, args.demo_projects, rest) == (tmp_path / "x.db", 12, ["-style", "fusion"])


def test_parse_args_defaults() -> None:
    args, rest = app.parse_args([])

    assert (args.db, args.demo_projects, args.debug, rest) == (None, 300, False, [])
    assert (args.screenshot, args.view, args.today, args.measure_startup) == (None, None, None, False)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield app.setup_logging(tmp_path / "logs")
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_excepthook_logs_at_critical_and_shows_the_log_path(log_file: Path, monkeypatch: pytest.MonkeyPatch,
                                                           qapp: QApplication) -> None:
    # GIVEN the crash dialog replaced by a recorder
    shown: list[tuple[str, Path]] = []
    monkeypatch.setattr(app, "show_crash_dialog", lambda details, path: shown.append((details, path)))
    hook = app.make_excepthook(log_file)
    # WHEN an uncaught exception reaches the hook
    try:
        raise ValueError("unexpected state")
    except ValueError:
        hook(*sys.exc_info())
    # THEN it is logged at critical in the rotating file, and the dialog gets the traceback and the path
    assert assert_logged(log_file, "CRITICAL", "ValueError: unexpected state")
    assert len(shown) == 1 and "ValueError: unexpected state" in shown[0][0] and shown[0][1] == log_file
    assert qapp is QApplication.instance()


def assert_logged(log_file: Path, level: str, text: str) -> bool:
    for handler in logging.getLogger().handlers:
        handler.flush()
    content = log_file.read_text(encoding="utf-8")
    return level in content and text in content


def test_qt_french_translation_is_installed(qapp: QApplication) -> None:
    translator = app.install_qt_translation(qapp)
    try:
        assert translator is not None
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Annuler"
    finally:
        qapp.removeTranslator(translator)


def test_crash_dialog_shows_the_log_path_and_details(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN a message box that records itself instead of blocking
    shown: list[QMessageBox] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box) or 0)
    # WHEN the crash dialog opens
    app.show_crash_dialog("Traceback: boom", tmp_path / "app.log")
    # THEN it is a critical box in French, pointing at the log, with the traceback in its details
    box = shown[0]
    assert box.icon() == QMessageBox.Icon.Critical
    assert box.windowTitle() == "Erreur inattendue"
    assert str(tmp_path / "app.log") in box.informativeText()
    assert box.detailedText() == "Traceback: boom"


# ---- Demo owner, --view, screenshots ------------------------------------------------------------


def test_demo_database_is_handed_to_the_busiest_advisor(tmp_path: Path) -> None:
    from ess_accompagnement.domain import advisors
    from ess_accompagnement.domain.queries.home import busiest_advisor

    db = app.ensure_database(tmp_path / "demo.db", demo_projects=40)
    try:
        with db.read() as session:
            owner = advisors.owner_id(session)
            assert owner is not None and owner == busiest_advisor(session, date.today())
    finally:
        db.close()


def test_hand_demo_keeps_the_owner_when_nobody_worked(db: Database) -> None:
    assert app.hand_demo_to_busiest_advisor(db, date(2026, 3, 15)) is None


@pytest.mark.parametrize("view", ["accueil", "projets", "tableau-de-bord", f"projet:{uuid.UUID(int=7)}"])
def test_parse_args_accepts_known_views(view: str) -> None:
    args, _rest = app.parse_args(["--view", view, "--today", "2026-03-16"])
    assert (args.view, args.today) == (view, date(2026, 3, 16))


def test_parse_args_refuses_an_unknown_view_in_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        app.parse_args(["--view", "inconnu"])
    assert exit_info.value.code == 2
    assert "écran inconnu « inconnu »" in capsys.readouterr().err


def run_app(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The application in a child process (its own QApplication), with logs under ``home``."""
    env = {**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data")}
    return subprocess.run([sys.executable, "-m", "ess_accompagnement", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def demo_copy(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "capture.db"
    shutil.copyfile(demo_template, path)
    return path


def first_project(path: Path) -> uuid.UUID:
    from ess_accompagnement.store.db import open_database

    db = open_database(path, create=False)
    try:
        with db.read() as session:
            return session.execute(select(Project.id).order_by(Project.sort_key).limit(1)).scalar_one()
    finally:
        db.close()


@pytest.mark.parametrize("view", ["accueil", "projets", "projet"])
def test_screenshot_of_a_view(demo_copy: Path, tmp_path: Path, view: str) -> None:
    # GIVEN a demo database and a view (a project page by its id)
    key = f"projet:{first_project(demo_copy)}" if view == "projet" else view
    out = tmp_path / "shots" / f"{view}.png"
    # WHEN the app renders it offscreen
    result = run_app("--db", str(demo_copy), "--screenshot", str(out), "--view", key, "--today", "2026-03-15",
                     home=tmp_path)
    # THEN it exits 0 with a 1440×900 PNG
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1440, 900)


def test_screenshot_of_an_unknown_project_exits_2(demo_copy: Path, tmp_path: Path) -> None:
    result = run_app("--db", str(demo_copy), "--screenshot", str(tmp_path / "x.png"), "--view",
                     f"projet:{uuid.UUID(int=1)}", home=tmp_path)
    assert result.returncode == 2
    assert "aucun projet d'identifiant" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_screenshot_of_an_unknown_view_exits_2(demo_copy: Path, tmp_path: Path) -> None:
    result = run_app("--db", str(demo_copy), "--screenshot", str(tmp_path / "x.png"), "--view", "cuisine",
                     home=tmp_path)
    assert result.returncode == 2
    assert "écran inconnu « cuisine »" in result.stderr


def test_measure_startup_prints_the_first_paint(demo_copy: Path, tmp_path: Path) -> None:
    result = run_app("--db", str(demo_copy), "--measure-startup", home=tmp_path)

    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("first-paint "))
    assert 0 < float(line.split()[3]) < 60
