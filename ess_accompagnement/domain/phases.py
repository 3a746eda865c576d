"""The phases of a project's life, and the rules for moving between them.

Main track: émergence → création → consolidation → changement d'échelle. Side tracks: reprise /
transmission and difficulté can be entered from any phase (a takeover or a difficulty is an event,
not a step back). The current phase is the latest phase change by date, never a stored field.

- Moving one step forward on the main track needs no reason; going back or skipping a step does.
- Leaving a side track is judged against the last main-track phase before it: back to that phase or
  to the next one needs no reason, anything else does.
- The first phase of a project may be any phase (a project can enter the parcours in consolidation).
- A phase change cannot be dated in the future, nor before the project's previous phase change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.domain.codes import MAIN_TRACK, SIDE_TRACKS, Phase
from ess_accompagnement.domain.entities import PhaseChange, Project
from ess_accompagnement.domain.errors import NotFoundError, RuleError
from ess_accompagnement.domain.validation import format_date, optional_text


@dataclass(frozen=True)
class PhaseStep:
    phase: Phase
    effective_date: dt.date


def history(session: Session, project_id: uuid.UUID) -> list[PhaseStep]:
    """The project's phase changes, oldest first (same order as the derived current phase)."""
    rows = session.execute(
        select(PhaseChange.phase, PhaseChange.effective_date)
        .where(PhaseChange.project_id == project_id, PhaseChange.deleted_at.is_(None))
        .order_by(PhaseChange.effective_date, PhaseChange.created_at, PhaseChange.id)
    ).all()
    return [PhaseStep(phase, date) for phase, date in rows]


def reason_needed(steps: list[PhaseStep], target: Phase) -> bool:
    """Whether moving from the history ``steps`` to ``target`` is a step back or a skip."""
    if not steps or target in SIDE_TRACKS:
        return False
    reference = next((s.phase for s in reversed(steps) if s.phase in MAIN_TRACK), None)
    if reference is None:
        return False
    current = steps[-1].phase
    delta = MAIN_TRACK.index(target) - MAIN_TRACK.index(reference)
    if current in SIDE_TRACKS:
        return delta not in (0, 1)
    return delta != 1


def check_transition(steps: list[PhaseStep], target: Phase, date: dt.date, reason: str | None, today: dt.date) -> None:
    """Raise a RuleError when moving to ``target`` on ``date`` breaks a rule."""
    if date > today:
        raise RuleError(
            f"Date du changement de phase : le {format_date(date)} est dans le futur ; "
            "on enregistre un changement une fois qu'il a eu lieu.",
            field="date",
        )
    if steps:
        last = steps[-1]
        if last.phase is target:
            raise RuleError(f"Le projet est déjà en phase « {target.label} ».", field="phase")
        if date < last.effective_date:
            raise RuleError(
                f"Date du changement de phase : le {format_date(date)} est antérieur au changement précédent "
                f"(« {last.phase.label} » le {format_date(last.effective_date)}).",
                field="date",
            )
    if reason_needed(steps, target) and not reason:
        current = steps[-1].phase.label
        raise RuleError(
            f"Passer de « {current} » à « {target.label} » revient en arrière ou saute une phase : "
            "indiquez-en la raison.",
            field="reason",
        )


def change_phase(
    session: Session,
    actor: Actor,
    project_id: uuid.UUID,
    target: Phase,
    *,
    date: dt.date,
    reason: str | None,
    today: dt.date,
) -> Changes:
    """Record that the project moved to ``target`` on ``date``."""
    actor.require_writer()
    project = session.get(Project, project_id)
    if project is None or project.deleted_at is not None:
        raise NotFoundError("Projet introuvable.", field="projet")
    if project.lead_structure_id != actor.structure_id:
        raise RuleError("Seule la structure qui mène le projet peut en changer la phase.", field="projet")
    reason = optional_text(reason, "reason", "Raison")
    check_transition(history(session, project_id), target, date, reason, today)
    session.add(
        PhaseChange(
            project_id=project_id,
            phase=target,
            effective_date=date,
            reason=reason,
            advisor_id=actor.advisor_id,
            owner_structure_id=project.owner_structure_id,
        )
    )
    session.flush()
    return Changes(projects=True, phases=True)
