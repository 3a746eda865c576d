"""MainWindow smoke tests on the demo database: rows, count, search, shortcuts, accessibility, UI state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain.entities import Person
from ess_accompagnement.domain.queries.projects import ProjectFilter, count_projects
from ess_accompagnement.store.db import Database
from ess_accompagnement.ui.main_window import MainWindow
from ess_accompagnement.ui.models.projects_model import Column
from tests.ui.conftest import DEMO_PROJECTS


@pytest.fixture
def window(qtbot: QtBot, demo_db: Database) -> Iterator[MainWindow]:
    w = MainWindow(demo_db)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def last_names(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.execute(select(Person.last_name).order_by(Person.sort_key)).scalars())


def expected_count(db: Database, text: str) -> int:
    with db.read() as session:
        return count_projects(session, ProjectFilter(search=text))


def type_text(widget: QWidget, text: str) -> None:
    """Type any text, accents included (qtbot.keyClicks aborts the process on non-ASCII)."""
    for char in text:
        QTest.sendKeyEvent(QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, char, Qt.KeyboardModifier.NoModifier)


def test_window_lists_the_projects(window: MainWindow) -> None:
    assert window.windowTitle() == "ESS Accompagnement — demo.db"
    assert window.table.model().rowCount() == DEMO_PROJECTS
    assert window.count_label.text() == f"{DEMO_PROJECTS} projets"
    assert window.table.model().index(0, Column.TITLE).data()
    assert window.search_field.placeholderText() == "Rechercher un projet, un porteur, une commune…"


def test_typing_a_holder_name_filters_after_the_debounce(qtbot: QtBot, window: MainWindow, demo_db: Database) -> None:
    # GIVEN a holder's ASCII last name
    name = next(n for n in last_names(demo_db) if n.isascii() and len(n) > 3)
    expected = expected_count(demo_db, name)
    assert 0 < expected < DEMO_PROJECTS
    # WHEN it is typed in the search field
    qtbot.keyClicks(window.search_field, name)
    # THEN the list is filtered once the debounce fires, and the count follows
    assert window.model.total == DEMO_PROJECTS  # not yet: the timer is still running
    qtbot.waitUntil(lambda: window.model.total == expected, timeout=2000)
    assert window.model.rowCount() == expected
    assert window.count_label.text() == (f"{expected} projet" if expected == 1 else f"{expected} projets")


def test_accented_search_and_clearing(qtbot: QtBot, window: MainWindow, demo_db: Database) -> None:
    # GIVEN a holder's last name with an accent (searched accent-insensitively)
    name = next((n for n in last_names(demo_db) if not n.isascii()), None)
    if name is None:
        pytest.skip("the demo data has no accented last name")
    expected = expected_count(demo_db, name)
    # WHEN it is typed with its accents
    type_text(window.search_field, name)
    # THEN the list is filtered; clearing the field shows every project again
    qtbot.waitUntil(lambda: window.model.total == expected, timeout=2000)
    assert window.search_field.text() == name
    window.search_field.clear()
    qtbot.waitUntil(lambda: window.model.total == DEMO_PROJECTS, timeout=2000)


def test_ctrl_f_focuses_the_search_field(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)

    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)

    assert window.search_field.hasFocus()


def test_every_focusable_widget_has_an_accessible_name(window: MainWindow) -> None:
    focusable = [w for w in window.findChildren(QWidget)
                 if w.isVisible() and w.focusPolicy() & Qt.FocusPolicy.TabFocus]

    assert focusable, "the window should have focusable widgets"
    unnamed = [type(w).__name__ for w in focusable
               if not QAccessible.queryAccessibleInterface(w).text(QAccessible.Text.Name)]
    assert unnamed == []


def test_search_label_is_the_fields_buddy(window: MainWindow) -> None:
    assert window.search_field.accessibleName() == "Rechercher un projet"
    assert any(label.buddy() is window.search_field for label in window.findChildren(type(window.count_label)))


def click_header(qtbot: QtBot, window: MainWindow, column: Column) -> None:
    header = window.table.horizontalHeader()
    point = QPoint(header.sectionViewportPosition(column) + 10, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_clicking_headers_sorts_in_sql(qtbot: QtBot, window: MainWindow) -> None:
    header = window.table.horizontalHeader()

    click_header(qtbot, window, Column.COMMUNE)
    assert (window.model.sort_column, header.sortIndicatorSection()) == (Column.COMMUNE, Column.COMMUNE)

    click_header(qtbot, window, Column.HOLDERS)  # several holders per project: SQL cannot sort on it
    assert (window.model.sort_column, header.sortIndicatorSection()) == (Column.COMMUNE, Column.COMMUNE)


def test_geometry_and_header_state_are_restored(qtbot: QtBot, window: MainWindow, demo_db: Database) -> None:
    # GIVEN a window resized, sorted by last activity (descending) and with a wider title column
    window.resize(700, 500)  # the offscreen screen is 800×600
    window.table.sortByColumn(Column.LAST_ACTIVITY, Qt.SortOrder.DescendingOrder)
    window.table.horizontalHeader().resizeSection(Column.TITLE, 420)
    # WHEN it is closed and a new one opened
    window.close()
    again = MainWindow(demo_db)
    qtbot.addWidget(again)
    # THEN the new one has the same size, widths and sort (the sort re-queried in SQL)
    assert (again.width(), again.height()) == (700, 500)
    assert again.table.horizontalHeader().sectionSize(Column.TITLE) == 420
    assert (again.model.sort_column, again.model.sort_order) == (Column.LAST_ACTIVITY, Qt.SortOrder.DescendingOrder)


def test_activating_a_row_emits_the_project_id(qtbot: QtBot, window: MainWindow) -> None:
    window.table.setFocus()
    window.table.selectRow(2)
    expected = window.model.project_id(2)

    with qtbot.waitSignal(window.sig_project_activated) as blocker:
        window.table.activated.emit(window.model.index(2, Column.TITLE))

    assert blocker.args == [expected]
