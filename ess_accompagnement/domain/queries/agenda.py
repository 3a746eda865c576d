"""An advisor's week: appointments, the sessions of the structure's permanences, and public holidays.

Times are returned in Europe/Paris (aware datetimes): appointments are stored in UTC, permanences
keep a first session (UTC) and an RFC 5545 RRULE expanded here in local time, so a 09:30 session
stays at 09:30 across daylight saving time (as ``reports/calendar.py`` writes it into .ics files).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from dateutil.rrule import rrulestr
from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.entities import Advisor, Appointment, Permanence, Project
from ess_accompagnement.domain.holidays import holidays_between
from ess_accompagnement.domain.validation import PARIS

logger = logging.getLogger(__name__)

DEFAULT_PERMANENCE_MINUTES = 180
WEEK_DAYS = 7


class Scope(StrEnum):
    MINE = "mine"
    """The acting advisor's appointments."""
    STRUCTURE = "structure"
    """Every appointment of the advisors of the acting advisor's structure."""


@dataclass(frozen=True)
class AgendaAppointment:
    id: uuid.UUID
    project_id: uuid.UUID
    project_title: str
    starts_at: dt.datetime  # Europe/Paris
    ends_at: dt.datetime
    mode: AppointmentMode
    status: AppointmentStatus
    place: str | None
    advisor: str | None
    mine: bool


@dataclass(frozen=True)
class PermanenceSession:
    permanence_id: uuid.UUID
    name: str
    address: str | None
    starts_at: dt.datetime  # Europe/Paris
    ends_at: dt.datetime


@dataclass(frozen=True)
class AgendaWeek:
    monday: dt.date
    appointments: tuple[AgendaAppointment, ...]
    permanences: tuple[PermanenceSession, ...]
    holidays: dict[dt.date, str]

    @property
    def days(self) -> tuple[dt.date, ...]:
        return tuple(self.monday + dt.timedelta(days=n) for n in range(WEEK_DAYS))

    def on(self, day: dt.date) -> tuple[AgendaAppointment, ...]:
        return tuple(a for a in self.appointments if a.starts_at.date() == day)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def week_agenda(session: Session, *, advisor_id: uuid.UUID, structure_id: uuid.UUID, day: dt.date,
                scope: Scope = Scope.MINE) -> AgendaWeek:
    """The week (Monday to Sunday) holding ``day``."""
    monday = week_start(day)
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=PARIS)
    end = start + dt.timedelta(days=WEEK_DAYS)
    week = AgendaWeek(
        monday=monday,
        appointments=tuple(_appointments(session, advisor_id, structure_id, scope, start, end)),
        permanences=tuple(permanence_sessions(session, structure_id, start, end)),
        holidays=holidays_between(monday, monday + dt.timedelta(days=WEEK_DAYS - 1)),
    )
    logger.debug("agenda of week %s: %d appointments, %d permanence sessions", monday, len(week.appointments),
                 len(week.permanences))
    return week


def _appointments(session: Session, advisor_id: uuid.UUID, structure_id: uuid.UUID, scope: Scope,
                  start: dt.datetime, end: dt.datetime) -> list[AgendaAppointment]:
    query = (
        select(Appointment, Project.title, Advisor.name)
        .join(Project, Project.id == Appointment.project_id)
        .outerjoin(Advisor, Advisor.id == Appointment.advisor_id)
        .where(Appointment.deleted_at.is_(None), Project.deleted_at.is_(None),
               Appointment.starts_at >= start.astimezone(dt.UTC), Appointment.starts_at < end.astimezone(dt.UTC))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if Scope(scope) is Scope.MINE:
        query = query.where(Appointment.advisor_id == advisor_id)
    else:
        query = query.where(Advisor.structure_id == structure_id)
    rows = []
    for a, title, advisor in session.execute(query):
        starts = a.starts_at.astimezone(PARIS)
        rows.append(AgendaAppointment(
            id=a.id, project_id=a.project_id, project_title=title, starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=a.duration_minutes), mode=a.mode, status=a.status, place=a.place,
            advisor=advisor, mine=a.advisor_id == advisor_id,
        ))
    return rows


def permanence_sessions(session: Session, structure_id: uuid.UUID, start: dt.datetime, end: dt.datetime) \
        -> list[PermanenceSession]:
    """The sessions of the active permanences ``structure_id`` takes part in, starting in [start, end)."""
    permanences = session.scalars(
        select(Permanence).where(Permanence.deleted_at.is_(None), Permanence.active.is_(True))
        .order_by(Permanence.name, Permanence.id)
    ).all()
    wanted = str(structure_id)
    sessions = [s for p in permanences if wanted in (p.structure_ids or []) for s in _expand(p, start, end)]
    return sorted(sessions, key=lambda s: (s.starts_at, s.name))


def _expand(permanence: Permanence, start: dt.datetime, end: dt.datetime) -> list[PermanenceSession]:
    if permanence.first_start is None:
        return []
    first = permanence.first_start.astimezone(PARIS).replace(tzinfo=None)
    local_start, local_end = start.astimezone(PARIS).replace(tzinfo=None), end.astimezone(PARIS).replace(tzinfo=None)
    if permanence.rrule:
        try:
            rule = rrulestr(permanence.rrule.strip().removeprefix("RRULE:"), dtstart=first)
        except ValueError:
            logger.info("permanence %s: unreadable recurrence rule, left out of the agenda", permanence.id)
            return []
        moments = [m for m in rule.between(local_start, local_end, inc=True) if m < local_end]
    else:
        moments = [first] if local_start <= first < local_end else []
    minutes = permanence.duration_minutes or DEFAULT_PERMANENCE_MINUTES
    return [
        PermanenceSession(permanence.id, permanence.name, permanence.address, m.replace(tzinfo=PARIS),
                          m.replace(tzinfo=PARIS) + dt.timedelta(minutes=minutes))
        for m in moments
    ]
