"""The advisor's day (« Accueil »): what needs attention now, in one read.

``home_data`` gathers, for one advisor and one day: today's and tomorrow's appointments, past
appointments whose outcome was never recorded, overdue next steps, referrals waiting for the
advisor's structure to answer, referrals the structure sent that are still unanswered, and the
projects the advisor leads with no contact for a long time. Each section carries its full count and
at most ``SECTION_LIMIT`` rows, so a ten-year database never fills the screen with thousands of lines.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import settings
from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus, ProjectStatus
from ess_accompagnement.domain.entities import Advisor, Appointment, NextStep, Permanence, Project, Referral, Structure
from ess_accompagnement.domain.validation import PARIS

NO_CONTACT_DAYS = 90
"""A project led by the advisor with no appointment held for longer than this is listed as « sans contact »."""
ENDED_STATUSES = (ProjectStatus.CLOS, ProjectStatus.ABANDONNE)
"""A project in one of these statuses has no step waiting any more (its open steps leave the home screen)."""
SECTION_LIMIT = 100
"""Rows listed per section (the section's title still counts them all)."""
BUSY_WINDOW_DAYS = 120
"""How far back ``busiest_advisor`` counts appointments."""

T = TypeVar("T")


@dataclass(frozen=True)
class Section(Generic[T]):
    total: int
    rows: tuple[T, ...]


@dataclass(frozen=True)
class AppointmentItem:
    id: uuid.UUID
    project_id: uuid.UUID
    project_title: str
    starts_at: dt.datetime  # Europe/Paris
    duration_minutes: int
    mode: AppointmentMode
    place: str | None


@dataclass(frozen=True)
class StepItem:
    id: uuid.UUID
    project_id: uuid.UUID
    project_title: str
    text: str
    due_date: dt.date
    days_late: int


@dataclass(frozen=True)
class ReferralItem:
    id: uuid.UUID
    project_id: uuid.UUID
    project_title: str
    other_structure: str  # the sender (inbox) or the receiver (outbox)
    proposed_on: dt.date
    age_days: int
    reminded_on: dt.date | None = None  # the sender's last reminder (« relance »), seen on both sides
    reminder_count: int = 0


@dataclass(frozen=True)
class QuietProjectItem:
    project_id: uuid.UUID
    project_title: str
    last_contact: dt.date | None  # last appointment held, None if never
    days: int | None


@dataclass(frozen=True)
class HomeData:
    today: dt.date
    advisor_name: str
    structure_name: str
    today_appointments: Section[AppointmentItem]
    tomorrow_appointments: Section[AppointmentItem]
    unrecorded: Section[AppointmentItem]
    overdue_steps: Section[StepItem]
    inbox: Section[ReferralItem]
    outbox: Section[ReferralItem]
    quiet_projects: Section[QuietProjectItem]


def home_data(session: Session, advisor_id: uuid.UUID, structure_id: uuid.UUID, today: dt.date) -> HomeData:
    """Everything the home screen shows for ``advisor_id`` (of ``structure_id``) on ``today``."""
    start, tomorrow, after = (_utc_midnight(today + dt.timedelta(days=n)) for n in (0, 1, 2))
    mine = Appointment.advisor_id == advisor_id
    planned = Appointment.status == AppointmentStatus.PLANIFIE
    advisor_name, structure_name = session.execute(
        select(Advisor.name, Structure.name).join(Structure, Structure.id == Advisor.structure_id)
        .where(Advisor.id == advisor_id)).one()
    return HomeData(
        today=today, advisor_name=advisor_name, structure_name=structure_name,
        today_appointments=_appointments(session, [mine, Appointment.starts_at >= start,
                                                   Appointment.starts_at < tomorrow,
                                                   Appointment.status != AppointmentStatus.ANNULE]),
        tomorrow_appointments=_appointments(session, [mine, Appointment.starts_at >= tomorrow,
                                                      Appointment.starts_at < after,
                                                      Appointment.status != AppointmentStatus.ANNULE]),
        unrecorded=_appointments(session, [mine, planned, Appointment.starts_at < start], newest_first=True),
        overdue_steps=overdue_steps(session, advisor_id, today),
        inbox=_referrals(session, Referral.to_structure_id == structure_id, today, incoming=True),
        outbox=_referrals(session, Referral.from_structure_id == structure_id, today, incoming=False),
        quiet_projects=_quiet_projects(session, advisor_id, today),
    )


def busiest_advisor(session: Session, today: dt.date, *, days: int = BUSY_WINDOW_DAYS) -> uuid.UUID | None:
    """The advisor with the most appointments in the ``days`` before ``today`` (the demo's owner)."""
    since = _utc_midnight(today - dt.timedelta(days=days))
    row = session.execute(
        select(Appointment.advisor_id, func.count().label("n"))
        .where(Appointment.advisor_id.is_not(None), Appointment.deleted_at.is_(None),
               Appointment.starts_at >= since, Appointment.starts_at < _utc_midnight(today + dt.timedelta(days=1)))
        .group_by(Appointment.advisor_id).order_by(func.count().desc(), Appointment.advisor_id).limit(1)
    ).first()
    return None if row is None else row[0]


# ---- Sections -----------------------------------------------------------------------------------


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=PARIS).astimezone(dt.UTC)


