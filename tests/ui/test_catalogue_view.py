"""Structures et dispositifs on the demo database: filters, detail form, editing through the use case."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.codes import Phase, SupportType
from ess_accompagnement.domain.entities import Structure
from ess_accompagnement.domain.queries.catalogue import StructureRow
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.models.rows_model import IdRole
from ess_accompagnement.ui.views.catalogue import CatalogueView
from ess_accompagnement.ui.widgets.tables import current_row


@pytest.fixture
def view(qtbot: QtBot, ui_ctx: AppContext) -> CatalogueView:
    view = CatalogueView(ui_ctx)
    qtbot.addWidget(view)
    view.resize(1440, 900)
    qtbot.waitUntil(lambda: view.form.row_id is not None)
    return view


def shown(view: CatalogueView, table_index: int = 0) -> list[str]:
    model = view.tables[table_index].model()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_lists_and_filters(view: CatalogueView) -> None:
    everything = shown(view)
    assert len(everything) > 10 and view.tabs.tabText(0) == f"&Structures ({len(everything)})"
    assert len(shown(view, 1)) > 5

    view.phase.setCurrentIndex(view.phase.findData(Phase.REPRISE_TRANSMISSION))
    view.support.setCurrentIndex(view.support.findData(SupportType.ACCOMPAGNEMENT))
    filtered = shown(view)
    assert 0 < len(filtered) < len(everything)
    assert any("URSCOP" in name for name in filtered)

    view.phase.setCurrentIndex(0)
    view.support.setCurrentIndex(0)
    view.search.setText("alter incub")  # accents, case, apostrophes and spaces do not matter
    assert shown(view) == ["Alter'Incub Centre-Val de Loire"]
    view.search.setText("zzz")
    assert shown(view) == []


def test_selecting_fills_the_form(qtbot: QtBot, view: CatalogueView) -> None:
    view.structures_table.selectRow(1)
    row: StructureRow = current_row(view.structures_table)
    qtbot.waitUntil(lambda: view.form.row_id == row.id)

    assert view.form.name.text() == row.name
    assert view.form.heading.text() == row.name
    assert {p for p, box in view.form.phases.boxes.items() if box.isChecked()} == set(row.phases)
    assert not view.form.save_button.isEnabled()


def select_own_structure(qtbot: QtBot, view: CatalogueView, ui_ctx: AppContext) -> None:
    model = view.structures_table.model()
    row = next(r for r in range(model.rowCount()) if current_row_id(view, r) == ui_ctx.structure_id)
    view.structures_table.selectRow(row)
    qtbot.waitUntil(lambda: view.form.row_id == ui_ctx.structure_id)


def current_row_id(view: CatalogueView, row: int):  # noqa: ANN201
    return view.structures_table.model().index(row, 0).data(IdRole)


def test_edit_and_save(qtbot: QtBot, view: CatalogueView, ui_ctx: AppContext) -> None:
    # GIVEN the advisor's own structure selected
    select_own_structure(qtbot, view, ui_ctx)
    # WHEN she types a phone and unticks « actif », then saves
    view.form.phone.setText("02 38 68 12 34")
    assert view.form.save_button.isEnabled()
    with qtbot.waitSignal(ui_ctx.sig_changed):
        view.form.save_button.click()
    # THEN the structure is saved in E.164 and the form says so
    with ui_ctx.db.read() as session:
        assert session.get(Structure, ui_ctx.structure_id).phone == "+33238681234"
    qtbot.waitUntil(lambda: view.form.error.text() == "Modifications enregistrées.")
    assert not view.form.save_button.isEnabled()


def test_refused_value_shown_in_the_form(qtbot: QtBot, view: CatalogueView, ui_ctx: AppContext) -> None:
    select_own_structure(qtbot, view, ui_ctx)
    view.form.email.setText("pas-une-adresse")
    view.form.save_button.click()

    qtbot.waitUntil(lambda: "Courriel" in view.form.error.text())
    with ui_ctx.db.read() as session:
        assert session.get(Structure, ui_ctx.structure_id).email is None
    assert not any(isinstance(w, QMessageBox) and w.isVisible() for w in view.findChildren(QMessageBox))


def test_empty_name_keeps_save_disabled(view: CatalogueView) -> None:
    view.form.name.setText("  ")
    assert not view.form.save_button.isEnabled()
    assert view.form.error.text() == "Nom : ce champ est obligatoire."


def test_a_structure_search_hit_shows_that_structure(qtbot: QtBot, ui_ctx: AppContext) -> None:
    from ess_accompagnement.domain.ids import catalogue_id

    # GIVEN the catalogue filtered on something else
    view = CatalogueView(ui_ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.sig_loaded):
        pass
    view.search.setText("dla")
    # WHEN a search hit asks for URSCOP
    urscop = catalogue_id("structure", "urscop")
    view.show_structure(urscop)
    # THEN the filter is cleared and URSCOP is the selected structure
    assert view.search.text() == "" and view.tabs.currentIndex() == 0
    assert current_row(view.structures_table).id == urscop
