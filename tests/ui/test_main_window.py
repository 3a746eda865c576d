"""MainWindow on the demo database: navigation, lazy pages, project pages and history, global search, refresh."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.domain.entities import Project
from ess_accompagnement.domain.queries.search import search
from ess_accompagnement.ui import main_window as main_window_module
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.main_window import MainWindow
from ess_accompagnement.ui.views.home import HomeView
from ess_accompagnement.ui.views.persons import PersonsView
from ess_accompagnement.ui.views.projects import ProjectsView
from ess_accompagnement.ui.views.registry import VIEWS, view_spec


class FakeProjectPage(QWidget):
    """Stands in for ProjectPage (built by another module): records its id and refreshes."""

    sig_open_project = Signal(object)

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.project_id, self.refreshes = ctx, project_id, 0

    def refresh(self) -> None:
        self.refreshes += 1


def make_window(qtbot: QtBot, ctx: AppContext) -> MainWindow:
    window = MainWindow(ctx, page_factory=FakeProjectPage)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(qtbot: QtBot, busy_ctx: AppContext) -> Iterator[MainWindow]:
    w = make_window(qtbot, busy_ctx)
    yield w
    w.close()


def project_ids(ctx: AppContext, count: int) -> list[uuid.UUID]:
    with ctx.db.read() as session:
        return list(session.execute(select(Project.id).order_by(Project.sort_key).limit(count)).scalars())


def type_text(widget: QWidget, text: str) -> None:
    """Type any text, accents included (qtbot.keyClicks aborts the process on non-ASCII)."""
    for char in text:
        QTest.sendKeyEvent(QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, char, Qt.KeyboardModifier.NoModifier)


def activate(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_opens_on_the_home_screen_with_the_navigation(window: MainWindow) -> None:
    assert window.windowTitle() == "ESS Accompagnement — demo.db"
    assert window.current_key == "accueil"
    assert isinstance(window.stack.currentWidget(), HomeView)
    titles = [window.nav.item(row).text() for row in range(window.nav.count())]
    assert titles[:7] == ["Accueil", "Projets", "Personnes", "Agenda", "Orientations", "Structures et dispositifs",
                          "Tableau de bord"]
    assert len(titles) == len(VIEWS)
    assert window.view_actions["projets"].shortcut().toString() == "Ctrl+2"
    assert window.view_actions["projets"].text() == "&Projets"
    assert window.page("projets") is None  # built on first visit only
    assert "·" in window.who_label.text()


def test_ctrl_digit_shortcuts_switch_views_lazily(qtbot: QtBot, window: MainWindow) -> None:
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_key == "projets"
    assert isinstance(window.stack.currentWidget(), ProjectsView)
    assert window.nav.currentRow() == 1
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(window.page("personnes"), PersonsView)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_key == "accueil"


def test_clicking_the_navigation_shows_the_view(window: MainWindow) -> None:
    window.nav.setCurrentRow(2)
    assert window.current_key == "personnes"


def test_open_project_and_back(qtbot: QtBot, window: MainWindow, busy_ctx: AppContext) -> None:
    first, second = project_ids(busy_ctx, 2)
    window.show_view("projets")
    # WHEN two projects are opened one after the other
    with qtbot.waitSignal(window.sig_project_activated) as blocker:
        page = window.open_project(first)
    window.open_project(second)
    # THEN the pages are on the stack and the navigation shows no view selected
    assert blocker.args == [first] and isinstance(page, FakeProjectPage) and page.project_id == first
    assert window.current_key == f"projet:{second}"
    assert window.nav.currentRow() == -1
    # AND Alt+Left goes back through the history
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert window.current_key == f"projet:{first}"
    assert window.stack.currentWidget() is page  # kept, not rebuilt
    window.go_back()
    assert window.current_key == "projets"
    window.go_back()
    assert window.current_key == "accueil"
    assert not window.back_action.isEnabled()


def test_only_recent_project_pages_are_kept(window: MainWindow, busy_ctx: AppContext) -> None:
    ids = project_ids(busy_ctx, main_window_module.PROJECT_PAGES_KEPT + 2)
    for project_id in ids:
        window.open_project(project_id)
    assert window.page(f"projet:{ids[0]}") is None
    assert window.page(f"projet:{ids[-1]}") is window.stack.currentWidget()


def test_home_rows_open_the_project_page(qtbot: QtBot, window: MainWindow) -> None:
    home = window.page("accueil")
    assert isinstance(home, HomeView)
    qtbot.waitUntil(lambda: not home.is_loading, timeout=5000)
    table = home.section("overdue_steps").table
    index = table.model().index(0, 0)
    table.activated.emit(index)
    page = window.stack.currentWidget()
    assert isinstance(page, FakeProjectPage)
    assert window.current_key == f"projet:{page.project_id}"


def test_f5_refreshes_the_visible_page(qtbot: QtBot, window: MainWindow, busy_ctx: AppContext) -> None:
    page = window.open_project(project_ids(busy_ctx, 1)[0])
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert page.refreshes == 1


def test_a_page_asking_for_a_project_opens_it(window: MainWindow, busy_ctx: AppContext) -> None:
    first, second = project_ids(busy_ctx, 2)
    page = window.open_project(first)
    page.sig_open_project.emit(second)
    assert window.current_key == f"projet:{second}"


def test_projects_refresh_after_a_change_keeping_filter_and_selection(window: MainWindow,
                                                                      busy_ctx: AppContext) -> None:
    # GIVEN the projects list filtered, a row selected, then another screen shown
    view = window.show_view("projets")
    view.status_combo.setCurrentIndex(1)
    view.table.selectRow(2)
    selected, criteria = view.selected_ids(), view.model.filter
    window.show_view("accueil")
    # WHEN a use case changes projects, the hidden list waits; shown again, it reloads
    busy_ctx.sig_changed.emit(Changes(projects=True), None)
    assert view.watcher.stale
    window.show_view("projets")
    # THEN it was re-read, with the same filter and selection
    assert not view.watcher.stale
    assert (view.model.filter, view.selected_ids()) == (criteria, selected)


def test_global_search_with_an_accented_query(qtbot: QtBot, window: MainWindow, busy_ctx: AppContext) -> None:
    # GIVEN what the domain finds for « épicerie »
    with busy_ctx.db.read() as session:
        hits = search(session, "épicerie", limit=24)
    assert hits, "the demo has épiceries"
    # WHEN it is typed, accents included, after Ctrl+F
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_field.hasFocus()
    with qtbot.waitSignal(window.search_field.sig_results_shown, timeout=3000):
        type_text(window.search_field, "épicerie")
    # THEN the popup lists the hits under their group, the first hit current
    model = window.search_field.model
    assert window.search_field.popup.isVisible()
    assert model.index(0).data().startswith("Projets (")
    assert window.search_field.popup.currentIndex().row() == 1
    # AND Down then Enter opens the second project
    expected = model.hit(2) if model.hit(2) is not None else model.hit(1)
    qtbot.keyClick(window.search_field, Qt.Key.Key_Down)
    qtbot.keyClick(window.search_field, Qt.Key.Key_Return)
    assert not window.search_field.popup.isVisible()
    if expected.kind == "project":
        assert window.current_key == f"projet:{expected.id}"


def test_enter_before_the_results_opens_the_best_hit(qtbot: QtBot, window: MainWindow, busy_ctx: AppContext) -> None:
    with busy_ctx.db.read() as session:
        best = search(session, "epicerie", limit=24, kinds=("project",))[0]
    window.search_field.setFocus()
    qtbot.keyClicks(window.search_field, "epicerie")
    with qtbot.waitSignal(window.sig_project_activated, timeout=3000):
        qtbot.keyClick(window.search_field, Qt.Key.Key_Return)
    assert window.current_key.startswith("projet:")
    assert best.kind == "project"


def test_a_person_hit_opens_their_single_project(qtbot: QtBot, window: MainWindow, busy_ctx: AppContext) -> None:
    from ess_accompagnement.domain.queries.persons import person_projects
    from ess_accompagnement.domain.queries.search import SearchHit

    with busy_ctx.db.read() as session:
        project_id = project_ids(busy_ctx, 1)[0]
        from ess_accompagnement.domain.entities import ProjectMember

        person_id = session.execute(select(ProjectMember.person_id)
                                    .where(ProjectMember.project_id == project_id)).scalars().first()
        assert len(person_projects(session, person_id)) == 1
    with qtbot.waitSignal(window.sig_project_activated, timeout=3000) as blocker:
        window.open_hit(SearchHit("person", person_id, "X", None))
    assert blocker.args == [project_id]


def test_last_view_and_geometry_are_restored(qtbot: QtBot, window: MainWindow, busy_ctx: AppContext) -> None:
    window.show_view("personnes")
    window.resize(window.minimumSizeHint().width(), 520)  # the offscreen screen is 800×600
    size = (window.width(), window.height())
    window.open_project(project_ids(busy_ctx, 1)[0])  # a project page is not restored: its view is
    window.close()

    again = make_window(qtbot, busy_ctx)

    assert again.current_key == "personnes"
    assert (again.width(), again.height()) == size
    again.close()


def test_every_focusable_widget_has_an_accessible_name(window: MainWindow) -> None:
    window.show_view("projets")
    focusable = [w for w in window.findChildren(QWidget)
                 if w.isVisible() and w.focusPolicy() & Qt.FocusPolicy.TabFocus]
    unnamed = [f"{type(w).__name__}:{w.objectName()}" for w in focusable
               if not QAccessible.queryAccessibleInterface(w).text(QAccessible.Text.Name)]
    assert focusable and unnamed == []


def mnemonic(text: str) -> str | None:
    index = text.replace("&&", "").find("&")
    return text.replace("&&", "")[index + 1].lower() if index >= 0 else None


@pytest.mark.parametrize("key", ["accueil", "projets", "personnes"])
def test_alt_mnemonics_are_unique_on_each_screen(window: MainWindow, key: str) -> None:
    from PySide6.QtWidgets import QAbstractButton, QLabel

    page = window.show_view(key)
    texts = [action.text() for action in window.menuBar().actions()]
    for widget in [*page.findChildren(QWidget), *window.toolbar.findChildren(QWidget)]:
        if isinstance(widget, QLabel | QAbstractButton) and widget.isVisibleTo(window) \
                and widget.metaObject().className() != "QToolButton":
            texts.append(widget.text())
    letters = [letter for letter in map(mnemonic, texts) if letter is not None]
    assert len(letters) == len(set(letters)), sorted(letters)


@pytest.mark.parametrize("key", [spec.key for spec in VIEWS])
def test_every_screen_opens_on_the_demo_database_with_named_inputs(window: MainWindow, key: str) -> None:
    # WHEN the screen is shown and has loaded
    page = window.show_view(key)
    assert window.wait_until_loaded()
    # THEN it is the registered screen (not a placeholder), and every input it shows has an accessible name
    assert type(page) is view_spec(key).load()
    from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QAbstractSpinBox, QComboBox, QLineEdit, QTextEdit

    inputs = (QLineEdit, QComboBox, QAbstractSpinBox, QTextEdit, QAbstractButton, QAbstractItemView)
    focusable = [w for w in page.findChildren(QWidget) if isinstance(w, inputs) and w.isVisible()
                 and w.focusPolicy() & Qt.FocusPolicy.TabFocus
                 and not w.objectName().startswith("qt_")]  # a spin box's own line edit: the box is named
    unnamed = [f"{type(w).__name__}:{w.objectName()}" for w in focusable
               if not QAccessible.queryAccessibleInterface(w).text(QAccessible.Text.Name)]
    assert unnamed == []


def test_the_real_project_page_opens_from_the_window(qtbot: QtBot, busy_ctx: AppContext) -> None:
    real = MainWindow(busy_ctx)
    qtbot.addWidget(real)
    real.show()
    project = project_ids(busy_ctx, 1)[0]
    page = real.open_project(project)
    assert real.wait_until_loaded()
    assert type(page).__name__ == "ProjectPage" and real.current_key == f"projet:{project}"
    real.close()
