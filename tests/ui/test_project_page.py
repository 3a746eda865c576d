"""The project page on the demo database: header, timeline, tabs, actions, printing, refresh."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from ess_accompagnement.domain import financing
from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.domain.codes import Instrument
from ess_accompagnement.domain.entities import Financing, Project, Referral
from ess_accompagnement.reports.summary import Variant
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.rows_model import RowRole
from ess_accompagnement.ui.views.project_page import ProjectPage, Tab
from ess_accompagnement.ui.widgets import summary_printer
from tests.ui.fakes import DialogRecorder


@pytest.fixture
def project_id(ui_ctx: AppContext) -> uuid.UUID:
    """The owner structure's project with the most referrals."""
    with ui_ctx.db.read() as session:
        return session.execute(
            select(Project.id).join(Referral, Referral.project_id == Project.id)
            .where(Project.lead_structure_id == ui_ctx.structure_id)
            .group_by(Project.id).order_by(func.count().desc(), Project.id).limit(1)
        ).scalar_one()


@pytest.fixture
def page(qtbot: QtBot, ui_ctx: AppContext, project_id: uuid.UUID) -> ProjectPage:
    page = ProjectPage(ui_ctx, project_id)
    qtbot.addWidget(page)
    page.dialog_factory = DialogRecorder()
    page.resize(1440, 900)
    qtbot.waitUntil(lambda: page.data is not None)
    return page


def test_page_shows_header_timeline_and_tabs(page: ProjectPage) -> None:
    data = page.data
    assert data is not None
    # THEN the header names the project, its phase, status, lead structure and territory
    assert page.header.title.text() == data.detail.title
    assert page.header.status.text() == capitalised(data.detail.status)
    assert data.detail.lead_structure in page.header.lead.text()
    assert "Territoire" in page.header.territory.text()
    # AND the timeline lists every event, newest first
    model = page.timeline_model
    assert model.rowCount() == len(data.detail.timeline)
    days = [model.entry(r).day for r in range(model.rowCount())]
    assert days == sorted(days, reverse=True)
    # AND the tabs count their rows; the parcours starts with the lead structure
    assert page.tabs.tabText(Tab.REFERRALS).endswith(f"({len(data.referrals)})")
    assert page.parcours_model.rowCount() == len(data.parcours) >= 2
    assert page.parcours_model.index(0, 2).data() == "Structure référente"
    assert page.appointments_model.rowCount() == len(data.appointments)


def test_timeline_kind_filter(page: ProjectPage) -> None:
    page.kind_filter.setCurrentIndex(page.kind_filter.findData("referral"))

    kinds = {page.timeline_model.entry(r).kind for r in range(page.timeline_model.rowCount())}
    assert kinds == {"referral"}


@pytest.mark.parametrize(("action", "key", "kwargs"), [
    ("new_appointment", "appointment", {"project_id"}),
    ("refer", "referral", set()),
    ("phase", "phase_change", set()),
    ("financing", "financing", set()),
    ("note", "note", set()),
    ("edit", "project", {"project_id"}),
    ("close", "project_status", set()),
])
def test_actions_open_their_dialog(page: ProjectPage, project_id: uuid.UUID, action: str, key: str,
                                   kwargs: set[str]) -> None:
    page.actions_by_name[action].trigger()

    dialog = page.dialog_factory.last
    assert dialog.key == key and dialog.opened
    assert dialog.args[0] is page.ctx
    assert project_id in (*dialog.args[1:], dialog.kwargs.get("project_id"))
    assert kwargs <= set(dialog.kwargs)
    assert page.actions_by_name[action].shortcut().toString()


def test_double_click_on_an_appointment_opens_it(page: ProjectPage) -> None:
    page.tabs.setCurrentIndex(Tab.APPOINTMENTS)
    table = page.appointments_table
    index = table.model().index(0, 0)

    table.doubleClicked.emit(index)

    dialog = page.dialog_factory.last
    assert dialog.key == "appointment"
    assert dialog.kwargs["appointment_id"] == index.data(RowRole).id



