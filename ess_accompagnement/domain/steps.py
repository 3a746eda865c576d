"""Use cases on next steps once set: mark one done (« faite »), or reopen it.

A next step is decided at an appointment (``appointments``) and waits, on the home screen and in the project's
header, until someone marks it done. Rules, checked before anything is written:
- only a writing advisor of the structure that set the step (its ``owner_structure_id``) marks it, as for any
  row of that structure;
- the done date is not in the future, nor before the appointment that set the step;
- a step is marked done once; reopening clears its done date (a step marked by mistake).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy.orm import Session

from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.domain.entities import Appointment, NextStep, Project
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError
from ess_accompagnement.domain.validation import PARIS, format_date

logger = logging.getLogger(__name__)

STEP_CHANGES = Changes(projects=True, appointments=True)
"""What marking a step touches: the project (its header's next step) and the appointments (their steps)."""


def mark_step_done(session: Session, actor: Actor, step_id: uuid.UUID, *, done_on: dt.date, today: dt.date) -> Changes:
    """Record that the step was done on ``done_on``."""
    actor.require_writer()
    step = _own_step(session, actor, step_id)
    if step.done_date is not None:
        raise RuleError(f"Cette étape est déjà marquée comme faite, le {format_date(step.done_date)}.", field="step")
    if done_on > today:
        raise ValidationError(f"Date : le {format_date(done_on)} est dans le futur.", field="done_on")
    set_on = _set_on(session, step)
    if set_on is not None and done_on < set_on:
        raise ValidationError(f"Date : le {format_date(done_on)} précède le rendez-vous du {format_date(set_on)} "
                              "qui a fixé cette étape.", field="done_on")
    step.done_date = done_on
    logger.info("next step marked done")
    return STEP_CHANGES


def reopen_step(session: Session, actor: Actor, step_id: uuid.UUID) -> Changes:
    """Clear the done date of a step marked done by mistake: it waits again."""
    actor.require_writer()
    step = _own_step(session, actor, step_id)
    if step.done_date is None:
        raise RuleError("Cette étape n'est pas marquée comme faite.", field="step")
    step.done_date = None
    logger.info("next step reopened")
    return STEP_CHANGES


def _own_step(session: Session, actor: Actor, step_id: uuid.UUID) -> NextStep:
    step = session.get(NextStep, step_id)
    project = session.get(Project, step.project_id) if step is not None else None
    if step is None or step.deleted_at is not None or project is None or project.deleted_at is not None:
        raise NotFoundError("Étape introuvable.", field="step")
    if step.owner_structure_id != actor.structure_id:
        raise RuleError("Seule la structure qui a fixé cette étape peut la marquer.", field="step")
    return step


def _set_on(session: Session, step: NextStep) -> dt.date | None:
    """The Paris day of the appointment that set the step (None for a step set outside an appointment)."""
    appointment = session.get(Appointment, step.appointment_id) if step.appointment_id is not None else None
    return appointment.starts_at.astimezone(PARIS).date() if appointment is not None else None
