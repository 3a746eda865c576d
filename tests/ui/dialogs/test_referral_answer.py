"""The referral answer dialog: only the moves the derived status allows, for the receiver or the sender."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain import referrals
from ess_accompagnement.domain.actors import load_actor
from ess_accompagnement.domain.codes import ReferralStatus, RefusalReason
from ess_accompagnement.domain.entities import Project, Referral
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.referral_answer import CANCEL, ReferralAnswerDialog
from tests.ui.dialogs.helpers import my_project, opened, other_advisor, save, type_text


def _incoming(ctx: AppContext) -> object:
    """A referral proposed today to my structure by a partner, for one of its projects."""
    with ctx.db.transaction() as session:
        partner = load_actor(session, other_advisor(ctx))
        project = session.query(Project).filter(Project.lead_structure_id == partner.structure_id).first()
        draft = referrals.ReferralDraft(project.id, ctx.structure_id, "Accompagnement à la gouvernance")
        return referrals.propose(session, partner, draft, today=ctx.today).id


def _choose(qtbot: QtBot, dialog: ReferralAnswerDialog, action: str) -> None:
    """Click the action's radio button on its indicator (a click right of its text is not a hit)."""
    button = dialog.buttons_by_action[action]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(6, button.height() // 2))
    assert button.isChecked()


def _visible_actions(dialog: ReferralAnswerDialog) -> list[str]:
    return [action for action, button in dialog.buttons_by_action.items() if button.isVisibleTo(dialog)]


def test_receiver_refuses_with_a_coded_reason(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a referral my structure received
    referral_id = _incoming(ui_ctx)
    dialog = opened(qtbot, ui_ctx, ReferralAnswerDialog(ui_ctx, referral_id))
    # THEN only accept and refuse are offered, and nothing can be saved before choosing
    assert _visible_actions(dialog) == [ReferralStatus.ACCEPTEE, ReferralStatus.REFUSEE]
    assert not dialog.save_button.isEnabled()
    # WHEN refusing: the coded reason is required
    _choose(qtbot, dialog, ReferralStatus.REFUSEE)
    assert dialog.reason.isVisibleTo(dialog) and not dialog.save_button.isEnabled()
    dialog.reason.set_value(RefusalReason.CAPACITE)
    type_text(qtbot, dialog.comment, "Plus de place avant l'été.")
    assert save(qtbot, ui_ctx, dialog) == referral_id
    with ui_ctx.db.read() as session:
        referral = session.get(Referral, referral_id)
    assert (referral.answer, referral.refusal_reason, referral.answer_comment) == (
        ReferralStatus.REFUSEE, RefusalReason.CAPACITE, "Plus de place avant l'été.")


def test_accepted_then_started(qtbot: QtBot, ui_ctx: AppContext) -> None:
    referral_id = _incoming(ui_ctx)
    dialog = opened(qtbot, ui_ctx, ReferralAnswerDialog(ui_ctx, referral_id))
    _choose(qtbot, dialog, ReferralStatus.ACCEPTEE)
    save(qtbot, ui_ctx, dialog)
    dialog = opened(qtbot, ui_ctx, ReferralAnswerDialog(ui_ctx, referral_id))
    assert _visible_actions(dialog) == [ReferralStatus.EN_COURS, ReferralStatus.ABANDONNEE]
    _choose(qtbot, dialog, ReferralStatus.ABANDONNEE)
    assert dialog.outcome.isVisibleTo(dialog) and not dialog.save_button.isEnabled()


def test_sender_cancels(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a referral my structure just sent
    with ui_ctx.db.transaction() as session:
        actor = load_actor(session, ui_ctx.advisor_id)
        partner = load_actor(session, other_advisor(ui_ctx)).structure_id
        referral_id = referrals.propose(session, actor, referrals.ReferralDraft(my_project(ui_ctx), partner, "Prêt"),
                                        today=ui_ctx.today).id
    dialog = opened(qtbot, ui_ctx, ReferralAnswerDialog(ui_ctx, referral_id))
    assert _visible_actions(dialog) == [CANCEL]
    _choose(qtbot, dialog, CANCEL)
    save(qtbot, ui_ctx, dialog)
    with ui_ctx.db.read() as session:
        assert session.get(Referral, referral_id).cancelled_on == ui_ctx.today
