"""Use cases on financing lines (the « tour de table » of a project)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes, Created
from ess_accompagnement.domain.codes import FinancingStatus, Instrument
from ess_accompagnement.domain.entities import Dispositif, Financing, Structure
from ess_accompagnement.domain.errors import NotFoundError, RuleError
from ess_accompagnement.domain.projects import get_led_project

GRANTED = frozenset({FinancingStatus.ACCORDE, FinancingStatus.VERSE})


@dataclass(frozen=True)
class FinancingDraft:
    """A new line. ``amount`` is the amount requested (or envisaged); the granted amount defaults to it when
    the line is recorded as already granted or paid. Dates default to ``today`` where the status implies
    them (requested unless only envisaged; decided when granted, paid or refused)."""

    project_id: uuid.UUID
    instrument: Instrument
    amount: Decimal
    status: FinancingStatus = FinancingStatus.DEMANDE
    dispositif_id: uuid.UUID | None = None
    funder_structure_id: uuid.UUID | None = None
    funder_name: str | None = None
    comment: str | None = None
    amount_granted: Decimal | None = None
    requested_on: dt.date | None = None
    decided_on: dt.date | None = None


@dataclass(frozen=True)
class FinancingUpdate:
    """What follows a line over time: the funder's answer (status, granted amount, decision date), a
    corrected request, a comment. The instrument and the funder stay: a different one is a new line."""

    status: FinancingStatus
    amount_requested: Decimal
    amount_granted: Decimal | None = None
    requested_on: dt.date | None = None
    decided_on: dt.date | None = None
    comment: str | None = None


@dataclass(frozen=True)
class _Figures:
    amount_requested: Decimal
    amount_granted: Decimal | None
    requested_on: dt.date | None
    decided_on: dt.date | None


DECIDED = GRANTED | {FinancingStatus.REFUSE}


def _figures(status: FinancingStatus, requested: Decimal, granted: Decimal | None, requested_on: dt.date | None,
             decided_on: dt.date | None, today: dt.date) -> _Figures:
    """The amounts and dates a status implies, checked (French messages naming the field)."""
    if requested <= 0:
        raise RuleError("Montant demandé : il doit être supérieur à zéro.", field="amount")
    if status in GRANTED:
        granted = requested if granted is None else granted
        if granted <= 0:
            raise RuleError("Montant accordé : il doit être supérieur à zéro.", field="amount_granted")
    elif granted is not None:
        raise RuleError(f"Montant accordé : un financement « {status.label} » n'a pas de montant accordé.",
                        field="amount_granted")
    if requested_on is None and status is not FinancingStatus.ENVISAGE:
        requested_on = today
    if status in DECIDED:
        decided_on = decided_on or today
    elif status is not FinancingStatus.ABANDONNE and decided_on is not None:
        raise RuleError(f"Date de décision : un financement « {status.label} » n'est pas encore décidé.",
                        field="decided_on")
    for value, name, label in ((requested_on, "requested_on", "Date de demande"),
                               (decided_on, "decided_on", "Date de décision")):
        if value is not None and value > today:
            raise RuleError(f"{label} : elle ne peut pas être postérieure à aujourd'hui "
                            f"({validation.format_date(today)}).", field=name)
    if requested_on is not None and decided_on is not None and decided_on < requested_on:
        raise RuleError(f"Date de décision : elle précède la date de demande ({validation.format_date(requested_on)}).",
                        field="decided_on")
    return _Figures(requested, granted, requested_on, decided_on)


def add_financing(session: Session, actor: Actor, draft: FinancingDraft, *, today: dt.date) -> Created:
    """Record a financing line of a project the actor's structure leads."""
    actor.require_writer()
    project = get_led_project(session, actor, draft.project_id)
    funder_id = draft.funder_structure_id
    if draft.dispositif_id is not None:
        dispositif = session.get(Dispositif, draft.dispositif_id)
        if dispositif is None or dispositif.deleted_at is not None:
            raise NotFoundError("Dispositif introuvable.", field="dispositif")
        if funder_id is not None and funder_id != dispositif.operator_id:
            raise RuleError(f"Le dispositif « {dispositif.name} » n'est pas porté par ce financeur.", field="funder")
        funder_id = dispositif.operator_id
    elif funder_id is not None and session.get(Structure, funder_id) is None:
        raise NotFoundError("Financeur introuvable.", field="funder")
    figures = _figures(draft.status, draft.amount, draft.amount_granted, draft.requested_on, draft.decided_on, today)
    line = Financing(
        project_id=project.id,
        instrument=draft.instrument,
        dispositif_id=draft.dispositif_id,
        funder_structure_id=funder_id,
        funder_name=validation.optional_text(draft.funder_name, "funder", "Financeur", max_length=200),
        amount_requested=figures.amount_requested,
        amount_granted=figures.amount_granted,
        status=draft.status,
        requested_on=figures.requested_on,
        decided_on=figures.decided_on,
        comment=validation.optional_text(draft.comment, "comment", "Commentaire"),
        owner_structure_id=project.owner_structure_id,
    )
    session.add(line)
    session.flush()
    return Created(line.id, Changes(financing=True, projects=True))


def _led_line(session: Session, actor: Actor, financing_id: uuid.UUID) -> Financing:
    line = session.get(Financing, financing_id)
    if line is None or line.deleted_at is not None:
        raise NotFoundError("Ligne de financement introuvable.", field="financing")
    get_led_project(session, actor, line.project_id)
    return line


def update_financing(session: Session, actor: Actor, financing_id: uuid.UUID, update: FinancingUpdate, *,
                     today: dt.date) -> Changes:
    """Follow a line: record the funder's decision (« accordé » with the amount granted, « refusé »), the
    payment, an abandon, or correct the request. Dates the new status implies default to ``today``."""
    actor.require_writer()
    line = _led_line(session, actor, financing_id)
    figures = _figures(update.status, update.amount_requested, update.amount_granted,
                       update.requested_on or line.requested_on,
                       update.decided_on or (line.decided_on if update.status in DECIDED else None), today)
    line.status = update.status
    line.amount_requested = figures.amount_requested
    line.amount_granted = figures.amount_granted
    line.requested_on = figures.requested_on
    line.decided_on = figures.decided_on
    line.comment = validation.optional_text(update.comment, "comment", "Commentaire")
    session.flush()
    return Changes(financing=True, projects=True)


def remove_financing(session: Session, actor: Actor, financing_id: uuid.UUID, *, now: dt.datetime) -> Changes:
    """Take back a line recorded by mistake (kept as deleted, like every synced row)."""
    actor.require_writer()
    line = _led_line(session, actor, financing_id)
    line.deleted_at = now
    session.flush()
    return Changes(financing=True, projects=True)
