"""The referral dialog: targets suggested by the project's phase; a refusal shown next to the target."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain.entities import Referral, Structure
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.referral import ReferralDialog
from tests.ui.dialogs.helpers import error_of, my_project, opened, save, type_text


def _first_suggestion(dialog: ReferralDialog) -> int:
    """The row of the first structure under the « Suggérées » header."""
    model = dialog.structure.model()
    header = next(row for row in range(model.rowCount()) if model.index(row, 0).data().startswith("Suggérées"))
    return header + 1


def test_refer_to_a_suggested_structure(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN the referral dialog of one of my projects
    project_id = my_project(ui_ctx)
    dialog = opened(qtbot, ui_ctx, ReferralDialog(ui_ctx, project_id))
    assert "phase" in dialog.project.text()
    assert not dialog.save_button.isEnabled()
    # WHEN a suggested structure is chosen and the motive typed
    dialog.structure.setCurrentIndex(_first_suggestion(dialog))
    target = dialog.structure.value()
    type_text(qtbot, dialog.motive, "Besoin d'un prêt d'honneur pour démarrer l'activité.")
    referral_id = save(qtbot, ui_ctx, dialog)
    # THEN the referral is proposed to that structure
    with ui_ctx.db.read() as session:
        referral = session.get(Referral, referral_id)
    assert (referral.project_id, referral.to_structure_id, referral.from_structure_id) == (
        project_id, target, ui_ctx.structure_id)
    assert referral.motive == "Besoin d'un prêt d'honneur pour démarrer l'activité."


def test_a_target_gone_inactive_is_refused_next_to_the_field(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a target chosen in the dialog, then deactivated by someone else before Save
    dialog = opened(qtbot, ui_ctx, ReferralDialog(ui_ctx, my_project(ui_ctx)))
    dialog.structure.setCurrentIndex(_first_suggestion(dialog))
    type_text(qtbot, dialog.motive, "Orientation")
    with ui_ctx.db.transaction() as session:
        session.get(Structure, dialog.structure.value()).active = False
    # WHEN saved
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    ui_ctx.tasks.wait_idle()
    # THEN the domain's message is under the structure, nothing was written, Save waits for a new choice
    assert "introuvable ou inactive" in error_of(dialog, dialog.structure)
    assert not dialog.save_button.isEnabled()
    with ui_ctx.db.read() as session:
        assert session.scalars(select(Referral).where(Referral.motive == "Orientation")).first() is None
