"""Use case on notes: a dated free text on a project, kept by the structure that wrote it unless shared."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes, Created
from ess_accompagnement.domain.entities import Note, Project, Referral
from ess_accompagnement.domain.errors import NotFoundError, RuleError

MAX_LENGTH = 20_000


@dataclass(frozen=True)
class NoteDraft:
    project_id: uuid.UUID
    text: str
    shared: bool = False
    """Shared with the other structures of the project's parcours; otherwise only the writer's structure sees it."""
    written_on: dt.date | None = None
    """The day the note is about (today when None)."""


def add_note(session: Session, actor: Actor, draft: NoteDraft, *, today: dt.date) -> Created:
    """Write a note on a project the actor's structure leads or received through a referral."""
    actor.require_writer()
    project = session.get(Project, draft.project_id)
    if project is None or project.deleted_at is not None:
        raise NotFoundError("Projet introuvable.", field="projet")
    if project.lead_structure_id != actor.structure_id and not _referred_to(session, project.id, actor.structure_id):
        raise RuleError("Seules les structures qui suivent ce projet peuvent y écrire une note.", field="projet")
    text = validation.required_text(draft.text, "text", "Note", max_length=MAX_LENGTH)
    written_on = draft.written_on or today
    if written_on > today:
        raise RuleError("Date de la note : elle ne peut pas être dans le futur.", field="date")
    note = Note(project_id=project.id, advisor_id=actor.advisor_id, written_on=written_on, text=text,
                shared=draft.shared, owner_structure_id=actor.structure_id)
    session.add(note)
    session.flush()
    return Created(note.id, Changes(notes=True, projects=True))


def _referred_to(session: Session, project_id: uuid.UUID, structure_id: uuid.UUID) -> bool:
    found = session.execute(
        select(Referral.id).where(Referral.project_id == project_id, Referral.to_structure_id == structure_id,
                                  Referral.deleted_at.is_(None)).limit(1)
    ).first()
    return found is not None
