"""The lists of one project's page: holders with their contact and consent, appointments, financing
(the « tour de table » with totals per status), and the notes the reading structure may see.

``project_page_data`` reads them all in one session, with ``project_detail`` (header and timeline),
the parcours and the project's referrals, so a screen loads a project with one query call.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.codes import (
    AppointmentMode,
    AppointmentStatus,
    ConsentScope,
    FinancingStatus,
    Instrument,
    MemberRole,
)
from ess_accompagnement.domain.entities import (
    Advisor,
    Appointment,
    Commune,
    Dispositif,
    Financing,
    NextStep,
    Note,
    Permanence,
    Person,
    ProjectMember,
    Structure,
)
from ess_accompagnement.domain.queries.parcours import ParcoursStep, project_parcours
from ess_accompagnement.domain.queries.project_detail import ProjectDetail, project_detail
from ess_accompagnement.domain.queries.projects import role_order
from ess_accompagnement.domain.queries.referrals import Box, ReferralRow, referral_rows
from ess_accompagnement.domain.validation import PARIS

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class HolderContact:
    person_id: uuid.UUID
    first_name: str
    last_name: str
    role: MemberRole
    email: str | None
    phone: str | None  # E.164
    commune: str | None
    consent_scope: ConsentScope | None
    consent_date: dt.date | None


@dataclass(frozen=True)
class AppointmentItem:
    id: uuid.UUID
    starts_at: dt.datetime  # Europe/Paris
    duration_minutes: int
    mode: AppointmentMode
    status: AppointmentStatus
    place: str | None  # permanence and place
    structure: str
    advisor: str | None
    topics: tuple[str, ...]
    open_steps: int  # next steps decided at this appointment and not done


@dataclass(frozen=True)
class FinancingItem:
    id: uuid.UUID
    instrument: Instrument
    funder: str | None
    status: FinancingStatus
    requested: Decimal | None
    granted: Decimal | None
    requested_on: dt.date | None
    decided_on: dt.date | None
    comment: str | None


@dataclass(frozen=True)
class FinancingTotal:
    status: FinancingStatus | None  # None: every line
    lines: int
    requested: Decimal
    granted: Decimal


@dataclass(frozen=True)
class NoteItem:
    id: uuid.UUID
    written_on: dt.date
    structure: str
    advisor: str | None
    text: str
    shared: bool


@dataclass(frozen=True)
class ProjectPageData:
    detail: ProjectDetail
    parcours: tuple[ParcoursStep, ...]
    holders: tuple[HolderContact, ...]
    appointments: tuple[AppointmentItem, ...]
    referrals: tuple[ReferralRow, ...]
    financing: tuple[FinancingItem, ...]
    totals: tuple[FinancingTotal, ...]
    notes: tuple[NoteItem, ...]


def project_page_data(session: Session, project_id: uuid.UUID, *, reader_structure_id: uuid.UUID,
                      today: dt.date) -> ProjectPageData:
    """Everything one project's page shows, as ``reader_structure_id`` may see it."""
    financing = tuple(project_financing(session, project_id))
    notes = tuple(project_notes(session, project_id, reader_structure_id))
    detail = project_detail(session, project_id, today=today, reader_structure_id=reader_structure_id)
    return ProjectPageData(
        detail=detail,
        parcours=project_parcours(session, project_id, today=today),
        holders=tuple(project_holders(session, project_id)),
        appointments=tuple(project_appointments(session, project_id)),
        referrals=tuple(referral_rows(session, reader_structure_id, box=Box.ALL, today=today, project_id=project_id)),
        financing=financing,
        totals=financing_totals(financing),
        notes=notes,
    )


def project_holders(session: Session, project_id: uuid.UUID) -> list[HolderContact]:
    rows = session.execute(
        select(Person.id, Person.first_name, Person.last_name, ProjectMember.role, Person.email, Person.phone,
               Commune.name, Person.consent_scope, Person.consent_date)
        .join(ProjectMember, ProjectMember.person_id == Person.id)
        .outerjoin(Commune, Commune.code == Person.commune_code)
        .where(ProjectMember.project_id == project_id, ProjectMember.deleted_at.is_(None),
               Person.deleted_at.is_(None))
        .order_by(role_order(), Person.sort_key)
    ).all()
    return [HolderContact(*row) for row in rows]


