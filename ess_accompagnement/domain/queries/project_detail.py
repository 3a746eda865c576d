"""One project's whole story: its identity, holders, and the timeline of everything that happened."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from ess_accompagnement.domain import settings
from ess_accompagnement.domain.codes import (
    AppointmentMode,
    AppointmentStatus,
    FinancingStatus,
    Instrument,
    LegalForm,
    MemberRole,
    Phase,
    Prescripteur,
    ProjectStatus,
    ReferralStatus,
    Sector,
)
from ess_accompagnement.domain.entities import (
    Advisor,
    Appointment,
    Commune,
    Dispositif,
    Financing,
    NextStep,
    Note,
    Person,
    PhaseChange,
    Project,
    ProjectMember,
    Referral,
    Structure,
)
from ess_accompagnement.domain.errors import NotFoundError
from ess_accompagnement.domain.queries.projects import role_order
from ess_accompagnement.domain.referrals import derived_status, expires_on
from ess_accompagnement.domain.validation import PARIS, format_amount
from ess_accompagnement.store.derived import project_state

KIND_ORDER = ("phase", "referral", "financing", "appointment", "note")


@dataclass(frozen=True)
class HolderRow:
    person_id: uuid.UUID
    first_name: str
    last_name: str
    role: MemberRole


@dataclass(frozen=True)
class TimelineEntry:
    """One dated event of a project. ``when`` is a date, or a datetime for appointments."""

    when: dt.date | dt.datetime
    kind: str  # phase, appointment, referral, financing, note
    id: uuid.UUID
    title: str
    detail: str | None
    structure: str | None

    @property
    def day(self) -> dt.date:
        """The calendar day in France (appointments are stored in UTC)."""
        return self.when.astimezone(PARIS).date() if isinstance(self.when, dt.datetime) else self.when

    @property
    def sort_key(self) -> tuple[dt.date, dt.time, int]:
        time = self.when.astimezone(PARIS).time() if isinstance(self.when, dt.datetime) else dt.time.min
        return (self.day, time, KIND_ORDER.index(self.kind))


@dataclass(frozen=True)
class ProjectDetail:
    id: uuid.UUID
    title: str
    summary: str | None
    status: ProjectStatus
    phase: Phase | None
    phase_since: dt.date | None
    legal_form: LegalForm
    envisaged_legal_form: LegalForm | None
    sector: Sector | None
    commune_code: str | None
    commune: str | None
    departement: str | None
    epci: str | None
    lead_structure_id: uuid.UUID
    lead_structure: str
    lead_advisor: str | None
    prescripteur: Prescripteur | None
    siret: str | None
    rna: str | None
    jobs_created: Decimal | None
    jobs_maintained: Decimal | None
    innovation_sociale: bool
    esus: bool
    confidential: bool
    created_at: dt.datetime
    holders: tuple[HolderRow, ...]
    open_next_steps: tuple[tuple[str, dt.date | None], ...]
    timeline: tuple[TimelineEntry, ...]


def project_detail(session: Session, project_id: uuid.UUID, *, today: dt.date,
                   reader_structure_id: uuid.UUID | None) -> ProjectDetail:
    """The project's file as ``reader_structure_id`` may see it (None: only what is shared with all)."""
    row = session.execute(
        select(Project, project_state.c.phase, project_state.c.phase_since, Commune.name, Commune.departement,
               Commune.epci_name, Structure.name, Advisor.name)
        .join(project_state, project_state.c.project_id == Project.id)
        .join(Structure, Structure.id == Project.lead_structure_id)
        .outerjoin(Commune, Commune.code == Project.commune_code)
        .outerjoin(Advisor, Advisor.id == Project.lead_advisor_id)
        .where(Project.id == project_id, Project.deleted_at.is_(None))
    ).first()
    if row is None:
        raise NotFoundError("Projet introuvable.", field="projet")
    p: Project = row[0]
    return ProjectDetail(
        id=p.id, title=p.title, summary=p.summary, status=p.status, phase=Phase(row[1]) if row[1] else None,
        phase_since=row[2], legal_form=p.legal_form, envisaged_legal_form=p.envisaged_legal_form, sector=p.sector,
        commune_code=p.commune_code, commune=row[3], departement=row[4], epci=row[5],
        lead_structure_id=p.lead_structure_id, lead_structure=row[6], lead_advisor=row[7],
        prescripteur=p.prescripteur, siret=p.siret, rna=p.rna, jobs_created=p.jobs_created,
        jobs_maintained=p.jobs_maintained, innovation_sociale=p.innovation_sociale, esus=p.esus,
        confidential=p.confidential, created_at=p.created_at, holders=tuple(holders(session, project_id)),
        open_next_steps=tuple(open_next_steps(session, project_id)),
        timeline=tuple(timeline(session, project_id, today=today, reader_structure_id=reader_structure_id)),
    )


def holders(session: Session, project_id: uuid.UUID) -> list[HolderRow]:
    rows = session.execute(
        select(Person.id, Person.first_name, Person.last_name, ProjectMember.role)
        .join(ProjectMember, ProjectMember.person_id == Person.id)
        .where(ProjectMember.project_id == project_id, ProjectMember.deleted_at.is_(None),
               Person.deleted_at.is_(None))
        .order_by(role_order(), Person.sort_key)
    ).all()
    return [HolderRow(*row) for row in rows]


