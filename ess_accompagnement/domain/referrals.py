"""Referrals (« orientations ») between structures, and their state machine.

    proposée ──(receiver)──► acceptée ──► en cours ──► aboutie (outcome code)
       │  ╲──(receiver)──► refusée (coded reason)   ╲──► abandonnée (outcome code)
       │  ╲──(sender)────► annulée                acceptée ──► abandonnée
       ╰──(nobody, N days)► expirée

The sender's fields (``cancelled_on``…) and the receiver's (``answer``, ``refusal_reason``…) are
apart, so the two structures never write the same field. The status shown is derived from both.
Expiry is derived too: a referral still unanswered ``expiry_days`` after it was proposed is shown as
expired and can no longer be answered; nothing needs to run on a schedule, offline copies agree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import settings as shared_settings
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes, Created
from ess_accompagnement.domain.codes import (
    ABANDON_OUTCOMES,
    COMPLETED_OUTCOMES,
    ReferralOutcome,
    ReferralStatus,
    RefusalReason,
)
from ess_accompagnement.domain.entities import Dispositif, PhaseChange, Project, Referral, Structure
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError
from ess_accompagnement.domain.validation import optional_text, required_text

S = ReferralStatus
# What the receiver may do from each status (the sender only cancels a proposed referral).
RECEIVER_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.PROPOSEE: frozenset({S.ACCEPTEE, S.REFUSEE}),
    S.ACCEPTEE: frozenset({S.EN_COURS, S.ABANDONNEE}),
    S.EN_COURS: frozenset({S.ABOUTIE, S.ABANDONNEE}),
}


def derived_status(
    answer: ReferralStatus | None,
    cancelled_on: dt.date | None,
    proposed_on: dt.date,
    *,
    today: dt.date,
    expiry_days: int,
) -> ReferralStatus:
    """The status shown: the receiver's answer if any, else cancelled, expired or proposed."""
    if answer is not None:
        return answer
    if cancelled_on is not None:
        return S.ANNULEE
    if today > expires_on(proposed_on, expiry_days):
        return S.EXPIREE
    return S.PROPOSEE


def expires_on(proposed_on: dt.date, expiry_days: int) -> dt.date:
    return proposed_on + dt.timedelta(days=expiry_days)


@dataclass(frozen=True)
class ReferralDraft:
    project_id: uuid.UUID
    to_structure_id: uuid.UUID
    motive: str
    to_dispositif_id: uuid.UUID | None = None


def propose(session: Session, actor: Actor, draft: ReferralDraft, *, today: dt.date) -> Created:
    """Refer a project led by the actor's structure to another structure."""
    actor.require_writer()
    project = session.get(Project, draft.project_id)
    if project is None or project.deleted_at is not None:
        raise NotFoundError("Projet introuvable.", field="projet")
    if project.lead_structure_id != actor.structure_id:
        raise RuleError("Seule la structure qui mène le projet peut l'orienter.", field="projet")
    target = session.get(Structure, draft.to_structure_id)
    if target is None or target.deleted_at is not None or not target.active:
        raise NotFoundError("Structure destinataire introuvable ou inactive.", field="to")
    if target.id == actor.structure_id:
        raise RuleError("On n'oriente pas un projet vers sa propre structure.", field="to")
    _check_dispositif(session, draft.to_dispositif_id, target, today)
    referral = Referral(
        project_id=project.id,
        from_structure_id=actor.structure_id,
        from_advisor_id=actor.advisor_id,
        to_structure_id=target.id,
        to_dispositif_id=draft.to_dispositif_id,
        motive=required_text(draft.motive, "motive", "Motif de l'orientation", max_length=2000),
        phase_at_referral=_current_phase(session, project.id),
        proposed_on=today,
        owner_structure_id=project.owner_structure_id,
    )
    session.add(referral)
    session.flush()
    return Created(referral.id, Changes(referrals=True, projects=True))


def _check_dispositif(session: Session, dispositif_id: uuid.UUID | None, target: Structure, today: dt.date) -> None:
    if dispositif_id is None:
        return
    dispositif = session.get(Dispositif, dispositif_id)
    if dispositif is None or dispositif.deleted_at is not None:
        raise NotFoundError("Dispositif introuvable.", field="dispositif")
    if dispositif.operator_id != target.id:
        raise RuleError(f"Le dispositif « {dispositif.name} » n'est pas porté par « {target.name} ».",
                        field="dispositif")
    if not dispositif.active or (dispositif.valid_to is not None and dispositif.valid_to < today):
        raise RuleError(f"Le dispositif « {dispositif.name} » n'est plus ouvert.", field="dispositif")


