"""Use cases on appointments (rendez-vous) and the next steps decided there."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes, Created
from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.entities import Appointment, NextStep, Permanence, Project
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError


@dataclass(frozen=True)
class NextStepDraft:
    text: str
    due_date: dt.date | None = None


@dataclass(frozen=True)
class AppointmentDraft:
    project_id: uuid.UUID
    starts_at: dt.datetime
    duration_minutes: int
    mode: AppointmentMode
    status: AppointmentStatus | None = None
    place: str | None = None
    permanence_id: uuid.UUID | None = None
    topics: tuple[str, ...] = ()
    notes: str | None = None
    shared: bool = False
    next_steps: tuple[NextStepDraft, ...] = ()


def add_appointment(session: Session, actor: Actor, draft: AppointmentDraft, *, now: dt.datetime) -> Created:
    """Log an appointment (past or planned) and its next steps."""
    actor.require_writer()
    project = session.get(Project, draft.project_id)
    if project is None or project.deleted_at is not None:
        raise NotFoundError("Projet introuvable.", field="projet")
    duration = validation.positive_minutes(draft.duration_minutes, "duration")
    status = draft.status or (AppointmentStatus.REALISE if draft.starts_at <= now else AppointmentStatus.PLANIFIE)
    if status in (AppointmentStatus.REALISE, AppointmentStatus.ABSENT) and draft.starts_at > now:
        raise RuleError(f"Statut « {status.label} » : ce rendez-vous n'a pas encore eu lieu.", field="status")
    _check_place(session, draft)
    appointment = Appointment(
        project_id=project.id,
        advisor_id=actor.advisor_id,
        starts_at=draft.starts_at,
        duration_minutes=duration,
        mode=draft.mode,
        status=status,
        permanence_id=draft.permanence_id,
        place=validation.optional_text(draft.place, "place", "Lieu", max_length=300),
        topics=[t.strip() for t in draft.topics if t.strip()],
        notes=validation.optional_text(draft.notes, "notes", "Notes"),
        shared=draft.shared,
        owner_structure_id=actor.structure_id,
    )
    session.add(appointment)
    session.flush()
    for step in draft.next_steps:
        text = validation.required_text(step.text, "next_step", "Prochaine étape", max_length=1000)
        session.add(NextStep(project_id=project.id, appointment_id=appointment.id, text=text,
                             due_date=step.due_date, advisor_id=actor.advisor_id,
                             owner_structure_id=actor.structure_id))
    session.flush()
    return Created(appointment.id, Changes(appointments=True, projects=True))


def _check_place(session: Session, draft: AppointmentDraft) -> None:
    if draft.permanence_id is not None:
        permanence = session.get(Permanence, draft.permanence_id)
        if permanence is None or permanence.deleted_at is not None:
            raise NotFoundError("Permanence introuvable.", field="place")
    elif draft.mode is AppointmentMode.PERMANENCE and not (draft.place or "").strip():
        raise ValidationError("Lieu : un rendez-vous en permanence doit dire où (permanence ou lieu).",
                              field="place")
