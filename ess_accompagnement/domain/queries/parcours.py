"""A project's « parcours »: the ordered chain of structures and dispositifs it went through.

The chain starts with the lead structure (since the first phase, else since the project was
recorded), then lists each referral the project reached or is waiting at, oldest first, with its
dates and its outcome. Cancelled and expired referrals are not steps: the project never got there.
The PDF summary (``reports/summary.py``), the project page and the sync screens share these rules.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ess_accompagnement.domain import settings
from ess_accompagnement.domain.codes import Phase, ReferralOutcome, ReferralStatus, RefusalReason
from ess_accompagnement.domain.entities import Dispositif, PhaseChange, Project, Referral, Structure
from ess_accompagnement.domain.errors import NotFoundError
from ess_accompagnement.domain.referrals import derived_status, expires_on

PARCOURS_STATUSES = frozenset({ReferralStatus.PROPOSEE, ReferralStatus.ACCEPTEE, ReferralStatus.EN_COURS,
                               ReferralStatus.ABOUTIE, ReferralStatus.ABANDONNEE, ReferralStatus.REFUSEE})
"""Referral statuses that make a step of the parcours (the project reached, or is waiting at, that structure)."""


@dataclass(frozen=True)
class ParcoursStep:
    """One structure of the chain: the lead structure (``referral_id`` None), then each referral."""

    position: int  # 1 for the lead structure
    structure_id: uuid.UUID
    structure: str
    dispositif: str | None
    since: dt.date  # the lead's start, or the day the referral was proposed
    referral_id: uuid.UUID | None = None
    from_structure: str | None = None
    phase_at_referral: Phase | None = None
    status: ReferralStatus | None = None
    answered_on: dt.date | None = None
    started_on: dt.date | None = None
    closed_on: dt.date | None = None
    expires_on: dt.date | None = None  # while unanswered
    refusal_reason: RefusalReason | None = None
    outcome: ReferralOutcome | None = None

    @property
    def is_lead(self) -> bool:
        return self.referral_id is None

    @property
    def last_date(self) -> dt.date:
        """The latest date known for this step (its last move)."""
        return max(d for d in (self.since, self.answered_on, self.started_on, self.closed_on) if d is not None)


def in_parcours(status: ReferralStatus) -> bool:
    return status in PARCOURS_STATUSES


def parcours_start(first_phase_date: dt.date | None, created_at: dt.datetime) -> dt.date:
    """When the lead structure's step starts: the first phase's date, else the day the project was recorded."""
    return first_phase_date if first_phase_date is not None else created_at.date()


def project_parcours(session: Session, project_id: uuid.UUID, *, today: dt.date) -> tuple[ParcoursStep, ...]:
    """The project's chain, lead structure first, then its referrals in the order they were proposed."""
    row = session.execute(
        select(Project.created_at, Structure.id, Structure.name)
        .join(Structure, Structure.id == Project.lead_structure_id)
        .where(Project.id == project_id, Project.deleted_at.is_(None))
    ).first()
    if row is None:
        raise NotFoundError("Projet introuvable.", field="projet")
    first_phase = session.scalar(
        select(PhaseChange.effective_date)
        .where(PhaseChange.project_id == project_id, PhaseChange.deleted_at.is_(None))
        .order_by(PhaseChange.effective_date).limit(1)
    )
    steps = [ParcoursStep(1, row[1], row[2], None, parcours_start(first_phase, row[0]))]
    for step in _referral_steps(session, project_id, today):
        steps.append(_numbered(step, len(steps) + 1))
    return tuple(steps)


def _numbered(step: ParcoursStep, position: int) -> ParcoursStep:
    return replace(step, position=position)


def _referral_steps(session: Session, project_id: uuid.UUID, today: dt.date) -> list[ParcoursStep]:
    source, target = aliased(Structure), aliased(Structure)
    rows = session.execute(
        select(Referral, source.name, target.name, Dispositif.name)
        .join(source, source.id == Referral.from_structure_id)
        .join(target, target.id == Referral.to_structure_id)
        .outerjoin(Dispositif, Dispositif.id == Referral.to_dispositif_id)
        .where(Referral.project_id == project_id, Referral.deleted_at.is_(None))
        .order_by(Referral.proposed_on, Referral.id)
    ).all()
    expiry = settings.referral_expiry_days(session)
    steps = []
    for r, from_name, to_name, dispositif in rows:
        status = derived_status(r.answer, r.cancelled_on, r.proposed_on, today=today, expiry_days=expiry)
        if not in_parcours(status):
            continue
        steps.append(ParcoursStep(
            position=0, structure_id=r.to_structure_id, structure=to_name, dispositif=dispositif,
            since=r.proposed_on, referral_id=r.id, from_structure=from_name, phase_at_referral=r.phase_at_referral,
            status=status, answered_on=r.answered_on, started_on=r.started_on, closed_on=r.closed_on,
            expires_on=expires_on(r.proposed_on, expiry) if status is ReferralStatus.PROPOSEE else None,
            refusal_reason=r.refusal_reason, outcome=r.outcome,
        ))
    return steps
