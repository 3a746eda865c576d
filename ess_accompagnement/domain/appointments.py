"""Use cases on appointments (rendez-vous) and the next steps decided there."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
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
    id: uuid.UUID | None = None
    """The existing next step this draft edits (``edit_appointment``); None for a new one."""


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


# ---- Editing an appointment, recording its outcome ----------------------------------------------


@dataclass(frozen=True)
class PermanenceRow:
    id: uuid.UUID
    name: str
    address: str | None


def permanences_of(session: Session, structure_id: uuid.UUID) -> list[PermanenceRow]:
    """The active permanences where ``structure_id`` is present, by name."""
    rows = session.scalars(
        select(Permanence).where(Permanence.deleted_at.is_(None), Permanence.active.is_(True))
        .order_by(Permanence.name, Permanence.id)
    )
    wanted = str(structure_id)
    return [PermanenceRow(p.id, p.name, p.address) for p in rows if wanted in (p.structure_ids or [])]


def appointment_values(session: Session, appointment_id: uuid.UUID) -> AppointmentDraft:
    """The stored values of an appointment and of its open next steps, to fill the form."""
    appointment = _load(session, appointment_id)
    steps = session.scalars(
        select(NextStep).where(NextStep.appointment_id == appointment.id, NextStep.deleted_at.is_(None))
        .order_by(NextStep.due_date.is_(None), NextStep.due_date, NextStep.created_at)
    )
    return AppointmentDraft(
        project_id=appointment.project_id, starts_at=appointment.starts_at,
        duration_minutes=appointment.duration_minutes, mode=appointment.mode, status=appointment.status,
        place=appointment.place, permanence_id=appointment.permanence_id, topics=tuple(appointment.topics or ()),
        notes=appointment.notes, shared=appointment.shared,
        next_steps=tuple(NextStepDraft(step.text, step.due_date, step.id) for step in steps),
    )


def edit_appointment(session: Session, actor: Actor, appointment_id: uuid.UUID, draft: AppointmentDraft, *,
                     now: dt.datetime) -> Changes:
    """Replace an appointment's fields and next steps (moving it, recording its outcome…).

    ``draft.next_steps`` is the whole list: steps with an ``id`` are updated, new ones added, and the
    appointment's steps left out are deleted. ``draft.project_id`` cannot move it to another project.
    """
    actor.require_writer()
    appointment = _load(session, appointment_id)
    if appointment.owner_structure_id != actor.structure_id:
        raise RuleError("Seule la structure qui a pris ce rendez-vous peut le modifier.", field="appointment")
    duration = validation.positive_minutes(draft.duration_minutes, "duration")
    status = draft.status or appointment.status
    if status in (AppointmentStatus.REALISE, AppointmentStatus.ABSENT) and draft.starts_at > now:
        raise RuleError(f"Statut « {status.label} » : ce rendez-vous n'a pas encore eu lieu.", field="status")
    _check_place(session, draft)
    appointment.starts_at, appointment.duration_minutes = draft.starts_at, duration
    appointment.mode, appointment.status, appointment.permanence_id = draft.mode, status, draft.permanence_id
    appointment.place = validation.optional_text(draft.place, "place", "Lieu", max_length=300)
    appointment.topics = [t.strip() for t in draft.topics if t.strip()]
    appointment.notes = validation.optional_text(draft.notes, "notes", "Notes")
    appointment.shared = draft.shared
    _replace_steps(session, actor, appointment, draft.next_steps, now)
    session.flush()
    return Changes(appointments=True, projects=True)


def _load(session: Session, appointment_id: uuid.UUID) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.deleted_at is not None:
        raise NotFoundError("Rendez-vous introuvable.", field="appointment")
    return appointment


def _replace_steps(session: Session, actor: Actor, appointment: Appointment, drafts: tuple[NextStepDraft, ...],
                   now: dt.datetime) -> None:
    existing = {step.id: step for step in session.scalars(
        select(NextStep).where(NextStep.appointment_id == appointment.id, NextStep.deleted_at.is_(None)))}
    for draft in drafts:
        text = validation.required_text(draft.text, "next_step", "Prochaine étape", max_length=1000)
        step = existing.pop(draft.id, None) if draft.id is not None else None
        if step is None:
            session.add(NextStep(project_id=appointment.project_id, appointment_id=appointment.id, text=text,
                                 due_date=draft.due_date, advisor_id=actor.advisor_id,
                                 owner_structure_id=actor.structure_id))
        else:
            step.text, step.due_date = text, draft.due_date
    for step in existing.values():
        step.deleted_at = now
