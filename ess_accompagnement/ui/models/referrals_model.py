"""Referral tables: the inbox (received), the outbox (sent), and one project's referrals.

Rows are ``domain.queries.referrals.ReferralRow``; an unanswered referral close to its expiry (and not
reminded in the last few days) is highlighted (amber), an expired or cancelled one greyed. The outbox shows
the last reminder (« Relancée »).
"""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QColor

from ess_accompagnement.domain.codes import ReferralStatus
from ess_accompagnement.domain.queries.referrals import ReferralRow
from ess_accompagnement.domain.text import fold
from ess_accompagnement.ui.labels import capitalised, label
from ess_accompagnement.ui.models.rows_model import Column, RowsTableModel
from ess_accompagnement.ui.widgets.french import reminders_text, short_date

NEAR_EXPIRY = QColor("#FCEFC7")
CLOSED = QColor("#8A8F98")
_CONTEXT = "ReferralsTableModel"
_MISSING = "—"


def status_text(row: ReferralRow) -> str:
    """« Refusée : hors périmètre », « Aboutie : financement accordé », « Proposée »."""
    detail = row.outcome or (row.refusal_reason if row.status is ReferralStatus.REFUSEE else None)
    return f"{capitalised(row.status)} : {label(detail)}" if detail is not None else capitalised(row.status)


def target_text(row: ReferralRow) -> str:
    return f"{row.to_structure} – {row.dispositif}" if row.dispositif else row.to_structure


def _age(row: ReferralRow) -> str:
    return f"{row.age_days} j"


def _expiry(row: ReferralRow) -> str:
    if row.expires_on is None:
        return _MISSING
    return f"{short_date(row.expires_on)} (J-{row.days_left})" if row.days_left is not None else short_date(
        row.expires_on)


def _reminded(row: ReferralRow) -> str:
    """« 23/11/2026 (2 relances) »: the last reminder and how many were sent."""
    return reminders_text(row.reminded_on, row.reminder_count) or _MISSING


_PROJECT = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "Projet"), lambda r: r.project_title,
                               lambda r: fold(r.project_title), tooltip=lambda r: r.motive)
_FROM = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "De"), lambda r: r.from_structure,
                            lambda r: fold(r.from_structure))
_TO = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "Vers"), target_text,
                          lambda r: fold(target_text(r)))
_STATUS = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "Statut"), status_text,
                              lambda r: list(ReferralStatus).index(r.status))
_PROPOSED = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "Proposée le"),
                                lambda r: short_date(r.proposed_on), lambda r: r.proposed_on)
_AGE = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "Âge"), _age, lambda r: r.age_days, right=True)
_EXPIRES = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "Expire le"), _expiry,
                               lambda r: (r.expires_on is None, r.expires_on or r.proposed_on))
_ANSWERED = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "Réponse le"),
                                lambda r: short_date(r.answered_on) or _MISSING,
                                lambda r: (r.answered_on is None, r.answered_on or r.proposed_on))
_REMINDED = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "Relancée"), _reminded,
                                lambda r: (r.reminded_on is None, r.reminded_on or r.proposed_on, r.reminder_count))
_MOTIVE = Column[ReferralRow](QT_TRANSLATE_NOOP("ReferralsTableModel", "Motif"), lambda r: " ".join(r.motive.split()),
                              lambda r: fold(r.motive), tooltip=lambda r: r.motive)


class ReferralsTableModel(RowsTableModel[ReferralRow]):
    """Base: styling shared by every referral table."""

    CONTEXT: ClassVar[str] = _CONTEXT
    COLUMNS: ClassVar[tuple[Column[Any], ...]] = (_PROJECT, _FROM, _TO, _STATUS, _PROPOSED, _AGE, _EXPIRES,
                                                  _ANSWERED, _MOTIVE)

    def background(self, row: ReferralRow) -> QColor | None:
        return NEAR_EXPIRY if row.awaiting_answer and row.near_expiry else None

    def foreground(self, row: ReferralRow) -> QColor | None:
        return CLOSED if row.status in (ReferralStatus.EXPIREE, ReferralStatus.ANNULEE) else None

    def bold(self, row: ReferralRow) -> bool:
        return row.awaiting_answer and row.incoming


class InboxTableModel(ReferralsTableModel):
    """Received referrals: who sent them."""

    COLUMNS = (_PROJECT, _FROM, _TO, _STATUS, _PROPOSED, _AGE, _EXPIRES, _MOTIVE)


class OutboxTableModel(ReferralsTableModel):
    """Sent referrals: where they went."""

    COLUMNS = (_PROJECT, _TO, _STATUS, _PROPOSED, _AGE, _EXPIRES, _ANSWERED, _REMINDED, _MOTIVE)


class ProjectReferralsTableModel(ReferralsTableModel):
    """One project's referrals, whichever structures they link."""

    COLUMNS = (_FROM, _TO, _STATUS, _PROPOSED, _EXPIRES, _ANSWERED, _MOTIVE)
