"""The financing dialog: a French amount, a funder and its dispositifs."""

from __future__ import annotations

from decimal import Decimal

from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.codes import FinancingStatus, Instrument
from ess_accompagnement.domain.entities import Financing
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.financing import FinancingDialog
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
