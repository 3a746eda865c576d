"""Referral lists: what a structure received (inbox) and sent (outbox), with derived status and age."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from ess_accompagnement.domain import settings
from ess_accompagnement.domain.codes import Phase, ReferralOutcome, ReferralStatus, RefusalReason
from ess_accompagnement.domain.entities import Dispositif, Project, Referral, Structure
from ess_accompagnement.domain.referrals import derived_status, expires_on

REMINDER_DAYS = 7
"""An unanswered referral expiring within this many days is due a reminder (« relance »)."""
REMINDER_PAUSE_DAYS = 3
"""After a reminder, the referral is not due another one for this many days: the receiver gets time to
answer before being poked again (advisors asked not to be reminded twice within 3 days, design/peers.md)."""


class Box(StrEnum):
    INBOX = "inbox"
    OUTBOX = "outbox"
    BOTH = "both"
    ALL = "all"
    """Every referral, whichever structures it links (a project's referrals; requires ``project_id``)."""


@dataclass(frozen=True)
class ReferralRow:
    id: uuid.UUID
    project_id: uuid.UUID
    project_title: str
    from_structure: str
    to_structure: str
    dispositif: str | None
    motive: str
    status: ReferralStatus
    proposed_on: dt.date
    answered_on: dt.date | None
    expires_on: dt.date | None  # while unanswered
    age_days: int  # days since proposed
    refusal_reason: RefusalReason | None
    outcome: ReferralOutcome | None
    incoming: bool
    days_left: int | None = None  # days before expiry, while unanswered
    phase_at_referral: Phase | None = None
    comment: str | None = None  # the receiver's answer or outcome comment
    reminded_on: dt.date | None = None  # the sender's last reminder (« relance »)
    reminder_count: int = 0
    days_since_reminder: int | None = None

    @property
    def awaiting_answer(self) -> bool:
        return self.status is ReferralStatus.PROPOSEE

    @property
    def near_expiry(self) -> bool:
        """Unanswered, expiring within REMINDER_DAYS days and not reminded in the last REMINDER_PAUSE_DAYS
        days: the sender should send a reminder."""
        return (self.days_left is not None and self.days_left <= REMINDER_DAYS
                and (self.days_since_reminder is None or self.days_since_reminder >= REMINDER_PAUSE_DAYS))


def referral_rows(
    session: Session,
    structure_id: uuid.UUID,
    *,
    box: Box = Box.BOTH,
    today: dt.date,
    project_id: uuid.UUID | None = None,
    statuses: frozenset[ReferralStatus] | None = None,
) -> list[ReferralRow]:
    """The structure's referrals, newest first (only those in ``statuses`` when given)."""
    source, target = aliased(Structure), aliased(Structure)
    query = (
        select(Referral, Project.title, source.name, target.name, Dispositif.name)
        .join(Project, Project.id == Referral.project_id)
        .join(source, source.id == Referral.from_structure_id)
        .join(target, target.id == Referral.to_structure_id)
        .outerjoin(Dispositif, Dispositif.id == Referral.to_dispositif_id)
        .where(Referral.deleted_at.is_(None))
        .order_by(Referral.proposed_on.desc(), Referral.id.desc())
    )
    if box is Box.INBOX:
        query = query.where(Referral.to_structure_id == structure_id)
    elif box is Box.OUTBOX:
        query = query.where(Referral.from_structure_id == structure_id)
    elif box is Box.BOTH:
        query = query.where(or_(Referral.to_structure_id == structure_id, Referral.from_structure_id == structure_id))
    elif project_id is None:
        raise ValueError("Box.ALL lists one project's referrals: give project_id")
    if project_id is not None:
        query = query.where(Referral.project_id == project_id)
    expiry = settings.referral_expiry_days(session)
    rows = [_row(r, title, from_name, to_name, dispositif, structure_id, today, expiry)
            for r, title, from_name, to_name, dispositif in session.execute(query)]
    return rows if statuses is None else [row for row in rows if row.status in statuses]


def _row(r: Referral, title: str, from_name: str, to_name: str, dispositif: str | None, structure_id: uuid.UUID,
         today: dt.date, expiry: int) -> ReferralRow:
    status = derived_status(r.answer, r.cancelled_on, r.proposed_on, today=today, expiry_days=expiry)
    expires = expires_on(r.proposed_on, expiry) if status is ReferralStatus.PROPOSEE else None
    return ReferralRow(
        id=r.id, project_id=r.project_id, project_title=title, from_structure=from_name, to_structure=to_name,
        dispositif=dispositif, motive=r.motive, status=status, proposed_on=r.proposed_on,
        answered_on=r.answered_on, expires_on=expires, age_days=(today - r.proposed_on).days,
        refusal_reason=r.refusal_reason, outcome=r.outcome, incoming=r.to_structure_id == structure_id,
        days_left=(expires - today).days if expires is not None else None, phase_at_referral=r.phase_at_referral,
        comment=r.outcome_comment or r.answer_comment or r.cancel_comment,
        reminded_on=r.reminded_on, reminder_count=r.reminder_count or 0,
        days_since_reminder=(today - r.reminded_on).days if r.reminded_on is not None else None,
    )


_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")


def _long_date(day: dt.date | None) -> str:
    """« mercredi 18 février 2026 » (« 1er » for the first of the month)."""
    if day is None:
        return ""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{_WEEKDAYS[day.weekday()]} {number} {_MONTHS[day.month - 1]} {day.year}"


def reminder_text(row: ReferralRow, *, advisor: str, structure: str) -> str:
    """The French reminder e-mail (« relance ») the sender pastes into its mail client for an unanswered referral."""
    dispositif = f" (dispositif {row.dispositif})" if row.dispositif else ""
    earlier = (f"Nous vous avons déjà adressé une relance le {_long_date(row.reminded_on)}.\n"
               if row.reminded_on is not None else "")
    return (
        f"Objet : Relance – orientation du projet « {row.project_title} »\n\n"
        "Bonjour,\n\n"
        f"Le {_long_date(row.proposed_on)}, nous vous avons orienté le projet « {row.project_title} »{dispositif}.\n"
        f"Motif : {' '.join(row.motive.split())}\n"
        f"{earlier}\n"
        f"Sans réponse de votre part, cette orientation expirera le {_long_date(row.expires_on)}. Pourriez-vous "
        "nous dire si vous pouvez l'accepter, ou nous indiquer une autre piste ?\n\n"
        f"Bien cordialement,\n{advisor}\n{structure}\n"
    )
