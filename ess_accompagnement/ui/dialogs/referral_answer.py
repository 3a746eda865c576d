"""Moving a referral on: the receiver accepts, refuses (coded reason), starts, closes or abandons it;
the sender cancels it. Only the moves the current derived status allows are offered."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QButtonGroup, QLabel, QPlainTextEdit, QRadioButton, QVBoxLayout, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import referrals
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import (
    ABANDON_OUTCOMES,
    COMPLETED_OUTCOMES,
    ReferralOutcome,
    ReferralStatus,
    RefusalReason,
)
from ess_accompagnement.domain.errors import NotFoundError, ValidationError
from ess_accompagnement.domain.queries.referrals import ReferralRow, referral_rows
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import CodedCombo
from ess_accompagnement.ui.dialogs.form import FormDialog
from ess_accompagnement.ui.labels import label

logger = logging.getLogger(__name__)

S = ReferralStatus
CANCEL = "cancel"
ACTION_TEXTS: dict[str, str] = {
    S.ACCEPTEE: QT_TRANSLATE_NOOP("ReferralAnswerDialog", "A&ccepter l'orientation"),
    S.REFUSEE: QT_TRANSLATE_NOOP("ReferralAnswerDialog", "&Refuser l'orientation"),
    S.EN_COURS: QT_TRANSLATE_NOOP("ReferralAnswerDialog", "&Démarrer l'accompagnement"),
    S.ABOUTIE: QT_TRANSLATE_NOOP("ReferralAnswerDialog", "&Clore : orientation aboutie"),
    S.ABANDONNEE: QT_TRANSLATE_NOOP("ReferralAnswerDialog", "A&bandonner"),
    CANCEL: QT_TRANSLATE_NOOP("ReferralAnswerDialog", "A&nnuler l'orientation envoyée"),
}
ORDER = (S.ACCEPTEE, S.REFUSEE, S.EN_COURS, S.ABOUTIE, S.ABANDONNEE)


def allowed_actions(row: ReferralRow) -> list[str]:
    """What the actor's structure may do now, in display order."""
    if row.incoming:
        allowed = referrals.RECEIVER_TRANSITIONS.get(row.status, frozenset())
        return [status for status in ORDER if status in allowed]
    return [CANCEL] if row.status is S.PROPOSEE else []


class ReferralAnswerDialog(FormDialog):
    """« Répondre à une orientation » (receiver) or « Annuler une orientation » (sender)."""

    def __init__(self, ctx: AppContext, referral_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Suite à donner à l'orientation"))
        self._subject_id = self.referral_id = referral_id
        self.row: ReferralRow | None = None
        self.setMinimumWidth(560)
        form = self.new_form()
        self.summary = QLabel(wordWrap=True, objectName="referral_summary")
        form.addRow(self.summary)
        self.actions_box = QWidget()
        self._actions_layout = QVBoxLayout(self.actions_box)
        self._actions_layout.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.group.buttonToggled.connect(lambda *_args: self._action_changed())
        self.nothing = QLabel(self.tr("Aucune suite possible dans l'état actuel de l'orientation."), visible=False)
        self._actions_layout.addWidget(self.nothing)
        self.buttons_by_action: dict[str, QRadioButton] = {}
        for action in (*ORDER, CANCEL):
            button = QRadioButton(QCoreApplication.translate("ReferralAnswerDialog", ACTION_TEXTS[action]), visible=False)
            button.setProperty("action", str(action))
            button.setAccessibleName(button.text().replace("&", ""))
            self.group.addButton(button)
            self._actions_layout.addWidget(button)
            self.buttons_by_action[action] = button
            self.add_focusable(button)
        self.actions_label = QLabel(self.tr("Action"))
        form.addRow(self.actions_label, self.actions_box)
        self._detail_rows(form)
        self.finish(form)
        self.load(self._read, self._fill)

    def _detail_rows(self, form: Any) -> None:
        self.reason = CodedCombo(RefusalReason, none_label=self.tr("— choisissez un motif —"))
        self.reason_row = self.add_field(form, self.tr("&Motif du refus"), self.reason, names=("reason",),
                                         required=True)
        self.outcome = CodedCombo(ReferralOutcome, none_label=self.tr("— choisissez —"))
        self.outcome_row = self.add_field(form, self.tr("Rés&ultat"), self.outcome, names=("outcome",), required=True)
        self.comment = QPlainTextEdit(tabChangesFocus=True, maximumHeight=90)
        self.add_field(form, self.tr("Commen&taire"), self.comment, names=("comment",))
        self.set_row_visible(self.reason_row, False)
        self.set_row_visible(self.outcome_row, False)

    def _read(self, session: Session) -> ReferralRow:
        rows = referral_rows(session, self.ctx.structure_id, today=self.ctx.today)
        for row in rows:
            if row.id == self.referral_id:
                return row
        raise NotFoundError("Orientation introuvable.", field="referral")

    def _fill(self, row: ReferralRow) -> None:
        self.row = row
        target = f"{row.to_structure} – {row.dispositif}" if row.dispositif else row.to_structure
        self.summary.setText(self.tr("<b>{0}</b><br>De {1} vers {2}, proposée le {3} : <i>{4}</i><br>"
                                     "Statut : {5}").format(
            _escape(row.project_title), _escape(row.from_structure), _escape(target),
            row.proposed_on.strftime("%d/%m/%Y"), _escape(row.motive), label(row.status)))
        actions = allowed_actions(row)
        for action in actions:
            self.buttons_by_action[action].show()
        if actions:
            self.actions_label.setBuddy(self.buttons_by_action[actions[0]])
            self.buttons_by_action[actions[0]].setFocus()
        self.nothing.setVisible(not actions)
        self.comment.setEnabled(bool(actions))

    # ---- Actions

    def action(self) -> str | None:
        button = self.group.checkedButton()
        return str(button.property("action")) if button is not None else None

    def _action_changed(self) -> None:
        action = self.action()
        self.set_row_visible(self.reason_row, action == S.REFUSEE)
        closing = action in (S.ABOUTIE, S.ABANDONNEE)
        if closing:
            members = COMPLETED_OUTCOMES if action == S.ABOUTIE else ABANDON_OUTCOMES
            self.outcome.set_members([m for m in ReferralOutcome if m in members],
                                     none_label=self.tr("— choisissez —"))
        self.set_row_visible(self.outcome_row, closing)

    def form_valid(self) -> bool:
        return self.action() is not None

    def value(self) -> tuple[str, RefusalReason | None, ReferralOutcome | None, str]:
        """The chosen action (a ``ReferralStatus`` value or ``"cancel"``), its reason or outcome, the comment."""
        action = self.action()
        if action is None:
            raise ValidationError(self.tr("Action : choisissez la suite à donner."), field="action")
        reason = self.reason.value() if action == S.REFUSEE else None
        outcome = self.outcome.value() if action in (S.ABOUTIE, S.ABANDONNEE) else None
        return action, reason, outcome, self.comment.toPlainText()

    def operation(self) -> Callable[[Session, Actor], Any]:
        action, reason, outcome, comment = self.value()
        referral_id, today = self.referral_id, self.ctx.today
        if action == CANCEL:
            return lambda session, actor: referrals.cancel(session, actor, referral_id, today=today, comment=comment)
        target = ReferralStatus(action)
        return lambda session, actor: referrals.answer(session, actor, referral_id, target, today=today,
                                                       reason=reason, outcome=outcome, comment=comment)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
