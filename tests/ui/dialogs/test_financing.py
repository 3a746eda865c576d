"""The financing dialog: a French amount, a funder and its dispositifs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.codes import FinancingStatus, Instrument
from ess_accompagnement.domain.entities import Financing
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.financing import FinancingDialog, FinancingFollowUpDialog
from tests.ui.dialogs.helpers import error_of, my_project, opened, replace_text, save, type_text


def test_record_a_financing_line(qtbot: QtBot, ui_ctx: AppContext) -> None:
    project_id = my_project(ui_ctx)
    dialog = opened(qtbot, ui_ctx, FinancingDialog(ui_ctx, project_id))
    dialog.instrument.set_value(Instrument.PRET_HONNEUR)
    dialog.funder.setCurrentIndex(2)  # the first financeur, under its header
    funder = dialog.funder.value()
    type_text(qtbot, dialog.amount, "15 000,50")
    dialog.status.set_value(FinancingStatus.ACCORDE)
    type_text(qtbot, dialog.comment, "Comité d'engagement favorable.")
    line_id = save(qtbot, ui_ctx, dialog)
    with ui_ctx.db.read() as session:
        line = session.get(Financing, line_id)
    assert (line.instrument, line.funder_structure_id, line.amount_requested, line.amount_granted) == (
        Instrument.PRET_HONNEUR, funder, Decimal("15000.50"), Decimal("15000.50"))


def test_invalid_amounts_keep_save_disabled(qtbot: QtBot, ui_ctx: AppContext) -> None:
    dialog = opened(qtbot, ui_ctx, FinancingDialog(ui_ctx, my_project(ui_ctx)))
    type_text(qtbot, dialog.amount, "15 000,505")
    assert "deux décimales" in error_of(dialog, dialog.amount)
    assert not dialog.save_button.isEnabled()
    replace_text(qtbot, dialog.amount, "0")
    assert "supérieur à zéro" in error_of(dialog, dialog.amount)
    replace_text(qtbot, dialog.amount, "1200")
    assert dialog.save_button.isEnabled()


def test_a_line_recorded_as_granted_takes_its_own_amount_and_dates(qtbot: QtBot, ui_ctx: AppContext) -> None:
    dialog = opened(qtbot, ui_ctx, FinancingDialog(ui_ctx, my_project(ui_ctx)))
    # the granted amount and the decision date only show for a decided line
    assert not dialog.figures.granted_amount.isVisibleTo(dialog) and not dialog.figures.decided_on.isVisibleTo(dialog)
    type_text(qtbot, dialog.amount, "20 000")
    dialog.status.set_value(FinancingStatus.ACCORDE)
    assert dialog.figures.granted_amount.isVisibleTo(dialog) and dialog.figures.decided_on.isVisibleTo(dialog)
    type_text(qtbot, dialog.figures.granted_amount, "12 500")
    type_text(qtbot, dialog.figures.requested_on, "01/02/2026")
    type_text(qtbot, dialog.figures.decided_on, "02/03/2026")
    line_id = save(qtbot, ui_ctx, dialog)
    with ui_ctx.db.read() as session:
        line = session.get(Financing, line_id)
    assert (line.amount_requested, line.amount_granted, line.requested_on, line.decided_on) == (
        Decimal("20000"), Decimal("12500"), dt.date(2026, 2, 1), dt.date(2026, 3, 2))


def test_following_a_line_records_the_funders_decision(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a line requested on 1 February
    project_id = my_project(ui_ctx)
    asked = FinancingDialog(ui_ctx, project_id)
    opened(qtbot, ui_ctx, asked)
    asked.instrument.set_value(Instrument.PRET_HONNEUR)
    type_text(qtbot, asked.amount, "8 000")
    type_text(qtbot, asked.figures.requested_on, "01/02/2026")
    line_id = save(qtbot, ui_ctx, asked)
    # WHEN the advisor records the committee's answer
    dialog = opened(qtbot, ui_ctx, FinancingFollowUpDialog(ui_ctx, line_id))
    assert dialog.line.text().startswith("Prêt d")
    assert dialog.figures.amount.text() == "8\u202f000,00" and dialog.figures.requested_on.text() == "01/02/2026"
    dialog.figures.status.set_value(FinancingStatus.ACCORDE)
    type_text(qtbot, dialog.figures.granted_amount, "6 000")
    type_text(qtbot, dialog.figures.decided_on, "31/01/2026")  # before the request: refused next to the field
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "précède" in error_of(dialog, dialog.figures.decided_on))
    replace_text(qtbot, dialog.figures.decided_on, "10/03/2026")
    assert save(qtbot, ui_ctx, dialog) is not None
    with ui_ctx.db.read() as session:
        line = session.get(Financing, line_id)
    assert (line.status, line.amount_granted, line.decided_on) == (
        FinancingStatus.ACCORDE, Decimal("6000"), dt.date(2026, 3, 10))