def _current_phase(session: Session, project_id: uuid.UUID) -> object:
    return session.execute(
        select(PhaseChange.phase)
        .where(PhaseChange.project_id == project_id, PhaseChange.deleted_at.is_(None))
        .order_by(PhaseChange.effective_date.desc(), PhaseChange.created_at.desc())
        .limit(1)
    ).scalar()


def _load(session: Session, referral_id: uuid.UUID) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None or referral.deleted_at is not None:
        raise NotFoundError("Orientation introuvable.", field="referral")
    return referral


def status_of(session: Session, referral: Referral, today: dt.date) -> ReferralStatus:
    return derived_status(referral.answer, referral.cancelled_on, referral.proposed_on, today=today,
                          expiry_days=shared_settings.referral_expiry_days(session))


def answer(
    session: Session,
    actor: Actor,
    referral_id: uuid.UUID,
    to: ReferralStatus,
    *,
    today: dt.date,
    reason: RefusalReason | None = None,
    outcome: ReferralOutcome | None = None,
    comment: str | None = None,
) -> Changes:
    """The receiving structure moves the referral on: accept, refuse, start, complete or abandon."""
    actor.require_writer()
    referral = _load(session, referral_id)
    if referral.to_structure_id != actor.structure_id:
        raise RuleError("Seul un conseiller de la structure destinataire peut répondre à cette orientation.",
                        field="referral")
    current = status_of(session, referral, today)
    _check_answer(current, to, reason, outcome)
    comment = optional_text(comment, "comment", "Commentaire")
    if to in (S.ACCEPTEE, S.REFUSEE):
        referral.answered_on, referral.answered_by_id, referral.answer_comment = today, actor.advisor_id, comment
        referral.refusal_reason = reason if to is S.REFUSEE else None
    elif to is S.EN_COURS:
        referral.started_on = today
    else:
        referral.closed_on, referral.outcome, referral.outcome_comment = today, outcome, comment
    referral.answer = to
    session.flush()
    return Changes(referrals=True, projects=True)


def _check_answer(
    current: ReferralStatus,
    to: ReferralStatus,
    reason: RefusalReason | None,
    outcome: ReferralOutcome | None,
) -> None:
    if current is S.EXPIREE:
        raise RuleError(
            "Cette orientation a expiré sans réponse : la structure émettrice peut la proposer à nouveau.",
            field="referral",
        )
    if current is S.ANNULEE:
        raise RuleError("Cette orientation a été annulée par la structure émettrice.", field="referral")
    if to not in RECEIVER_TRANSITIONS.get(current, frozenset()):
        raise RuleError(f"Une orientation « {current.label} » ne peut pas passer à « {to.label} ».", field="referral")
    if to is S.REFUSEE and reason is None:
        raise ValidationError("Motif du refus : choisissez un motif codé.", field="reason")
    if to is S.ABOUTIE and outcome not in COMPLETED_OUTCOMES:
        raise ValidationError("Résultat : choisissez ce qu'a donné l'orientation aboutie.", field="outcome")
    if to is S.ABANDONNEE and outcome not in ABANDON_OUTCOMES:
        raise ValidationError("Résultat : choisissez pourquoi l'orientation est abandonnée.", field="outcome")


def cancel(session: Session, actor: Actor, referral_id: uuid.UUID, *, today: dt.date, comment: str | None = None) \
        -> Changes:
    """The sending structure withdraws a referral that has not been answered."""
    actor.require_writer()
    referral = _load(session, referral_id)
    if referral.from_structure_id != actor.structure_id:
        raise RuleError("Seule la structure émettrice peut annuler cette orientation.", field="referral")
    current = status_of(session, referral, today)
    if current is not S.PROPOSEE:
        raise RuleError(f"Une orientation « {current.label} » ne peut plus être annulée.", field="referral")
    referral.cancelled_on = today
    referral.cancel_comment = optional_text(comment, "comment", "Commentaire")
    session.flush()
    return Changes(referrals=True)


def record_reminder(session: Session, actor: Actor, referral_id: uuid.UUID, *, today: dt.date) -> Changes:
    """The sending structure records that it reminded (« relancé ») the receiver of an unanswered referral."""
    actor.require_writer()
    referral = _load(session, referral_id)
    if referral.from_structure_id != actor.structure_id:
        raise RuleError("Seule la structure émettrice peut relancer cette orientation.", field="referral")
    current = status_of(session, referral, today)
    if current is S.EXPIREE:
        raise RuleError("Cette orientation a expiré sans réponse : proposez-la à nouveau plutôt que de la relancer.",
                        field="referral")
    if current is not S.PROPOSEE:
        raise RuleError(f"Une orientation « {current.label} » n'attend plus de réponse : elle ne se relance pas.",
                        field="referral")
    referral.reminded_on = today
    referral.reminder_count = (referral.reminder_count or 0) + 1
    session.flush()
    return Changes(referrals=True)