def project_appointments(session: Session, project_id: uuid.UUID) -> list[AppointmentItem]:
    """The project's appointments, newest first."""
    open_steps = (
        select(func.count()).select_from(NextStep)
        .where(NextStep.appointment_id == Appointment.id, NextStep.deleted_at.is_(None), NextStep.done_date.is_(None))
        .scalar_subquery()
    )
    rows = session.execute(
        select(Appointment, func.coalesce(Structure.short_name, Structure.name), Advisor.name, Permanence.name,
               open_steps)
        .join(Structure, Structure.id == Appointment.owner_structure_id)
        .outerjoin(Advisor, Advisor.id == Appointment.advisor_id)
        .outerjoin(Permanence, Permanence.id == Appointment.permanence_id)
        .where(Appointment.project_id == project_id, Appointment.deleted_at.is_(None))
        .order_by(Appointment.starts_at.desc(), Appointment.id)
    ).all()
    return [
        AppointmentItem(
            id=a.id, starts_at=a.starts_at.astimezone(PARIS), duration_minutes=a.duration_minutes, mode=a.mode,
            status=a.status, place=" – ".join(p for p in (permanence, a.place) if p) or None, structure=structure,
            advisor=advisor, topics=tuple(a.topics or ()), open_steps=steps,
        )
        for a, structure, advisor, permanence, steps in rows
    ]


def project_financing(session: Session, project_id: uuid.UUID) -> list[FinancingItem]:
    return _financing_items(session, Financing.project_id == project_id)


def financing_line(session: Session, financing_id: uuid.UUID) -> FinancingItem | None:
    """One line of a tour de table (None when it does not exist or was removed)."""
    found = _financing_items(session, Financing.id == financing_id)
    return found[0] if found else None


def _financing_items(session: Session, condition: ColumnElement[bool]) -> list[FinancingItem]:
    rows = session.execute(
        select(Financing, Structure.name, Dispositif.name)
        .outerjoin(Structure, Structure.id == Financing.funder_structure_id)
        .outerjoin(Dispositif, Dispositif.id == Financing.dispositif_id)
        .where(condition, Financing.deleted_at.is_(None))
        .order_by(Financing.created_at, Financing.id)
    ).all()
    return [
        FinancingItem(
            id=f.id, instrument=f.instrument, funder=" – ".join(n for n in (funder, dispositif) if n) or f.funder_name,
            status=f.status, requested=f.amount_requested, granted=f.amount_granted, requested_on=f.requested_on,
            decided_on=f.decided_on, comment=f.comment,
        )
        for f, funder, dispositif in rows
    ]


def financing_totals(lines: tuple[FinancingItem, ...] | list[FinancingItem]) -> tuple[FinancingTotal, ...]:
    """Requested and granted amounts per status (in the order of ``FinancingStatus``), then overall."""
    def total(status: FinancingStatus | None, chosen: list[FinancingItem]) -> FinancingTotal:
        return FinancingTotal(status, len(chosen), sum((f.requested or ZERO for f in chosen), ZERO),
                              sum((f.granted or ZERO for f in chosen), ZERO))

    rows = [total(status, [f for f in lines if f.status is status])
            for status in FinancingStatus if any(f.status is status for f in lines)]
    return (*rows, total(None, list(lines))) if rows else ()


def project_notes(session: Session, project_id: uuid.UUID, reader_structure_id: uuid.UUID) -> list[NoteItem]:
    """The notes the reader's structure may read (its own, and those others shared), newest first."""
    rows = session.execute(
        select(Note.id, Note.written_on, Structure.name, Advisor.name, Note.text, Note.shared)
        .join(Structure, Structure.id == Note.owner_structure_id)
        .outerjoin(Advisor, Advisor.id == Note.advisor_id)
        .where(Note.project_id == project_id, Note.deleted_at.is_(None),
               or_(Note.owner_structure_id == reader_structure_id, Note.shared.is_(True)))
        .order_by(Note.written_on.desc(), Note.created_at.desc())
    ).all()
    return [NoteItem(*row) for row in rows]
