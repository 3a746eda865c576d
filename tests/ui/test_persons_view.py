"""PersonsView: search, one person from the global search, the person's dialog and project."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.queries.persons import PersonFilter, count_persons, person_projects
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.views.persons import PersonsView


class FakeDialog(QDialog):
    sig_saved = Signal(object)

    def open(self) -> None:  # never shown in tests
        pass


@pytest.fixture
def opened() -> list[tuple[Any, ...]]:
    return []


@pytest.fixture
def view(qtbot: QtBot, ui_ctx: AppContext, opened: list[tuple[Any, ...]]) -> Iterator[PersonsView]:
    w = PersonsView(ui_ctx)

    def factory(key: str, *args: Any, parent: QWidget | None = None) -> FakeDialog:
        opened.append((key, *args))
        return FakeDialog(parent)

    w.dialog_factory = factory
    qtbot.addWidget(w)
    w.resize(1100, 600)
    w.show()
    yield w


def test_lists_and_searches_persons(qtbot: QtBot, view: PersonsView, ui_ctx: AppContext) -> None:
    with ui_ctx.db.read() as session:
        total = count_persons(session, PersonFilter())
    assert view.model.total == total
    assert view.count_label.text() == f"{total} personnes"
    name = view.model.index(0, 0).data().split()[0].lower()
    for char in name:  # qtbot.keyClicks aborts on non-ASCII characters
        QTest.sendKeyEvent(QTest.KeyAction.Click, view.search_field, Qt.Key.Key_unknown, char,
                           Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: view.model.filter.search == name, timeout=2000)
    assert 0 < view.model.total < total


def test_show_person_then_all(view: PersonsView) -> None:
    person_id = view.model.person_id(5)
    view.show_person(person_id)
    assert view.model.total == 1 and view.current_person_id() == person_id
    assert view.show_all_button.isVisibleTo(view)
    view.show_all()
    assert view.model.total > 1


def test_new_and_edit_open_the_person_dialog(view: PersonsView, ui_ctx: AppContext,
                                             opened: list[tuple[Any, ...]]) -> None:
    view.new_button.click()
    view.table.selectRow(2)
    view.edit_button.click()
    assert opened == [("person", ui_ctx), ("person", ui_ctx, view.model.person_id(2))]


def test_open_project_of_a_person(qtbot: QtBot, view: PersonsView, ui_ctx: AppContext) -> None:
    view.table.selectRow(0)
    person_id = view.current_person_id()
    with ui_ctx.db.read() as session:
        projects = person_projects(session, person_id)
    assert len(projects) == 1
    with qtbot.waitSignal(view.sig_open_project, timeout=3000) as blocker:
        view.project_button.click()
    assert blocker.args == [projects[0].id]
    assert isinstance(blocker.args[0], uuid.UUID)


def test_every_input_has_an_accessible_name(view: PersonsView) -> None:
    focusable = [w for w in view.findChildren(QWidget) if w.isVisible() and w.focusPolicy() & Qt.FocusPolicy.TabFocus]
    unnamed = [type(w).__name__ for w in focusable
               if not QAccessible.queryAccessibleInterface(w).text(QAccessible.Text.Name)]
    assert focusable and unnamed == []