def test_a_line_of_the_tour_de_table_is_followed_from_its_row(qtbot: QtBot, ui_ctx: AppContext, page: ProjectPage,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the project has a financing line (added if the demo gave it none)
    if not page.data.financing:
        with ui_ctx.db.transaction() as session:
            financing.add_financing(session, ui_ctx.actor, financing.FinancingDraft(
                page.project_id, Instrument.SUBVENTION, Decimal("5000")), today=ui_ctx.today)
        ui_ctx.tasks.wait_idle()
        page.refresh()
        qtbot.waitUntil(lambda: bool(page.data.financing))
    page.tabs.setCurrentIndex(Tab.FINANCING)
    action = page.actions_by_name["follow_financing"]
    assert not action.isEnabled()  # nothing chosen yet
    # WHEN a line is chosen, THEN « Suivi du financement » opens on it, from the action or a double click
    page.financing_table.selectRow(0)
    line = page.financing_table.model().index(0, 0).data(RowRole)
    assert action.isEnabled()
    action.trigger()
    assert (page.dialog_factory.last.key, page.dialog_factory.last.args[1:]) == ("financing_followup", (line.id,))
    page.financing_table.doubleClicked.emit(page.financing_table.model().index(0, 1))
    assert len(page.dialog_factory.calls) == 2
    # AND a line recorded by mistake is taken back from its context menu, once confirmed
    remove = page.remove_financing_action
    assert remove in page.financing_table.actions() and remove.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *_args, **_kwargs: QMessageBox.StandardButton.Yes)
    remove.trigger()
    assert ui_ctx.tasks.wait_idle()
    with ui_ctx.db.read() as session:
        assert session.get(Financing, line.id).deleted_at is not None

def test_answer_needs_an_incoming_referral(page: ProjectPage) -> None:
    # GIVEN only referrals sent by the advisor's structure
    page.referrals_table.selectRow(0)
    # THEN there is nothing to answer
    assert not page.actions_by_name["answer"].isEnabled()
    page.answer_referral()
    assert page.dialog_factory.calls == []


def test_print_saves_the_pdf_and_offers_to_open_it(qtbot: QtBot, page: ProjectPage, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the advisor picks a file name without extension
    target = tmp_path / "synthese"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *_args, **_kwargs: (str(target), "")))
    opened: list[QUrl] = []
    monkeypatch.setattr(summary_printer.QDesktopServices, "openUrl", staticmethod(opened.append))
    # WHEN she prints the partner's summary
    with qtbot.waitSignal(page.printer.sig_printed, timeout=20_000) as blocker:
        page.print_summary(Variant.PARTENAIRE)
    # THEN the PDF is written and she is offered to open it
    assert blocker.args == [str(target) + ".pdf"]
    assert (tmp_path / "synthese.pdf").read_bytes().startswith(b"%PDF")
    box = page.printer.last_box
    assert box is not None and box.isVisible()
    box.button(QMessageBox.StandardButton.Open).click()
    assert opened == [QUrl.fromLocalFile(str(target) + ".pdf")]


def test_page_refreshes_when_something_it_shows_changes(qtbot: QtBot, page: ProjectPage) -> None:
    # A hidden page only notes the change, and reloads when shown again
    with qtbot.assertNotEmitted(page.sig_loaded, wait=100):
        page.ctx.sig_changed.emit(Changes(notes=True), None)
    with qtbot.waitSignal(page.sig_loaded):
        page.show()
    # A shown page reloads at once, but only for what it shows
    with qtbot.waitSignal(page.sig_loaded):
        page.ctx.sig_changed.emit(Changes(notes=True), None)
    with qtbot.assertNotEmitted(page.sig_loaded, wait=100):
        page.ctx.sig_changed.emit(Changes(catalogue=True), None)


def test_unknown_project_says_so(qtbot: QtBot, ui_ctx: AppContext) -> None:
    page = ProjectPage(ui_ctx, uuid.uuid4())
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.sig_loaded):
        pass
    assert page.header.title.text() == "Projet introuvable."
    assert not page.actions_by_name["edit"].isEnabled()