def _section(session: Session, query: Select, make: type[T] | object) -> Section[T]:  # type: ignore[type-arg]
    total = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    rows = session.execute(query.limit(SECTION_LIMIT)).all()
    return Section(total, tuple(make(*row) for row in rows))  # type: ignore[operator]


def _appointments(session: Session, where: list[ColumnElement[bool]], *,
                  newest_first: bool = False) -> Section[AppointmentItem]:
    order = Appointment.starts_at.desc() if newest_first else Appointment.starts_at.asc()
    query = (
        select(Appointment.id, Appointment.project_id, Project.title, Appointment.starts_at,
               Appointment.duration_minutes, Appointment.mode, func.coalesce(Permanence.name, Appointment.place))
        .join(Project, Project.id == Appointment.project_id)
        .outerjoin(Permanence, Permanence.id == Appointment.permanence_id)
        .where(Appointment.deleted_at.is_(None), Project.deleted_at.is_(None), *where)
        .order_by(order, Appointment.id)
    )

    def make(id_: uuid.UUID, project_id: uuid.UUID, title: str, starts: dt.datetime, minutes: int,
             mode: AppointmentMode, place: str | None) -> AppointmentItem:
        return AppointmentItem(id_, project_id, title, starts.astimezone(PARIS), minutes, mode, place)

    return _section(session, query, make)


def overdue_steps(session: Session, advisor_id: uuid.UUID, today: dt.date) -> Section[StepItem]:
    """Steps not done by their due date, latest first; a closed or abandoned project's steps no longer wait."""
    query = (
        select(NextStep.id, NextStep.project_id, Project.title, NextStep.text, NextStep.due_date)
        .join(Project, Project.id == NextStep.project_id)
        .where(NextStep.deleted_at.is_(None), Project.deleted_at.is_(None), NextStep.done_date.is_(None),
               NextStep.due_date < today, Project.status.not_in(ENDED_STATUSES),
               or_(NextStep.advisor_id == advisor_id,
                   (NextStep.advisor_id.is_(None)) & (Project.lead_advisor_id == advisor_id)))
        .order_by(NextStep.due_date.desc(), NextStep.id)
    )

    def make(id_: uuid.UUID, project_id: uuid.UUID, title: str, text: str, due: dt.date) -> StepItem:
        return StepItem(id_, project_id, title, text, due, (today - due).days)

    return _section(session, query, make)


def _referrals(session: Session, side: ColumnElement[bool], today: dt.date, *,
               incoming: bool) -> Section[ReferralItem]:
    """Referrals still waiting for an answer (not cancelled, not yet expired), oldest first."""
    first_day = today - dt.timedelta(days=settings.referral_expiry_days(session))
    other = Referral.from_structure_id if incoming else Referral.to_structure_id
    query = (
        select(Referral.id, Referral.project_id, Project.title, Structure.name, Referral.proposed_on,
               Referral.reminded_on, Referral.reminder_count)
        .join(Project, Project.id == Referral.project_id)
        .join(Structure, Structure.id == other)
        .where(side, Referral.deleted_at.is_(None), Project.deleted_at.is_(None), Referral.answer.is_(None),
               Referral.cancelled_on.is_(None), Referral.proposed_on >= first_day)
        .order_by(Referral.proposed_on, Referral.id)
    )

    def make(id_: uuid.UUID, project_id: uuid.UUID, title: str, structure: str, proposed: dt.date,
             reminded: dt.date | None, reminders: int | None) -> ReferralItem:
        return ReferralItem(id_, project_id, title, structure, proposed, (today - proposed).days, reminded,
                            reminders or 0)

    return _section(session, query, make)


def _quiet_projects(session: Session, advisor_id: uuid.UUID, today: dt.date) -> Section[QuietProjectItem]:
    """Active projects the advisor leads whose last appointment held is older than NO_CONTACT_DAYS."""
    last_held = (
        select(func.max(Appointment.starts_at))
        .where(Appointment.project_id == Project.id, Appointment.deleted_at.is_(None),
               Appointment.status == AppointmentStatus.REALISE)
        .scalar_subquery()
    )
    limit = _utc_midnight(today - dt.timedelta(days=NO_CONTACT_DAYS))
    query = (
        select(Project.id, Project.title, last_held)
        .where(Project.deleted_at.is_(None), Project.lead_advisor_id == advisor_id,
               Project.status == ProjectStatus.ACTIF, or_(last_held.is_(None), last_held < limit))
        .order_by(last_held.is_not(None), last_held, Project.sort_key)
    )

    def make(project_id: uuid.UUID, title: str, last: dt.datetime | str | None) -> QuietProjectItem:
        day = _as_local_date(last)
        return QuietProjectItem(project_id, title, day, None if day is None else (today - day).days)

    return _section(session, query, make)


def _as_local_date(value: dt.datetime | str | None) -> dt.date | None:
    """A max() over a UTC column comes back as text from SQLite: read it as UTC, give the Paris day."""
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(PARIS).date()
