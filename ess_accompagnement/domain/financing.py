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
    project_id: uuid.UUID
    instrument: Instrument
    amount: Decimal
    status: FinancingStatus = FinancingStatus.DEMANDE
    dispositif_id: uuid.UUID | None = None
    funder_structure_id: uuid.UUID | None = None
    funder_name: str | None = None
    comment: str | None = None


def add_financing(session: Session, actor: Actor, draft: FinancingDraft, *, today: dt.date) -> Created:
    """Record a financing line. The amount is the one requested, and also granted once granted."""
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
    if draft.amount <= 0:
        raise RuleError("Montant : il doit être supérieur à zéro.", field="amount")
    granted = draft.status in GRANTED
    line = Financing(
        project_id=project.id,
        instrument=draft.instrument,
        dispositif_id=draft.dispositif_id,
        funder_structure_id=funder_id,
        funder_name=validation.optional_text(draft.funder_name, "funder", "Financeur", max_length=200),
        amount_requested=draft.amount,
        amount_granted=draft.amount if granted else None,
        status=draft.status,
        requested_on=today if draft.status is not FinancingStatus.ENVISAGE else None,
        decided_on=today if granted or draft.status is FinancingStatus.REFUSE else None,
        comment=validation.optional_text(draft.comment, "comment", "Commentaire"),
        owner_structure_id=project.owner_structure_id,
    )
    session.add(line)
    session.flush()
    return Created(line.id, Changes(financing=True, projects=True))
