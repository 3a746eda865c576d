"""ProjectsView: filters combined in SQL, surviving a refresh, committee printing and list export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.codes import Phase, ProjectStatus
from ess_accompagnement.domain.queries.projects import ProjectFilter, count_projects
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.views.projects import ProjectsView
from ess_accompagnement.ui.widgets.print_summaries import PrintSummariesDialog
from tests.ui.conftest import DEMO_PROJECTS


@pytest.fixture
def view(qtbot: QtBot, ui_ctx: AppContext) -> Iterator[ProjectsView]:
    w = ProjectsView(ui_ctx)
    qtbot.addWidget(w)
    w.resize(1200, 700)
    w.show()
    qtbot.waitUntil(lambda: w.structure_combo.count() > 1 and w.epci_combo.count() > 1, timeout=5000)
    yield w


def count(ctx: AppContext, criteria: ProjectFilter) -> int:
    with ctx.db.read() as session:
        return count_projects(session, criteria)


def type_text(widget: QWidget, text: str) -> None:
    """Type any text, accents included (qtbot.keyClicks aborts the process on non-ASCII)."""
    for char in text:
        QTest.sendKeyEvent(QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, char, Qt.KeyboardModifier.NoModifier)


def test_lists_every_project(view: ProjectsView) -> None:
    assert view.model.total == DEMO_PROJECTS
    assert view.count_label.text() == f"{DEMO_PROJECTS} projets"


def test_filters_combine_in_sql(view: ProjectsView, ui_ctx: AppContext) -> None:
    # WHEN phase, status and structure are chosen
    view.phase_combo.set_key(Phase.CREATION.value)
    view.status_combo.set_key(ProjectStatus.ACTIF.value)
    view.structure_combo.setCurrentIndex(1)
    # THEN the model's filter holds all three, and its count is SQL's
    criteria = view.model.filter
    assert (criteria.phase, criteria.status) == (Phase.CREATION, ProjectStatus.ACTIF)
    assert criteria.structure_id is not None and criteria.structure_id.hex == view.structure_combo.key()
    assert view.model.total == count(ui_ctx, criteria)
    assert view.count_label.text().endswith(("projet", "projets"))


def test_departement_narrows_the_epci_and_filters(view: ProjectsView, ui_ctx: AppContext) -> None:
    view.departement_combo.setCurrentIndex(1)
    departement = view.departement_combo.key()
    epcis = [view.epci_combo.itemData(i) for i in range(1, view.epci_combo.count())]
    assert epcis and all(c.group == departement for c in view._choices.epcis if c.key in epcis)  # noqa: SLF001
    view.epci_combo.setCurrentIndex(1)
    assert view.model.filter.departement == departement
    assert view.model.filter.epci_siren == view.epci_combo.key()
    assert 0 < view.model.total == count(ui_ctx, view.model.filter) < DEMO_PROJECTS


def test_advisors_follow_the_structure(view: ProjectsView) -> None:
    all_advisors = view.advisor_combo.count()
    view.structure_combo.setCurrentIndex(1)
    assert view.advisor_combo.count() < all_advisors


def test_accented_text_filter(qtbot: QtBot, view: ProjectsView, ui_ctx: AppContext) -> None:
    type_text(view.search_field, "épicerie")
    expected = count(ui_ctx, ProjectFilter(search="epicerie"))
    qtbot.waitUntil(lambda: view.model.filter.search == "épicerie", timeout=2000)
    assert view.model.total == expected


def test_filters_and_selection_survive_a_refresh(view: ProjectsView) -> None:
    # GIVEN a filter and two selected rows
    view.status_combo.set_key(ProjectStatus.ACTIF.value)
    view.table.selectRow(1)
    view.table.selectionModel().select(view.model.index(3, 0), view.table.selectionModel().SelectionFlag.Select
                                       | view.table.selectionModel().SelectionFlag.Rows)
    selected, criteria = view.selected_ids(), view.model.filter
    assert len(selected) == 2
    # WHEN the list is refreshed (as after sig_changed)
    view.refresh()
    # THEN the filter, the combos and the selection are the same
    assert view.model.filter == criteria
    assert view.status_combo.key() == ProjectStatus.ACTIF.value
    assert view.selected_ids() == selected
    assert view.print_button.isEnabled()


def test_reset_clears_every_filter(view: ProjectsView) -> None:
    view.phase_combo.set_key(Phase.EMERGENCE.value)
    view.search_field.setText("atelier")
    view.apply_filters()
    view.reset_filters()
    assert view.model.filter == ProjectFilter()
    assert view.model.total == DEMO_PROJECTS


def test_print_selected_summaries_into_one_pdf(view: ProjectsView, ui_ctx: AppContext,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN three selected projects, the dialog accepted and a PDF path chosen
    for row in range(3):
        view.table.selectionModel().select(view.model.index(row, 0), view.table.selectionModel().SelectionFlag.Select
                                           | view.table.selectionModel().SelectionFlag.Rows)
    monkeypatch.setattr(PrintSummariesDialog, "exec", lambda _self: QDialog.DialogCode.Accepted)
    target = tmp_path / "comite.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    # WHEN printing runs
    task = view.print_selected()
    assert task is not None
    ui_ctx.tasks.wait_idle()
    # THEN one PDF is written
    assert target.read_bytes().startswith(b"%PDF")


def test_export_the_list_as_csv(view: ProjectsView, ui_ctx: AppContext, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "projets.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))

    assert view.export_list() is not None
    ui_ctx.tasks.wait_idle()

    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == DEMO_PROJECTS + 1


def test_every_input_has_an_accessible_name(view: ProjectsView) -> None:
    focusable = [w for w in view.findChildren(QWidget) if w.isVisible() and w.focusPolicy() & Qt.FocusPolicy.TabFocus]
    unnamed = [type(w).__name__ for w in focusable
               if not QAccessible.queryAccessibleInterface(w).text(QAccessible.Text.Name)]
    assert focusable and unnamed == []


def test_export_writes_exactly_the_filtered_list(view: ProjectsView, ui_ctx: AppContext, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the list narrowed to the projects in création
    view.phase_combo.set_key(Phase.CREATION.value)
    expected = count(ui_ctx, view.model.filter)
    assert 0 < expected < DEMO_PROJECTS
    target = tmp_path / "creation.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    # WHEN the list is exported
    assert view.export_list() is not None
    ui_ctx.tasks.wait_idle()
    # THEN the file holds those projects and no other
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == expected + 1
