"""Use cases on advisors and on setting up a new database copy."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import settings, validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes, Created
from ess_accompagnement.domain.codes import AdvisorRole
from ess_accompagnement.domain.entities import Advisor, Structure
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError
from ess_accompagnement.domain.text import fold, sort_key


def add_advisor(
    session: Session,
    actor: Actor | None,
    *,
    name: str,
    structure_id: uuid.UUID,
    email: str | None = None,
    role: AdvisorRole = AdvisorRole.CONSEILLER,
) -> Created:
    """Add an advisor. ``actor`` is None only when setting up an empty database."""
    if actor is not None:
        actor.require_writer()
        if actor.role is not AdvisorRole.RESPONSABLE and actor.structure_id != structure_id:
            raise RuleError("Seul un responsable peut ajouter un conseiller d'une autre structure.", field="structure")
    name = validation.required_text(name, "name", "Nom du conseiller")
    structure = session.get(Structure, structure_id)
    if structure is None or structure.deleted_at is not None:
        raise NotFoundError("Structure introuvable.", field="structure")
    advisor = Advisor(
        name=name,
        sort_key=sort_key(name),
        structure_id=structure_id,
        email=validation.email(email) if email else None,
        role=role,
        owner_structure_id=structure_id,
    )
    session.add(advisor)
    session.flush()
    return Created(advisor.id, Changes(advisors=True))


def set_owner(session: Session, advisor_id: uuid.UUID) -> None:
    """The advisor the command line acts as by default (the owner of this copy)."""
    settings.put(session, settings.OWNER_ADVISOR, str(advisor_id))


def owner_id(session: Session) -> uuid.UUID | None:
    value = settings.get(session, settings.OWNER_ADVISOR)
    return uuid.UUID(value) if value else None


def resolve_advisor(session: Session, text: str) -> uuid.UUID:
    """An advisor named by id or by name (accent- and case-insensitive)."""
    try:
        advisor_id = uuid.UUID(text.strip())
    except ValueError:
        advisor_id = None
    query = select(Advisor.id, Advisor.name).where(Advisor.deleted_at.is_(None))
    if advisor_id is not None:
        found = session.execute(query.where(Advisor.id == advisor_id)).all()
    else:
        found = [row for row in session.execute(query).all() if fold(row.name) == fold(text)]
    if not found:
        raise NotFoundError(f"Aucun conseiller « {text} » dans cette base.", field="advisor")
    if len(found) > 1:
        raise ValidationError(
            f"Plusieurs conseillers s'appellent « {text} » : désignez-le par son identifiant "
            f"({', '.join(str(row.id) for row in found)}).",
            field="advisor",
        )
    return found[0].id
