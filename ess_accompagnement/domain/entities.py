"""The entities of the accompaniment, as SQLAlchemy 2 typed models.

Every synced table follows the rules of ``shared/design/sync.md`` (lessons 4 and 10):
- a UUIDv7 primary key made on the device (catalogue rows: a UUIDv5 derived from their catalogue key);
- ``owner_structure_id``: the structure whose scope the row belongs to;
- soft delete (``deleted_at``), ``created_at`` / ``updated_at``;
- no UNIQUE constraint other than the key: duplicates are found and merged by the app.
Foreign keys are declared DEFERRABLE INITIALLY DEFERRED, so a batch may insert in any order and
the database still checks every reference when the transaction commits.

Columns marked ``info={"derived": True}`` are recomputed from other columns (sort keys); sync must
not treat them as user edits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ess_accompagnement.domain import codes
from ess_accompagnement.domain.ids import new_id
from ess_accompagnement.store.types import Base, Cents


def _enum(enum_cls: type[codes.Coded], name: str) -> SAEnum:
    """Store a coded enum by its value (``emergence``), checked by a CHECK constraint."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target, deferrable=True, initially="DEFERRED")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Synced:
    """Columns every synced row carries."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    @declared_attr
    def owner_structure_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805 - declared_attr takes the class
        return mapped_column(_fk("structure.id"), index=True)


# ---- Reference catalogue (shared scope) ---------------------------------------------------------


class Structure(Synced, Base):
    """An organisation of the chain: CRESS, URSCOP, France Active, a CAE, a DLA, a prescripteur…"""

    __tablename__ = "structure"

    catalogue_key: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[codes.StructureKind] = mapped_column(_enum(codes.StructureKind, "structure_kind"))
    support_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    phases: Mapped[list[str]] = mapped_column(JSON, default=list)
    targets: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(String(20))  # CVL, NAT, EX
    departement: Mapped[str | None] = mapped_column(String(3))
    former_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    website: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_key: Mapped[str] = mapped_column(String(200), index=True, info={"derived": True})
    # The catalogue values last loaded into this row: a field still equal to them was not edited
    # by a user, so the next catalogue update may change it (three-way merge, see store/catalogue.py).
    catalogue_values: Mapped[dict[str, Any] | None] = mapped_column(JSON, info={"derived": True})


class Dispositif(Synced, Base):
    """A programme or tool a structure operates: CAP ASSO, A VOS ID, Fonds de confiance…"""

    __tablename__ = "dispositif"

    catalogue_key: Mapped[str | None] = mapped_column(String(64), index=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(_fk("structure.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    support_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    instrument: Mapped[codes.Instrument | None] = mapped_column(_enum(codes.Instrument, "instrument"))
    phases: Mapped[list[str]] = mapped_column(JSON, default=list)
    targets: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(String(20))
    former_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_key: Mapped[str] = mapped_column(String(200), index=True, info={"derived": True})
    catalogue_values: Mapped[dict[str, Any] | None] = mapped_column(JSON, info={"derived": True})


class Advisor(Synced, Base):
    """A user of the app: a chargé(e) d'accompagnement of a structure."""

    __tablename__ = "advisor"

    structure_id: Mapped[uuid.UUID] = mapped_column(_fk("structure.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[codes.AdvisorRole] = mapped_column(_enum(codes.AdvisorRole, "advisor_role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_key: Mapped[str] = mapped_column(String(200), info={"derived": True})


# ---- People and projects (a structure's scope) --------------------------------------------------


class Person(Synced, Base):
    """A project holder (« porteur de projet »). Personal data: keep it minimal."""

    __tablename__ = "person"

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[codes.Gender] = mapped_column(_enum(codes.Gender, "gender"), default=codes.Gender.NON_RENSEIGNE)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    commune_code: Mapped[str | None] = mapped_column(_fk("commune.code"))
    situation: Mapped[codes.Situation | None] = mapped_column(_enum(codes.Situation, "situation"))
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    consent_scope: Mapped[codes.ConsentScope | None] = mapped_column(_enum(codes.ConsentScope, "consent_scope"))
    consent_source: Mapped[codes.ConsentSource | None] = mapped_column(_enum(codes.ConsentSource, "consent_source"))
    sort_key: Mapped[str] = mapped_column(String(200), index=True, info={"derived": True})
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    """Set (with ``deleted_at``) when this person was merged into another one (domain/person_merge.py). A soft
    pointer, without a foreign key, so migration 0004 is a plain ``ADD COLUMN``."""


class PersonDistinct(Synced, Base):
    """Two persons an advisor said are not the same (« pas un doublon »): never offered as a merge again.

    Its id is a UUIDv5 of the sorted pair (``person_merge.distinct_id``), so two copies marking the same pair
    make one row; ``person_a_id`` is the smaller id.
    """

    __tablename__ = "person_distinct"

    person_a_id: Mapped[uuid.UUID] = mapped_column(_fk("person.id"), index=True)
    person_b_id: Mapped[uuid.UUID] = mapped_column(_fk("person.id"), index=True)


class Project(Synced, Base):
    """A project accompanied along the chain. Its phase is derived from its PhaseChange history."""

    __tablename__ = "project"

    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    legal_form: Mapped[codes.LegalForm] = mapped_column(
        _enum(codes.LegalForm, "legal_form"), default=codes.LegalForm.NON_DEFINIE
    )
    envisaged_legal_form: Mapped[codes.LegalForm | None] = mapped_column(_enum(codes.LegalForm, "legal_form"))
    sector: Mapped[codes.Sector | None] = mapped_column(_enum(codes.Sector, "sector"))
    filiere: Mapped[str | None] = mapped_column(String(100))
    commune_code: Mapped[str | None] = mapped_column(_fk("commune.code"), index=True)
    status: Mapped[codes.ProjectStatus] = mapped_column(
        _enum(codes.ProjectStatus, "project_status"), default=codes.ProjectStatus.ACTIF
    )
    lead_structure_id: Mapped[uuid.UUID] = mapped_column(_fk("structure.id"), index=True)
    lead_advisor_id: Mapped[uuid.UUID | None] = mapped_column(_fk("advisor.id"), index=True)
    prescripteur: Mapped[codes.Prescripteur | None] = mapped_column(_enum(codes.Prescripteur, "prescripteur"))
    prescripteur_structure_id: Mapped[uuid.UUID | None] = mapped_column(_fk("structure.id"))
    siret: Mapped[str | None] = mapped_column(String(14))
    rna: Mapped[str | None] = mapped_column(String(10))
    jobs_created: Mapped[Decimal | None] = mapped_column(Cents)  # ETP
    jobs_maintained: Mapped[Decimal | None] = mapped_column(Cents)  # ETP
    innovation_sociale: Mapped[bool] = mapped_column(Boolean, default=False)
    esus: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_key: Mapped[str] = mapped_column(String(200), index=True, info={"derived": True})


class ProjectMember(Synced, Base):
    """A person's part in a project. Its id is UUIDv5(project, person): two copies adding the same
    holder to the same project make one row, not two."""

    __tablename__ = "project_member"

    project_id: Mapped[uuid.UUID] = mapped_column(_fk("project.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(_fk("person.id"), index=True)
    role: Mapped[codes.MemberRole] = mapped_column(_enum(codes.MemberRole, "member_role"))


class PhaseChange(Synced, Base):
    """One dated step of a project's phase history; the latest one (by date) is the current phase."""

    __tablename__ = "phase_change"
    __table_args__ = (
        Index("ix_phase_change_project_date", "project_id", "effective_date"),
        # indicators: « first phase change recorded by this structure » probes
        Index("ix_phase_change_project_owner_date", "project_id", "owner_structure_id", "effective_date"),
        # indicators: a period's phase changes as one range of an index that holds all they read
        Index("ix_phase_change_date_covering", "effective_date", "deleted_at", "project_id", "owner_structure_id"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(_fk("project.id"))
    phase: Mapped[codes.Phase] = mapped_column(_enum(codes.Phase, "phase"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    advisor_id: Mapped[uuid.UUID | None] = mapped_column(_fk("advisor.id"))


# ---- Appointments and permanences ---------------------------------------------------------------


class Permanence(Synced, Base):
    """A place where advisors hold sessions on a recurrence (a mairie, a tiers-lieu, France Services)."""

    __tablename__ = "permanence"

    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    commune_code: Mapped[str | None] = mapped_column(_fk("commune.code"))
    rrule: Mapped[str | None] = mapped_column(Text)  # RFC 5545 RRULE, expanded with dateutil.rrule
    first_start: Mapped[dt.datetime | None] = mapped_column()  # DTSTART (UTC)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/Paris")
    structure_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # structures present
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Appointment(Synced, Base):
    """A rendez-vous with a project's holders."""

    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_project_start", "project_id", "starts_at"),
        Index("ix_appointment_advisor_start", "advisor_id", "starts_at"),
        # indicators: covering index of a period's appointments (no table access)
        Index("ix_appointment_start_covering", "starts_at", "deleted_at", "project_id", "owner_structure_id",
              "status", "mode", "permanence_id", "duration_minutes"),
        # indicators: a period's appointments already grouped by (status, mode, permanence), no sort
        Index("ix_appointment_status_mode_start", "status", "mode", "permanence_id", "starts_at", "deleted_at",
              "project_id", "owner_structure_id", "duration_minutes"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(_fk("project.id"))
    advisor_id: Mapped[uuid.UUID | None] = mapped_column(_fk("advisor.id"))
    starts_at: Mapped[dt.datetime] = mapped_column()
    duration_minutes: Mapped[int] = mapped_column(Integer)
    mode: Mapped[codes.AppointmentMode] = mapped_column(_enum(codes.AppointmentMode, "appointment_mode"))
    status: Mapped[codes.AppointmentStatus] = mapped_column(
        _enum(codes.AppointmentStatus, "appointment_status"), default=codes.AppointmentStatus.PLANIFIE
    )
    permanence_id: Mapped[uuid.UUID | None] = mapped_column(_fk("permanence.id"))
    place: Mapped[str | None] = mapped_column(String(300))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


class NextStep(Synced, Base):
    """Something to do for a project by a due date, usually decided during an appointment."""

    __tablename__ = "next_step"
    __table_args__ = (Index("ix_next_step_project_due", "project_id", "due_date"),)

    project_id: Mapped[uuid.UUID] = mapped_column(_fk("project.id"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(_fk("appointment.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    done_date: Mapped[dt.date | None] = mapped_column(Date)
    advisor_id: Mapped[uuid.UUID | None] = mapped_column(_fk("advisor.id"))


class StatusChange(Synced, Base):
    """One dated change of a project's status (``projects.set_status``): the status before and after.

    ``project.status`` stays the current value; this history tells the status **as of** a past date (the
    ``previous_status`` of the first change after it), for the indicators. A status changed otherwise (a plain
    edit, an import) leaves no row: the history is what advisors dated.
    """

    __tablename__ = "status_change"
    __table_args__ = (Index("ix_status_change_project_date", "project_id", "effective_date", "deleted_at"),)

    project_id: Mapped[uuid.UUID] = mapped_column(_fk("project.id"))
    status: Mapped[codes.ProjectStatus] = mapped_column(_enum(codes.ProjectStatus, "project_status"))
    previous_status: Mapped[codes.ProjectStatus | None] = mapped_column(
        _enum(codes.ProjectStatus, "previous_project_status"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    advisor_id: Mapped[uuid.UUID | None] = mapped_column(_fk("advisor.id"))


# ---- Referrals and financing --------------------------------------------------------------------


class Referral(Synced, Base):
    """An orientation of a project from one structure to another (and one of its dispositifs).

    Sender-owned fields (the sending structure writes them) and receiver-owned fields (only an advisor
    of the receiving structure writes them) are kept apart, so the two sides never edit the same
    field; the status shown is derived from both (domain/referrals.py).
    """

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_to_proposed", "to_structure_id", "proposed_on"),
        Index("ix_referral_from_proposed", "from_structure_id", "proposed_on"),
        # indicators: « first accepted referral to this structure » probes
        Index("ix_referral_project_to_answered", "project_id", "to_structure_id", "answered_on"),
        # indicators: « activité démarrée » outcomes (all projects, or one), without reading the referral rows
        Index("ix_referral_outcome_project", "outcome", "project_id", "closed_on", "deleted_at"),
        # indicators: « first accepted referral to this dispositif » probes, from the index alone
        Index("ix_referral_project_dispositif", "project_id", "to_dispositif_id", "answered_on", "deleted_at", "answer"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(_fk("project.id"), index=True)
    # sender-owned
    from_structure_id: Mapped[uuid.UUID] = mapped_column(_fk("structure.id"))
    from_advisor_id: Mapped[uuid.UUID | None] = mapped_column(_fk("advisor.id"))
    to_structure_id: Mapped[uuid.UUID] = mapped_column(_fk("structure.id"))
    to_dispositif_id: Mapped[uuid.UUID | None] = mapped_column(_fk("dispositif.id"))
    motive: Mapped[str] = mapped_column(Text)
    phase_at_referral: Mapped[codes.Phase | None] = mapped_column(_enum(codes.Phase, "phase"))
    proposed_on: Mapped[dt.date] = mapped_column(Date)
    cancelled_on: Mapped[dt.date | None] = mapped_column(Date)
    cancel_comment: Mapped[str | None] = mapped_column(Text)
    reminded_on: Mapped[dt.date | None] = mapped_column(Date)  # the last reminder (« relance ») sent
    reminder_count: Mapped[int | None] = mapped_column(Integer)  # None: never reminded
    # receiver-owned
    answer: Mapped[codes.ReferralStatus | None] = mapped_column(_enum(codes.ReferralStatus, "referral_status"))
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(_fk("advisor.id"))
    refusal_reason: Mapped[codes.RefusalReason | None] = mapped_column(_enum(codes.RefusalReason, "refusal_reason"))
    answer_comment: Mapped[str | None] = mapped_column(Text)
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[codes.ReferralOutcome | None] = mapped_column(_enum(codes.ReferralOutcome, "referral_outcome"))
    outcome_comment: Mapped[str | None] = mapped_column(Text)


class Financing(Synced, Base):
    """One line of a project's « tour de table »: an instrument from a funder or dispositif."""

    __tablename__ = "financing"
    __table_args__ = (
        # indicators: « first line of this dispositif granted » probes, from the index alone
        Index("ix_financing_project_dispositif", "project_id", "dispositif_id", "decided_on", "deleted_at", "status"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(_fk("project.id"), index=True)
    instrument: Mapped[codes.Instrument] = mapped_column(_enum(codes.Instrument, "instrument"))
    dispositif_id: Mapped[uuid.UUID | None] = mapped_column(_fk("dispositif.id"))
    funder_structure_id: Mapped[uuid.UUID | None] = mapped_column(_fk("structure.id"))
    funder_name: Mapped[str | None] = mapped_column(String(200))  # a funder outside the catalogue (a bank…)
    amount_requested: Mapped[Decimal | None] = mapped_column(Cents)
    amount_granted: Mapped[Decimal | None] = mapped_column(Cents)
    status: Mapped[codes.FinancingStatus] = mapped_column(
        _enum(codes.FinancingStatus, "financing_status"), default=codes.FinancingStatus.ENVISAGE
    )
    requested_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(Text)


class Note(Synced, Base):
    """A free note on a project; stays with the structure that wrote it unless shared."""

    __tablename__ = "note"

    project_id: Mapped[uuid.UUID] = mapped_column(_fk("project.id"), index=True)
    advisor_id: Mapped[uuid.UUID | None] = mapped_column(_fk("advisor.id"))
    written_on: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


# ---- Local, non-synced tables -------------------------------------------------------------------


class Commune(Base):
    """A French commune (INSEE/DGCL reference data, loaded from resources/, never synced)."""

    __tablename__ = "commune"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)  # code INSEE
    name: Mapped[str] = mapped_column(String(100))
    sort_key: Mapped[str] = mapped_column(String(100), index=True)
    postal_codes: Mapped[str] = mapped_column(String(200))  # space-separated
    population: Mapped[int | None] = mapped_column(Integer)
    departement: Mapped[str] = mapped_column(String(3), index=True)
    region: Mapped[str | None] = mapped_column(String(3))
    epci_siren: Mapped[str | None] = mapped_column(String(9), index=True)
    epci_name: Mapped[str | None] = mapped_column(String(200))
    current: Mapped[bool] = mapped_column(Boolean, default=True)  # false once merged away


class PostalCode(Base):
    """Postal code → commune (a postal code serves several communes and the reverse)."""

    __tablename__ = "postal_code"

    postal_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("commune.code"), primary_key=True)


class LocalSetting(Base):
    """Settings of this copy of the database (owner advisor, catalogue version…). Never synced."""

    __tablename__ = "local_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


SYNCED_MODELS: tuple[type[Base], ...] = (
    Structure,
    Dispositif,
    Advisor,
    Person,
    Project,
    ProjectMember,
    PhaseChange,
    StatusChange,
    Permanence,
    Appointment,
    NextStep,
    Referral,
    Financing,
    Note,
    PersonDistinct,
)
