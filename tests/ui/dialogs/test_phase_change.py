"""The phase change dialog: a reason becomes required, live, when going back; future dates refused inline."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain import phases
from ess_accompagnement.domain.codes import MAIN_TRACK
from ess_accompagnement.domain.entities import PhaseChange
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.phase_change import PhaseChangeDialog
from tests.ui.dialogs.helpers import error_of, my_project, opened, replace_text, save, type_text


def test_going_back_requires_a_reason(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a project of mine in a main-track phase after émergence
    project_id = my_project(ui_ctx)
    with ui_ctx.db.read() as session:
        current = phases.history(session, project_id)[-1].phase
    dialog = opened(qtbot, ui_ctx, PhaseChangeDialog(ui_ctx, project_id))
    back = next(p for p in MAIN_TRACK if p is not current and phases.reason_needed(dialog.steps, p))
    # WHEN a phase that goes back or skips is chosen
    dialog.phase.set_value(back)
    # THEN the reason is marked required, explained, and Save waits for it
    assert dialog.reason_row.label.text().endswith("*")
    assert "indiquez-en la raison" in error_of(dialog, dialog.reason)
    assert not dialog.save_button.isEnabled()
    type_text(qtbot, dialog.reason, "Le modèle économique est à reprendre.")
    assert error_of(dialog, dialog.reason) == ""
    save(qtbot, ui_ctx, dialog)
    with ui_ctx.db.read() as session:
        change = session.scalars(select(PhaseChange).where(PhaseChange.project_id == project_id)
                                 .order_by(PhaseChange.created_at.desc())).first()
    assert (change.phase, change.reason, change.effective_date) == (
        back, "Le modèle économique est à reprendre.", ui_ctx.today)


def test_a_future_date_is_refused_inline(qtbot: QtBot, ui_ctx: AppContext) -> None:
    dialog = opened(qtbot, ui_ctx, PhaseChangeDialog(ui_ctx, my_project(ui_ctx)))
    dialog.phase.setCurrentIndex(1)
    replace_text(qtbot, dialog.date, "16/03/2026")
    assert "dans le futur" in error_of(dialog, dialog.date)
    assert not dialog.save_button.isEnabled()
    replace_text(qtbot, dialog.date, "31/02/2026")
    assert "date invalide" in error_of(dialog, dialog.date)
