"""app.py: creating a missing database, options, logging, crash hook, Qt translation (no event loop)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from ess_accompagnement import app
from ess_accompagnement.domain.queries.projects import ProjectFilter, count_projects


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