def open_next_steps(session: Session, project_id: uuid.UUID) -> list[tuple[str, dt.date | None]]:
    rows = session.execute(
        select(NextStep.text, NextStep.due_date)
        .where(NextStep.project_id == project_id, NextStep.deleted_at.is_(None), NextStep.done_date.is_(None))
        .order_by(NextStep.due_date.is_(None), NextStep.due_date)
    ).all()
    return [(text, due) for text, due in rows]


def timeline(session: Session, project_id: uuid.UUID, *, today: dt.date,
             reader_structure_id: uuid.UUID | None) -> list[TimelineEntry]:
    """Every phase change, appointment, referral, financing line and note, oldest first.

    Notes stay with the structure that wrote them unless shared: another structure's private notes
    are left out (all private notes when ``reader_structure_id`` is None).
    """
    entries = (
        _phase_entries(session, project_id)
        + _appointment_entries(session, project_id)
        + _referral_entries(session, project_id, today)
        + _financing_entries(session, project_id)
        + _note_entries(session, project_id, reader_structure_id)
    )
    return sorted(entries, key=lambda entry: entry.sort_key)


def _phase_entries(session: Session, project_id: uuid.UUID) -> list[TimelineEntry]:
    rows = session.execute(
        select(PhaseChange.id, PhaseChange.effective_date, PhaseChange.phase, PhaseChange.reason, Structure.name)
        .join(Structure, Structure.id == PhaseChange.owner_structure_id)
        .where(PhaseChange.project_id == project_id, PhaseChange.deleted_at.is_(None))
    ).all()
    return [TimelineEntry(date, "phase", id_, f"Phase : {Phase(phase).label}", reason, structure)
            for id_, date, phase, reason, structure in rows]


def _appointment_entries(session: Session, project_id: uuid.UUID) -> list[TimelineEntry]:
    rows = session.execute(
        select(Appointment.id, Appointment.starts_at, Appointment.mode, Appointment.status,
               Appointment.duration_minutes, Appointment.place, Appointment.topics, Structure.name)
        .join(Structure, Structure.id == Appointment.owner_structure_id)
        .where(Appointment.project_id == project_id, Appointment.deleted_at.is_(None))
    ).all()
    entries = []
    for id_, starts_at, mode, status, minutes, place, topics, structure in rows:
        title = f"Rendez-vous ({AppointmentMode(mode).label}, {minutes} min) : {AppointmentStatus(status).label}"
        detail = " ; ".join(part for part in (place, ", ".join(topics or [])) if part) or None
        entries.append(TimelineEntry(starts_at, "appointment", id_, title, detail, structure))
    return entries


def _referral_entries(session: Session, project_id: uuid.UUID, today: dt.date) -> list[TimelineEntry]:
    target = aliased(Structure)
    source = aliased(Structure)
    rows = session.execute(
        select(Referral, source.name, target.name, Dispositif.name)
        .join(source, source.id == Referral.from_structure_id)
        .join(target, target.id == Referral.to_structure_id)
        .outerjoin(Dispositif, Dispositif.id == Referral.to_dispositif_id)
        .where(Referral.project_id == project_id, Referral.deleted_at.is_(None))
    ).all()
    expiry = settings.referral_expiry_days(session)
    entries = []
    for referral, from_name, to_name, dispositif in rows:
        status = derived_status(referral.answer, referral.cancelled_on, referral.proposed_on, today=today,
                                expiry_days=expiry)
        target_label = f"{to_name} – {dispositif}" if dispositif else to_name
        detail = referral.motive
        if status is ReferralStatus.REFUSEE and referral.refusal_reason:
            detail = f"{detail} (refus : {referral.refusal_reason.label})"
        elif referral.outcome:
            detail = f"{detail} (résultat : {referral.outcome.label})"
        elif status is ReferralStatus.PROPOSEE:
            detail = f"{detail} (sans réponse, expire le {expires_on(referral.proposed_on, expiry):%d/%m/%Y})"
        entries.append(TimelineEntry(referral.proposed_on, "referral", referral.id,
                                     f"Orientation vers {target_label} : {status.label}", detail, from_name))
    return entries


def _financing_entries(session: Session, project_id: uuid.UUID) -> list[TimelineEntry]:
    rows = session.execute(
        select(Financing, Structure.name, Dispositif.name)
        .outerjoin(Structure, Structure.id == Financing.funder_structure_id)
        .outerjoin(Dispositif, Dispositif.id == Financing.dispositif_id)
        .where(Financing.project_id == project_id, Financing.deleted_at.is_(None))
    ).all()
    entries = []
    for line, funder, dispositif in rows:
        amount = line.amount_granted if line.amount_granted is not None else line.amount_requested
        who = dispositif or funder or line.funder_name or "financeur non précisé"
        title = (f"Financement {Instrument(line.instrument).label} ({who}) : "
                 f"{format_amount(amount) if amount is not None else 'montant non précisé'}, "
                 f"{FinancingStatus(line.status).label}")
        when = line.decided_on or line.requested_on or line.created_at.date()
        entries.append(TimelineEntry(when, "financing", line.id, title, line.comment, funder))
    return entries


def _note_entries(session: Session, project_id: uuid.UUID, reader: uuid.UUID | None) -> list[TimelineEntry]:
    readable = Note.shared.is_(True) if reader is None else or_(Note.shared.is_(True), Note.owner_structure_id == reader)
    rows = session.execute(
        select(Note.id, Note.written_on, Note.text, Structure.name)
        .join(Structure, Structure.id == Note.owner_structure_id)
        .where(Note.project_id == project_id, Note.deleted_at.is_(None), readable)
    ).all()
    return [TimelineEntry(date, "note", id_, "Note", text, structure) for id_, date, text, structure in rows]
