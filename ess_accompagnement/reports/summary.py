"""« Synthèse d'accompagnement »: one project's whole accompaniment as a PDF, in three variants.

- ``interne``: everything the printing structure may see, notes included;
- ``partenaire``: for a partner or a funder: no notes at all, holders' contacts only where they
  consented to sharing (others by their initials), and a confidential project only if every holder
  consented;
- ``porteur``: « Mon parcours », the holder's own copy, in plain French.

``build_summary`` reads the database once into a frozen ``SummaryData`` (the internal view);
``for_variant`` removes what a variant must not show, *before* anything is drawn, so what is not in
the redacted data cannot leak into the PDF; ``render_summary`` draws it with reportlab Platypus;
``render_many`` prints a batch for a committee, one project in memory at a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

import phonenumbers
from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased
from stdnum.fr import siret as stdnum_siret

from ess_accompagnement.domain import settings
from ess_accompagnement.domain.codes import (
    AppointmentMode,
    AppointmentStatus,
    ConsentScope,
    Instrument,
    MemberRole,
    Phase,
    ReferralOutcome,
    ReferralStatus,
    RefusalReason,
)
from ess_accompagnement.domain.entities import (
    Advisor,
    Appointment,
    Dispositif,
    NextStep,
    Permanence,
    Person,
    PhaseChange,
    ProjectMember,
    Referral,
    Structure,
)
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError
from ess_accompagnement.domain.queries.parcours import PARCOURS_STATUSES, in_parcours, parcours_start
from ess_accompagnement.domain.queries.project_detail import ProjectDetail, project_detail
from ess_accompagnement.domain.queries.project_records import (
    FinancingItem,
    NoteItem,
    project_financing,
    project_notes,
)
from ess_accompagnement.domain.queries.projects import role_order
from ess_accompagnement.domain.referrals import derived_status, expires_on
from ess_accompagnement.domain.text import fold
from ess_accompagnement.domain.validation import PARIS, format_amount, format_date, format_phone
from ess_accompagnement.reports import fonts
from ess_accompagnement.reports.files import write_atomically
from ess_accompagnement.reports.pdf import (
    Cell,
    NumberedCanvas,
    PageFrame,
    ReportDoc,
    SectionStart,
    data_table,
    escaped_lines,
    escaped_text,
    key_value_table,
    paragraph,
)
from ess_accompagnement.reports.texts import Common, HolderCopy, Summary
from ess_accompagnement.store.db import Database

logger = logging.getLogger(__name__)

# Consent scopes that allow a holder's identity and contact details in a partner's copy.
PARTNER_CONSENTS = frozenset({ConsentScope.PARTENAIRES, ConsentScope.PARTENAIRES_FINANCEURS})
# What the holder's copy lists among « the structures that accompany you ».
HOLDER_REFERRAL_STATUSES = PARCOURS_STATUSES - {ReferralStatus.REFUSEE}


class Variant(StrEnum):
    INTERNE = "interne"
    PARTENAIRE = "partenaire"
    PORTEUR = "porteur"

    @classmethod
    def parse(cls, value: str) -> Variant:
        """A variant from its code (« partenaire »), accent- and case-insensitive, or a French error."""
        for member in cls:
            if fold(str(value)) == member.value:
                return member
        choices = ", ".join(member.value for member in cls)
        raise ValidationError(Summary.UNKNOWN_VARIANT.format(value=value, choices=choices), field="variant")


# ---- The data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StructureCard:
    id: uuid.UUID
    name: str
    email: str | None = None
    phone: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class HolderCard:
    first_name: str
    last_name: str
    role: MemberRole
    email: str | None
    phone: str | None  # E.164
    consent: ConsentScope | None
    consent_date: dt.date | None
    initials_only: bool = False

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def shares_with_partners(self) -> bool:
        return self.consent in PARTNER_CONSENTS

    def masked(self) -> HolderCard:
        """The same holder reduced to initials, without any contact detail."""
        return dataclasses.replace(self, first_name=_initial(self.first_name), last_name=_initial(self.last_name),
                                   email=None, phone=None, initials_only=True)


@dataclass(frozen=True)
class PhaseRow:
    phase: Phase
    effective_date: dt.date
    reason: str | None
    recorded_by: str | None  # advisor, else structure


@dataclass(frozen=True)
class StepRow:
    text: str
    due_date: dt.date | None
    done_date: dt.date | None


@dataclass(frozen=True)
class AppointmentRow:
    starts_at: dt.datetime
    duration_minutes: int
    mode: AppointmentMode
    status: AppointmentStatus
    place: str | None
    structure: str  # its short name when it has one (« URSCOP »)
    advisor: str | None
    topics: tuple[str, ...]
    notes: str | None  # only when the printing structure may read them (its own, or shared)
    next_steps: tuple[StepRow, ...]


@dataclass(frozen=True)
class ReferralItem:
    from_structure: str
    to_structure: StructureCard
    dispositif: str | None
    motive: str
    status: ReferralStatus
    proposed_on: dt.date
    answered_on: dt.date | None
    started_on: dt.date | None
    closed_on: dt.date | None
    expires_on: dt.date | None  # while unanswered
    refusal_reason: RefusalReason | None
    outcome: ReferralOutcome | None
    comments: tuple[str, ...]  # the two sides' free comments: internal only


@dataclass(frozen=True)
class ParcoursStep:
    """One structure of the chain: the lead structure (``referral`` None), then each referral."""

    structure: StructureCard
    dispositif: str | None
    since: dt.date
    referral: ReferralItem | None


@dataclass(frozen=True)
class InstrumentTotal:
    instrument: Instrument | None  # None: all instruments
    requested: Decimal
    granted: Decimal


@dataclass(frozen=True)
class SummaryData:
    variant: Variant
    printed_by: StructureCard
    printed_on: dt.date
    project: ProjectDetail  # its timeline and holders are left empty: the fields below replace them
    lead: StructureCard
    holders: tuple[HolderCard, ...]
    phases: tuple[PhaseRow, ...]
    appointments: tuple[AppointmentRow, ...]
    referrals: tuple[ReferralItem, ...]
    financing: tuple[FinancingItem, ...]
    notes: tuple[NoteItem, ...]

    @property
    def parcours(self) -> tuple[ParcoursStep, ...]:
        """The chain of structures the project went through, in order: lead structure, then referrals."""
        since = parcours_start(self.phases[0].effective_date if self.phases else None, self.project.created_at)
        steps = [ParcoursStep(self.lead, None, since, None)]
        steps += [ParcoursStep(r.to_structure, r.dispositif, r.proposed_on, r)
                  for r in self.referrals if in_parcours(r.status)]
        return tuple(steps)

    @property
    def totals(self) -> tuple[InstrumentTotal, ...]:
        """Requested and granted amounts per instrument (in the order of ``Instrument``), then overall."""
        rows = [_total(instrument, [f for f in self.financing if f.instrument is instrument])
                for instrument in Instrument if any(f.instrument is instrument for f in self.financing)]
        return (*rows, _total(None, list(self.financing))) if rows else ()

    @property
    def contacts(self) -> tuple[StructureCard, ...]:
        """The printing structure, the lead structure and every structure of the parcours, once each."""
        cards = [self.printed_by, self.lead, *(step.structure for step in self.parcours)]
        return tuple({card.id: card for card in cards}.values())


def _initial(name: str) -> str:
    return f"{name.strip()[:1].upper()}." if name.strip() else ""


def _total(instrument: Instrument | None, lines: list[FinancingItem]) -> InstrumentTotal:
    zero = Decimal("0.00")
    return InstrumentTotal(instrument, sum((f.requested or zero for f in lines), zero),
                           sum((f.granted or zero for f in lines), zero))


# ---- Reading the database ----------------------------------------------------------------------


def build_summary(session: Session, project_id: uuid.UUID, *, printing_structure_id: uuid.UUID,
                  today: dt.date) -> SummaryData:
    """Everything the printing structure may see of the project (the internal variant's data)."""
    detail = project_detail(session, project_id, today=today, reader_structure_id=printing_structure_id)
    referrals = _referrals(session, project_id, today)
    cards = _structure_cards(session, {printing_structure_id, detail.lead_structure_id})
    data = SummaryData(
        variant=Variant.INTERNE, printed_by=cards[printing_structure_id], printed_on=today,
        project=dataclasses.replace(detail, timeline=(), holders=()), lead=cards[detail.lead_structure_id],
        holders=_holders(session, project_id), phases=_phases(session, project_id),
        appointments=_appointments(session, project_id, printing_structure_id), referrals=referrals,
        financing=_financing(session, project_id), notes=_notes(session, project_id, printing_structure_id),
    )
    logger.debug("summary data of project %s: %d appointments, %d referrals", project_id.hex[:8],
                 len(data.appointments), len(referrals))
    return data


def _structure_cards(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, StructureCard]:
    rows = session.execute(
        select(Structure.id, Structure.name, Structure.email, Structure.phone, Structure.website)
        .where(Structure.id.in_(ids))
    ).all()
    cards = {row.id: StructureCard(*row) for row in rows}
    if len(cards) < len(ids):
        raise NotFoundError("Structure introuvable.", field="structure")
    return cards


def _holders(session: Session, project_id: uuid.UUID) -> tuple[HolderCard, ...]:
    rows = session.execute(
        select(Person.first_name, Person.last_name, ProjectMember.role, Person.email, Person.phone,
               Person.consent_scope, Person.consent_date)
        .join(ProjectMember, ProjectMember.person_id == Person.id)
        .where(ProjectMember.project_id == project_id, ProjectMember.deleted_at.is_(None),
               Person.deleted_at.is_(None))
        .order_by(role_order(), Person.sort_key)
    ).all()
    return tuple(HolderCard(*row) for row in rows)


def _phases(session: Session, project_id: uuid.UUID) -> tuple[PhaseRow, ...]:
    rows = session.execute(
        select(PhaseChange.phase, PhaseChange.effective_date, PhaseChange.reason, Advisor.name, Structure.name)
        .join(Structure, Structure.id == PhaseChange.owner_structure_id)
        .outerjoin(Advisor, Advisor.id == PhaseChange.advisor_id)
        .where(PhaseChange.project_id == project_id, PhaseChange.deleted_at.is_(None))
        .order_by(PhaseChange.effective_date, PhaseChange.created_at, PhaseChange.id)
    ).all()
    return tuple(PhaseRow(phase, date, reason, advisor or structure) for phase, date, reason, advisor, structure in rows)


def _appointments(session: Session, project_id: uuid.UUID, reader_id: uuid.UUID) -> tuple[AppointmentRow, ...]:
    """The project's appointments, oldest first; notes only where ``reader_id``'s structure may read them."""
    steps = _steps_by_appointment(session, project_id)
    rows = session.execute(
        select(Appointment, func.coalesce(Structure.short_name, Structure.name), Advisor.name, Permanence.name)
        .join(Structure, Structure.id == Appointment.owner_structure_id)
        .outerjoin(Advisor, Advisor.id == Appointment.advisor_id)
        .outerjoin(Permanence, Permanence.id == Appointment.permanence_id)
        .where(Appointment.project_id == project_id, Appointment.deleted_at.is_(None))
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    return tuple(
        AppointmentRow(
            starts_at=a.starts_at, duration_minutes=a.duration_minutes, mode=a.mode, status=a.status,
            place=" – ".join(p for p in (permanence, a.place) if p) or None, structure=structure, advisor=advisor,
            topics=tuple(a.topics or ()), next_steps=steps.get(a.id, ()),
            notes=a.notes if a.owner_structure_id == reader_id or a.shared else None,
        )
        for a, structure, advisor, permanence in rows
    )


def _steps_by_appointment(session: Session, project_id: uuid.UUID) -> dict[uuid.UUID, tuple[StepRow, ...]]:
    rows = session.execute(
        select(NextStep.appointment_id, NextStep.text, NextStep.due_date, NextStep.done_date)
        .where(NextStep.project_id == project_id, NextStep.deleted_at.is_(None),
               NextStep.appointment_id.is_not(None))
        .order_by(NextStep.due_date.is_(None), NextStep.due_date, NextStep.created_at)
    ).all()
    steps: dict[uuid.UUID, list[StepRow]] = {}
    for appointment_id, text, due, done in rows:
        steps.setdefault(appointment_id, []).append(StepRow(text, due, done))
    return {key: tuple(value) for key, value in steps.items()}


def _referrals(session: Session, project_id: uuid.UUID, today: dt.date) -> tuple[ReferralItem, ...]:
    source = aliased(Structure)
    rows = session.execute(
        select(Referral, source.name, Dispositif.name)
        .join(source, source.id == Referral.from_structure_id)
        .outerjoin(Dispositif, Dispositif.id == Referral.to_dispositif_id)
        .where(Referral.project_id == project_id, Referral.deleted_at.is_(None))
        .order_by(Referral.proposed_on, Referral.id)
    ).all()
    cards = _structure_cards(session, {r.to_structure_id for r, _, _ in rows}) if rows else {}
    expiry = settings.referral_expiry_days(session)
    items = []
    for r, from_name, dispositif in rows:
        status = derived_status(r.answer, r.cancelled_on, r.proposed_on, today=today, expiry_days=expiry)
        items.append(ReferralItem(
            from_structure=from_name, to_structure=cards[r.to_structure_id], dispositif=dispositif,
            motive=r.motive, status=status, proposed_on=r.proposed_on, answered_on=r.answered_on,
            started_on=r.started_on, closed_on=r.closed_on or r.cancelled_on,
            expires_on=expires_on(r.proposed_on, expiry) if status is ReferralStatus.PROPOSEE else None,
            refusal_reason=r.refusal_reason, outcome=r.outcome,
            comments=tuple(c for c in (r.answer_comment, r.outcome_comment, r.cancel_comment) if c),
        ))
    return tuple(items)


def _financing(session: Session, project_id: uuid.UUID) -> tuple[FinancingItem, ...]:
    return tuple(project_financing(session, project_id))


def _notes(session: Session, project_id: uuid.UUID, reader_id: uuid.UUID) -> tuple[NoteItem, ...]:
    """The notes ``reader_id``'s structure may read (its own, and those others marked shared), oldest first."""
    return tuple(reversed(project_notes(session, project_id, reader_id)))


# ---- What each variant may show ---------------------------------------------------------------


def for_variant(data: SummaryData, variant: Variant) -> SummaryData:
    """``data`` without what ``variant`` must not show. Raises RuleError for a confidential project
    whose holders did not all consent to sharing, when ``variant`` is the partner one."""
    if data.variant is not Variant.INTERNE:
        if data.variant is variant:
            return data
        raise ValueError("redacted summary data can only be rendered in its own variant")
    if variant is Variant.INTERNE:
        return data
    if variant is Variant.PARTENAIRE:
        _check_partner_consent(data)
    holders = tuple(h if variant is Variant.PORTEUR or h.shares_with_partners else h.masked() for h in data.holders)
    if variant is Variant.PORTEUR:  # the holder's copy passes no one's contact details around
        holders = tuple(dataclasses.replace(h, email=None, phone=None) for h in holders)
    return dataclasses.replace(
        data, variant=variant, holders=holders, notes=(),
        appointments=tuple(dataclasses.replace(a, notes=None) for a in data.appointments),
        referrals=tuple(dataclasses.replace(r, comments=()) for r in data.referrals),
        financing=tuple(dataclasses.replace(f, comment=None) for f in data.financing),
        phases=data.phases if variant is Variant.PARTENAIRE
        else tuple(dataclasses.replace(p, reason=None) for p in data.phases),
    )


def _check_partner_consent(data: SummaryData) -> None:
    if not data.project.confidential:
        return
    missing = sum(1 for h in data.holders if not h.shares_with_partners)
    if missing or not data.holders:
        raise RuleError(Summary.CONFIDENTIAL_REFUSED.format(missing=missing, total=len(data.holders)),
                        field="variant")


def _date(value: dt.date | None) -> str:
    return format_date(value) if value else Common.EMPTY


def _when(value: dt.datetime) -> str:
    local = value.astimezone(PARIS)
    return Common.AT_TIME.format(date=format_date(local.date()), time=f"{local:%H:%M}")


def _etp(value: Decimal | None) -> str | None:
    return Common.ETP.format(value=format_decimal(value, format="#,##0.##", locale="fr_FR")) \
        if value is not None else None


def _amount(value: Decimal | None) -> str:
    return escape(format_amount(value)) if value is not None else Common.EMPTY


def _phone(value: str | None) -> str | None:
    """A stored phone number for reading; shown as stored when it is not in E.164."""
    if not value:
        return None
    try:
        return format_phone(value)
    except phonenumbers.NumberParseException:
        return value


def _h2(title: str) -> Paragraph:
    return paragraph(escape(title), "h2")


def _small(text: str) -> Paragraph:
    return paragraph(escape(text), "small")


def _labelled(label: str, text: str) -> str:
    """« <b>Sujets :</b> statuts », from a text catalogue entry ``label`` shaped « Sujets : {x} »."""
    head, _, _ = label.partition("{")
    return f"<b>{escape(head.rstrip())}</b> {escaped_text(text)}"


# ---- Internal and partner copies ---------------------------------------------------------------


def _advisor_copy(data: SummaryData) -> list[Flowable]:
    sections: tuple[Callable[[SummaryData], list[Flowable]], ...] = (
        _identity_section, _holders_section, _parcours_section, _phases_section, _appointments_section,
        _referrals_section, _financing_section, _jobs_section, _next_steps_section, _notes_section,
        _contacts_section,
    )
    story: list[Flowable] = _heading(data)
    for section in sections:
        story += section(data)
    return story


def _heading(data: SummaryData) -> list[Flowable]:
    subtitle = Summary.SUBTITLE.format(variant=Summary.VARIANTS[data.variant], date=format_date(data.printed_on))
    return [paragraph(escaped_text(data.project.title), "title"), paragraph(escaped_text(subtitle), "subtitle")]


def _identity_section(data: SummaryData) -> list[Flowable]:
    p, s = data.project, Summary
    legal = p.legal_form.label
    if p.envisaged_legal_form:
        legal = s.LEGAL_FORM_ENVISAGED.format(current=legal, envisaged=p.envisaged_legal_form.label)
    recognitions = Common.LIST_SEPARATOR.join(
        label for flag, label in ((p.innovation_sociale, s.INNOVATION_SOCIALE), (p.esus, s.ESUS)) if flag)
    pairs = [
        (s.PHASE, escaped_text(s.PHASE_SINCE.format(phase=p.phase.label, date=_date(p.phase_since))) if p.phase else None),
        (s.STATUS, escaped_text(p.status.label)),
        (s.LEAD, escaped_text(data.lead.name)),
        (s.ADVISOR, escaped_text(p.lead_advisor)),
        (s.PRESCRIPTEUR, escaped_text(p.prescripteur.label) if p.prescripteur else None),
        (s.LEGAL_FORM, escaped_text(legal)),
        (s.SECTOR, escaped_text(p.sector.label) if p.sector else None),
        (s.TERRITORY, _territory(p)),
        (s.SIRET, escaped_text(stdnum_siret.format(p.siret)) if p.siret else None),
        (s.RNA, escaped_text(p.rna)),
        (s.RECOGNITIONS, escaped_text(recognitions)),
        (s.CONFIDENTIAL, Common.YES if p.confidential else None),
        (s.SUMMARY, escaped_text(p.summary)),
    ]
    return [_h2(s.IDENTITY), key_value_table(pairs)]


def _territory(p: ProjectDetail) -> str | None:
    s = Summary
    return escaped_lines(s.COMMUNE.format(commune=p.commune, departement=p.departement) if p.commune else None,
                  s.EPCI.format(epci=p.epci) if p.epci else None,
                  s.DEPARTEMENT.format(code=p.departement) if p.departement else None) or None


def _holders_section(data: SummaryData) -> list[Flowable]:
    internal = data.variant is Variant.INTERNE
    rows: list[list[Cell]] = []
    for h in data.holders:
        row: list[Cell] = [escaped_text(h.name), escaped_text(h.role.label), escaped_text(h.email), escaped_text(_phone(h.phone))]
        if internal:
            row.append(escaped_text(_consent(h)))
        rows.append(row)
    headers = Summary.HOLDER_HEADERS if internal else Summary.HOLDER_HEADERS_PARTNER
    widths = (0.22, 0.15, 0.27, 0.15, 0.21) if internal else (0.28, 0.2, 0.32, 0.2)
    story: list[Flowable] = [_h2(Summary.HOLDERS), data_table(headers, rows, widths)]
    if any(h.initials_only for h in data.holders):
        story.append(_small(Summary.HOLDER_MASKED))
    return story


def _consent(holder: HolderCard) -> str:
    if holder.consent is None:
        return Summary.CONSENT_NONE
    if holder.consent_date is None:
        return holder.consent.label
    return Summary.CONSENT_DATED.format(scope=holder.consent.label, date=format_date(holder.consent_date))


def _parcours_section(data: SummaryData) -> list[Flowable]:
    rows = [_parcours_row(index, step, data) for index, step in enumerate(data.parcours, 1)]
    story: list[Flowable] = [_h2(Summary.PARCOURS),
                             data_table(Summary.PARCOURS_HEADERS, rows, (0.05, 0.29, 0.2, 0.23, 0.23))]
    if len(rows) == 1:
        story.append(_small(Summary.PARCOURS_EMPTY))
    return story


def _parcours_row(index: int, step: ParcoursStep, data: SummaryData) -> list[Cell]:
    s, r = Summary, step.referral
    name = s.TARGET_WITH_DISPOSITIF.format(structure=step.structure.name, dispositif=step.dispositif) \
        if step.dispositif else step.structure.name
    if r is None:
        prescripteur = data.project.prescripteur
        stage = escaped_lines(s.STEP_LEAD, s.STEP_PRESCRIBED.format(prescripteur=prescripteur.label) if prescripteur else None)
        return [str(index), escaped_text(name), stage, escaped_text(Common.SINCE.format(date=_date(step.since))),
                escaped_text(s.LEAD_SITUATION)]
    return [str(index), escaped_text(name), escaped_text(s.STEP_REFERRAL.format(structure=r.from_structure)), _referral_dates(r),
            escaped_text(_situation(r))]


def _referral_dates(r: ReferralItem) -> str:
    s = Summary
    return escaped_lines(s.PROPOSED_ON.format(date=_date(r.proposed_on)),
                  s.ANSWERED_ON.format(date=_date(r.answered_on)) if r.answered_on else None,
                  s.STARTED_ON.format(date=_date(r.started_on)) if r.started_on else None,
                  s.CLOSED_ON.format(date=_date(r.closed_on)) if r.closed_on else None)


def _situation(r: ReferralItem) -> str:
    if r.outcome is not None:
        return Summary.WITH_OUTCOME.format(status=r.status.label, outcome=r.outcome.label)
    if r.status is ReferralStatus.REFUSEE and r.refusal_reason is not None:
        return Summary.WITH_OUTCOME.format(status=r.status.label,
                                           outcome=Summary.REFUSAL.format(reason=r.refusal_reason.label))
    if r.expires_on is not None:
        return Summary.WITH_OUTCOME.format(status=r.status.label,
                                           outcome=Summary.EXPIRES.format(date=_date(r.expires_on)))
    return r.status.label


def _phases_section(data: SummaryData) -> list[Flowable]:
    rows: list[list[Cell]] = [[_date(p.effective_date), escaped_text(p.phase.label), escaped_text(p.reason), escaped_text(p.recorded_by)]
                              for p in data.phases]
    return [_h2(Summary.PHASES), data_table(Summary.PHASE_HEADERS, rows, (0.13, 0.2, 0.45, 0.22))]


def _appointments_section(data: SummaryData) -> list[Flowable]:
    if not data.appointments:
        return [_h2(Summary.APPOINTMENTS), _small(Summary.APPOINTMENTS_EMPTY)]
    done = sum(1 for a in data.appointments if a.status is AppointmentStatus.REALISE)
    rows = [_appointment_row(a) for a in data.appointments]
    return [_h2(Summary.APPOINTMENTS),
            paragraph(escape(Summary.APPOINTMENTS_COUNT.format(count=len(data.appointments), done=done)), "intro"),
            data_table(Summary.APPOINTMENT_HEADERS, rows, (0.27, 0.5, 0.23))]


def _appointment_row(a: AppointmentRow) -> list[Cell]:
    s = Summary
    local = a.starts_at.astimezone(PARIS)
    when = s.WHEN.format(date=format_date(local.date()), time=f"{local:%H:%M}", minutes=a.duration_minutes)
    who = s.WHO.format(advisor=a.advisor, structure=a.structure) if a.advisor else a.structure
    meeting = f"<b>{escape(when)}</b><br/>" + escaped_lines(s.MODE_STATUS.format(mode=a.mode.label, status=a.status.label),
                                                     a.place, who)
    content = "<br/>".join(part for part in (
        _labelled(s.TOPICS, Common.LIST_SEPARATOR.join(a.topics)) if a.topics else "",
        _labelled(s.DISCUSSED, a.notes) if a.notes else "",
    ) if part)
    return [meeting, content, "<br/>".join(_step(step) for step in a.next_steps)]


def _step(step: StepRow) -> str:
    suffix = Summary.DONE.format(date=_date(step.done_date)) if step.done_date \
        else Summary.DUE.format(date=_date(step.due_date)) if step.due_date else None
    return f"• {escaped_text(step.text)}" + (f" <i>({escape(suffix)})</i>" if suffix else "")


def _referrals_section(data: SummaryData) -> list[Flowable]:
    if not data.referrals:
        return [_h2(Summary.REFERRALS), _small(Summary.REFERRALS_EMPTY)]
    rows: list[list[Cell]] = []
    for r in data.referrals:
        target = Summary.TARGET_WITH_DISPOSITIF.format(structure=r.to_structure.name, dispositif=r.dispositif) \
            if r.dispositif else r.to_structure.name
        answer = "<br/>".join([escaped_text(_situation(r)), *(_comment(c) for c in r.comments)])
        rows.append([_date(r.proposed_on), escaped_text(Summary.FROM_TO.format(source=r.from_structure, target=target)),
                     escaped_text(r.motive), answer])
    return [_h2(Summary.REFERRALS), data_table(Summary.REFERRAL_HEADERS, rows, (0.12, 0.3, 0.3, 0.28))]


def _comment(text: str) -> str:
    return f"<i>{escaped_text(Summary.COMMENT.format(text=text))}</i>"


def _financing_section(data: SummaryData) -> list[Flowable]:
    if not data.financing:
        return [_h2(Summary.FINANCING), _small(Summary.FINANCING_EMPTY)]
    rows: list[list[Cell]] = [
        ["<br/>".join([escaped_text(f.funder or Summary.FUNDER_UNKNOWN), *([_comment(f.comment)] if f.comment else [])]),
         escaped_text(f.instrument.label),
         escaped_text(Summary.DECIDED_ON.format(status=f.status.label, date=_date(f.decided_on)) if f.decided_on
               else f.status.label),
         _amount(f.requested), _amount(f.granted)]
        for f in data.financing
    ]
    totals: list[list[Cell]] = [
        [escaped_text(t.instrument.label) if t.instrument else f"<b>{escape(Summary.TOTAL)}</b>",
         _bold_if(_amount(t.requested), t.instrument is None), _bold_if(_amount(t.granted), t.instrument is None)]
        for t in data.totals
    ]
    return [_h2(Summary.FINANCING),
            data_table(Summary.FINANCING_HEADERS, rows, (0.33, 0.21, 0.16, 0.15, 0.15), numeric=frozenset({3, 4})),
            Spacer(1, 6),
            data_table(Summary.TOTAL_HEADERS, totals, (0.54, 0.23, 0.23), numeric=frozenset({1, 2}))]


def _bold_if(markup: str, bold: bool) -> str:
    return f"<b>{markup}</b>" if bold else markup


def _jobs_section(data: SummaryData) -> list[Flowable]:
    p = data.project
    if p.jobs_created is None and p.jobs_maintained is None:
        return [_h2(Summary.JOBS), _small(Summary.JOBS_EMPTY)]
    pairs = [(Summary.JOBS_CREATED, escaped_text(_etp(p.jobs_created))), (Summary.JOBS_MAINTAINED, escaped_text(_etp(p.jobs_maintained)))]
    return [_h2(Summary.JOBS), key_value_table(pairs)]


def _next_steps_section(data: SummaryData) -> list[Flowable]:
    steps = data.project.open_next_steps
    if not steps:
        return [_h2(Summary.NEXT_STEPS), _small(Summary.NEXT_STEPS_EMPTY)]
    rows: list[list[Cell]] = [[_due(due, data.printed_on), escaped_text(text)] for text, due in steps]
    return [_h2(Summary.NEXT_STEPS), data_table(Summary.NEXT_STEP_HEADERS, rows, (0.2, 0.8))]


def _due(due: dt.date | None, today: dt.date) -> str:
    if due is None:
        return escape(Summary.NO_DUE)
    return escape(Summary.OVERDUE.format(date=_date(due))) if due < today else _date(due)


def _notes_section(data: SummaryData) -> list[Flowable]:
    if data.variant is not Variant.INTERNE:
        return []
    if not data.notes:
        return [_h2(Summary.NOTES), _small(Summary.NOTES_EMPTY)]
    rows: list[list[Cell]] = [[_date(n.written_on), escaped_text(n.structure), escaped_text(n.text)] for n in data.notes]
    return [_h2(Summary.NOTES), data_table(Summary.NOTE_HEADERS, rows, (0.13, 0.22, 0.65))]


def _contacts_section(data: SummaryData) -> list[Flowable]:
    return [KeepTogether([_h2(Summary.CONTACTS), _contacts_table(data.contacts)])]


def _contacts_table(cards: Sequence[StructureCard]) -> Table:
    rows: list[list[Cell]] = [[escaped_text(c.name), escaped_text(c.email), escaped_text(_phone(c.phone)), escaped_text(c.website)]
                              for c in cards]
    return data_table(Summary.CONTACT_HEADERS, rows, (0.34, 0.27, 0.15, 0.24))


# ---- « Mon parcours »: the holder's copy -------------------------------------------------------


def _holder_copy(data: SummaryData) -> list[Flowable]:
    h = HolderCopy
    names = Common.LIST_SEPARATOR.join(holder.name for holder in data.holders)
    story: list[Flowable] = [
        *_heading(data),
        paragraph(escaped_text(h.INTRO.format(date=format_date(data.printed_on)))),
        paragraph(escaped_text(h.HOLDERS.format(names=names))) if names else Spacer(1, 0),
    ]
    for section in (_holder_phases, _holder_structures, _holder_appointments, _holder_next_steps,
                    _holder_financing, _holder_contacts):
        story += section(data)
    return story


def _holder_phases(data: SummaryData) -> list[Flowable]:
    p, h = data.project, HolderCopy
    current = h.CURRENT_PHASE.format(phase=p.phase.label, date=_date(p.phase_since)) if p.phase else h.NO_PHASE
    rows: list[list[Cell]] = [[_date(row.effective_date), escaped_text(row.phase.label), escaped_text(h.PHASE_MEANINGS[row.phase])]
                              for row in data.phases]
    return [_h2(h.WHERE), paragraph(escaped_text(current), "intro"), data_table(h.PHASE_HEADERS, rows, (0.15, 0.25, 0.6))]


def _holder_structures(data: SummaryData) -> list[Flowable]:
    h = HolderCopy
    advisor = data.project.lead_advisor
    lead = h.LEAD_WITH.format(date=_date(data.parcours[0].since), advisor=advisor) if advisor \
        else h.LEAD_SINCE.format(date=_date(data.parcours[0].since))
    rows: list[list[Cell]] = [[escaped_text(data.lead.name), escaped_text(lead)]]
    for r in data.referrals:
        if r.status in HOLDER_REFERRAL_STATUSES:
            name = Summary.TARGET_WITH_DISPOSITIF.format(structure=r.to_structure.name, dispositif=r.dispositif) \
                if r.dispositif else r.to_structure.name
            rows.append([escaped_text(name), escaped_text(_holder_referral_state(r))])
    return [_h2(h.STRUCTURES), data_table(h.STRUCTURE_HEADERS, rows, (0.4, 0.6))]


def _holder_referral_state(r: ReferralItem) -> str:
    date = {ReferralStatus.PROPOSEE: r.proposed_on, ReferralStatus.ACCEPTEE: r.answered_on,
            ReferralStatus.EN_COURS: r.started_on}.get(r.status, r.closed_on)
    outcome = r.outcome.label if r.outcome else ""
    return HolderCopy.REFERRAL_STATES[r.status].format(date=_date(date), outcome=outcome)


def _holder_appointments(data: SummaryData) -> list[Flowable]:
    h = HolderCopy
    past = sum(1 for a in data.appointments if a.status is AppointmentStatus.REALISE)
    line = h.PAST_NONE if past == 0 else h.PAST_ONE if past == 1 else h.PAST_MANY.format(count=past)
    upcoming = [a for a in data.appointments
                if a.status is AppointmentStatus.PLANIFIE and a.starts_at.astimezone(PARIS).date() >= data.printed_on]
    story: list[Flowable] = [_h2(h.APPOINTMENTS), paragraph(escape(line))]
    if upcoming:
        rows: list[list[Cell]] = [[escaped_text(_when(a.starts_at)), escaped_lines(a.structure, a.advisor),
                                   escaped_lines(a.mode.label, a.place)] for a in upcoming]
        story += [paragraph(escape(h.UPCOMING), "intro"), data_table(h.UPCOMING_HEADERS, rows, (0.22, 0.4, 0.38))]
    return story


def _holder_next_steps(data: SummaryData) -> list[Flowable]:
    h = HolderCopy
    if not data.project.open_next_steps:
        return [_h2(h.NEXT_STEPS), paragraph(escape(h.NEXT_STEPS_EMPTY))]
    rows: list[list[Cell]] = [[_date(due) if due else Common.EMPTY, escaped_text(text)]
                              for text, due in data.project.open_next_steps]
    return [_h2(h.NEXT_STEPS), data_table(h.NEXT_STEP_HEADERS, rows, (0.18, 0.82))]


def _holder_financing(data: SummaryData) -> list[Flowable]:
    if not data.financing:
        return []
    rows: list[list[Cell]] = [
        [escaped_text(f.instrument.label), escaped_text(f.funder or Summary.FUNDER_UNKNOWN), escaped_text(f.status.label),
         _amount(f.granted if f.granted is not None else f.requested)]
        for f in data.financing
    ]
    return [_h2(HolderCopy.FINANCING),
            data_table(HolderCopy.FINANCING_HEADERS, rows, (0.25, 0.36, 0.2, 0.19), numeric=frozenset({3}))]


def _holder_contacts(data: SummaryData) -> list[Flowable]:
    story: list[Flowable] = [_h2(HolderCopy.CONTACTS)]
    if data.project.lead_advisor:
        story.append(paragraph(escaped_text(HolderCopy.ADVISOR.format(name=data.project.lead_advisor, structure=data.lead.name)),
                           "intro"))
    reachable = [card for card in data.contacts if card.email or card.phone or card.website]
    if reachable:
        story.append(_contacts_table(reachable))
    return [KeepTogether(story)]


# ---- Rendering ---------------------------------------------------------------------------------


def render_summary(data: SummaryData, path_or_file: Path | str | BinaryIO, variant: Variant | str) -> int:
    """Draw ``data`` in ``variant`` to a PDF file (written whole or not at all) or a binary stream.

    Returns the number of pages. A refused variant (confidential project) raises before anything is written.
    """
    shown = for_variant(data, Variant.parse(variant))
    fonts.register_fonts()
    frame = _page_frame(shown, key=0)
    with _output(path_or_file) as target:
        doc = ReportDoc(target, title=frame.title, author=shown.printed_by.name, subject=Summary.SUBJECT)
        doc.build(_story(shown, frame), canvasmaker=NumberedCanvas)
    logger.debug("summary of project %s printed (%s, %d pages)", shown.project.id.hex[:8], shown.variant, doc.page)
    return int(doc.page)


def _page_frame(data: SummaryData, key: int, *, outline: bool = False) -> PageFrame:
    title = {Variant.INTERNE: Summary.TITLE, Variant.PARTENAIRE: Summary.TITLE_PARTNER,
             Variant.PORTEUR: HolderCopy.TITLE}[data.variant]
    printed = babel_format_date(data.printed_on, format="full", locale="fr_FR")
    return PageFrame(key=key, structure=data.printed_by.name, title=f"{title} – {data.project.title}",
                     printed=Common.PRINTED_ON.format(date=printed),
                     confidentiality=Summary.CONFIDENTIALITY[data.variant].format(structure=data.printed_by.name),
                     outline=data.project.title if outline else None)


def _story(data: SummaryData, frame: PageFrame) -> list[Flowable]:
    body = _holder_copy(data) if data.variant is Variant.PORTEUR else _advisor_copy(data)
    return [SectionStart(frame), *body]


@contextlib.contextmanager
def _output(path_or_file: Path | str | BinaryIO) -> Iterator[Any]:
    """A temporary file beside ``path_or_file``, renamed over it only once complete; a stream as it is."""
    if not isinstance(path_or_file, str | os.PathLike):
        yield path_or_file
        return
    with write_atomically(path_or_file, message=Summary.CANNOT_WRITE, error=RuleError) as temporary:
        yield str(temporary)  # reportlab takes a str or a stream, not a Path


# ---- Many projects at once (a committee) -------------------------------------------------------


@dataclass(frozen=True)
class BatchResult:
    written: tuple[Path, ...]  # the PDF files made
    skipped: tuple[uuid.UUID, ...]  # projects not printed: deleted, or confidential without consent (partner)
    cancelled: bool = False


class _Cancelled(Exception):
    """The user stopped the batch."""


def render_many(
    db: Database,
    project_ids: Iterable[uuid.UUID],
    directory_or_single_pdf: Path | str,
    variant: Variant | str,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    *,
    printing_structure_id: uuid.UUID,
    today: dt.date,
) -> BatchResult:
    """Print many projects: one PDF each in a directory, or one combined PDF when the target ends in .pdf.

    One project is read and drawn at a time (each in its own read transaction). ``progress(done, total)``
    is called after each project; ``cancelled()`` is asked before each: when it answers True the batch
    stops, keeping the files already complete (directory) or writing nothing (combined PDF).
    """
    ids = list(project_ids)
    if not ids:
        raise ValidationError(Summary.NOTHING_TO_PRINT, field="projets")
    batch = _Batch(db, ids, Variant.parse(variant), printing_structure_id, today, progress, cancelled)
    fonts.register_fonts()
    target = Path(directory_or_single_pdf)
    result = batch.combined(target) if target.suffix.lower() == ".pdf" else batch.separate(target)
    logger.info("batch of %d summaries: %d files, %d skipped, cancelled=%s", len(ids), len(result.written),
                len(result.skipped), result.cancelled)
    return result


class _Batch:
    def __init__(self, db: Database, ids: list[uuid.UUID], variant: Variant, printing_structure_id: uuid.UUID,
                 today: dt.date, progress: Callable[[int, int], None] | None,
                 cancelled: Callable[[], bool] | None) -> None:
        self.db, self.ids, self.variant, self.today = db, ids, variant, today
        self.printing_structure_id = printing_structure_id
        self.progress = progress or (lambda *_: None)
        self.cancelled = cancelled or (lambda: False)
        self.skipped: list[uuid.UUID] = []

    def summaries(self) -> Iterator[SummaryData]:
        """Each printable project's redacted data, loaded only when asked for."""
        for index, project_id in enumerate(self.ids):
            if self.cancelled():
                raise _Cancelled
            data = self._load(project_id)
            if data is not None:
                yield data
            self.progress(index + 1, len(self.ids))

    def _load(self, project_id: uuid.UUID) -> SummaryData | None:
        try:
            with self.db.read() as session:
                data = build_summary(session, project_id, printing_structure_id=self.printing_structure_id,
                                     today=self.today)
            return for_variant(data, self.variant)
        except (NotFoundError, RuleError):
            logger.info("project %s left out of the batch (not found, or no consent)", project_id.hex[:8])
            self.skipped.append(project_id)
            return None

    def separate(self, directory: Path) -> BatchResult:
        directory.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        try:
            for data in self.summaries():
                path = directory / _file_name(data)
                render_summary(data, path, data.variant)
                written.append(path)
        except _Cancelled:
            return BatchResult(tuple(written), tuple(self.skipped), cancelled=True)
        return BatchResult(tuple(written), tuple(self.skipped))

    def combined(self, path: Path) -> BatchResult:
        summaries = self.summaries()
        keys = iter(range(1, len(self.ids) + 1))

        def feed() -> list[Flowable] | None:
            data = next(summaries, None)
            return None if data is None else [PageBreak(),
                                              *_story(data, _page_frame(data, next(keys), outline=True))]

        try:
            first = next(summaries, None)
            if first is None:
                return BatchResult((), tuple(self.skipped))
            with _output(path) as target:
                doc = ReportDoc(target, feed=feed, title=Summary.TITLE_MANY, author=first.printed_by.name,
                                  subject=Summary.SUBJECT)
                doc.build(_story(first, _page_frame(first, 0, outline=True)), canvasmaker=NumberedCanvas)
        except _Cancelled:
            return BatchResult((), tuple(self.skipped), cancelled=True)
        return BatchResult((path,), tuple(self.skipped))


def _file_name(data: SummaryData) -> str:
    """« epicerie-cooperative-0194ab12-partenaire.pdf »: readable, unique, safe on every file system."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(data.project.title)).strip("-")[:60].rstrip("-") or "projet"
    return f"{slug}-{data.project.id.hex[:8]}-{data.variant}.pdf"
