"""Use cases on projects and their holders: create, edit."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes, Created
from ess_accompagnement.domain.codes import LegalForm, MemberRole, Phase, Prescripteur, ProjectStatus, Sector
from ess_accompagnement.domain.entities import (
    Advisor,
    Commune,
    Note,
    Person,
    PhaseChange,
    Project,
    ProjectMember,
    StatusChange,
    Structure,
)
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError
from ess_accompagnement.domain.ids import member_id
from ess_accompagnement.domain.text import sort_key


@dataclass(frozen=True)
class HolderDraft:
    """A holder to add to a project: a new person, or an existing one when ``person_id`` is given.

    With ``person_id`` (an import that found the holder among existing persons), the person is
    linked as is: the names, e-mail and phone of the draft are not written.
    """

    first_name: str
    last_name: str
    role: MemberRole = MemberRole.PORTEUR
    email: str | None = None
    phone: str | None = None
    person_id: uuid.UUID | None = None

    @classmethod
    def parse(cls, full_name: str, role: MemberRole = MemberRole.PORTEUR) -> HolderDraft:
        """« Prénom Nom » → first name = first word, last name = the rest (« Jean de La Fontaine »)."""
        words = full_name.split()
        if len(words) < 2:
            raise ValidationError(
                "Porteur : indiquez le prénom puis le nom (ex. « Camille Martin »).", field="holder"
            )
        return cls(first_name=words[0], last_name=" ".join(words[1:]), role=role)


@dataclass(frozen=True)
class ProjectDraft:
    title: str
    lead_structure_id: uuid.UUID
    commune_code: str | None = None
    holders: tuple[HolderDraft, ...] = ()
    lead_advisor_id: uuid.UUID | None = None
    phase: Phase = Phase.EMERGENCE
    phase_date: dt.date | None = None
    summary: str | None = None
    legal_form: LegalForm = LegalForm.NON_DEFINIE
    envisaged_legal_form: LegalForm | None = None
    sector: Sector | None = None
    siret: str | None = None
    rna: str | None = None
    prescripteur: Prescripteur | None = None
    innovation_sociale: bool = False
    esus: bool = False
    confidential: bool = False
    filiere: str | None = None


@dataclass(frozen=True)
class ProjectEdit:
    """Fields to change; ``None`` leaves a field as it is, ``""`` clears an optional text."""

    title: str | None = None
    summary: str | None = None
    status: ProjectStatus | None = None
    legal_form: LegalForm | None = None
    envisaged_legal_form: LegalForm | None = None
    sector: Sector | None = None
    siret: str | None = None
    rna: str | None = None
    commune_code: str | None = None
    jobs_created: Decimal | None = None
    jobs_maintained: Decimal | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    filiere: str | None = None
    prescripteur: Prescripteur | None = None
    lead_advisor_id: uuid.UUID | None = None


def create_project(session: Session, actor: Actor, draft: ProjectDraft, *, today: dt.date) -> Created:
    """Create a project, its holders and its first phase, in one go."""
    actor.require_writer()
    title = validation.required_text(draft.title, "title", "Titre du projet")
    _check_lead(session, actor, draft.lead_structure_id, draft.lead_advisor_id)
    _check_commune(session, draft.commune_code)
    if not draft.holders:
        raise ValidationError("Porteur : un projet a au moins un porteur.", field="holder")
    linked = [holder.person_id for holder in draft.holders if holder.person_id is not None]
    if len(set(linked)) < len(linked):
        raise ValidationError("Porteur : la même personne figure deux fois parmi les porteurs.", field="holder")
    phase_date = draft.phase_date or today
    if phase_date > today:
        raise RuleError("Date d'entrée dans la phase : elle ne peut pas être dans le futur.", field="phase_date")
    owner = draft.lead_structure_id
    project = Project(
        title=title,
        sort_key=sort_key(title),
        summary=validation.optional_text(draft.summary, "summary", "Résumé"),
        legal_form=draft.legal_form,
        envisaged_legal_form=draft.envisaged_legal_form,
        sector=draft.sector,
        commune_code=draft.commune_code,
        lead_structure_id=draft.lead_structure_id,
        lead_advisor_id=draft.lead_advisor_id or actor.advisor_id,
        prescripteur=draft.prescripteur,
        siret=validation.siret(draft.siret) if draft.siret else None,
        rna=validation.rna(draft.rna) if draft.rna else None,
        innovation_sociale=draft.innovation_sociale,
        esus=draft.esus,
        confidential=draft.confidential,
        filiere=validation.optional_text(draft.filiere, "filiere", "Filière", max_length=100),
        owner_structure_id=owner,
    )
    session.add(project)
    session.flush()
    for index, holder in enumerate(draft.holders):
        person_id = _holder_person(session, holder, draft.commune_code, owner)
        role = holder.role if index == 0 or holder.role is not MemberRole.PORTEUR else MemberRole.CO_PORTEUR
        session.add(ProjectMember(id=member_id(project.id, person_id), project_id=project.id, person_id=person_id,
                                  role=role, owner_structure_id=owner))
    session.add(PhaseChange(project_id=project.id, phase=draft.phase, effective_date=phase_date,
                            advisor_id=actor.advisor_id, owner_structure_id=owner))
    session.flush()
    return Created(project.id, Changes(projects=True, persons=True, phases=True))


def add_person(session: Session, actor: Actor, holder: HolderDraft, *, commune_code: str | None) -> Created:
    """Create a holder without a project yet (an import creates each new holder once, then links them
    to their projects with ``HolderDraft.person_id``)."""
    actor.require_writer()
    _check_commune(session, commune_code)
    person = _new_person(holder, commune_code, actor.structure_id)
    session.add(person)
    session.flush()
    return Created(person.id, Changes(persons=True))


def _holder_person(session: Session, holder: HolderDraft, commune_code: str | None, owner: uuid.UUID) -> uuid.UUID:
    """The id of the holder's person: the existing one named by ``person_id``, else a new one."""
    if holder.person_id is not None:
        person = session.get(Person, holder.person_id)
        if person is None or person.deleted_at is not None:
            raise NotFoundError("Porteur : la personne à relier est introuvable (supprimée ?).", field="holder")
        return person.id
    person = _new_person(holder, commune_code, owner)
    session.add(person)
    session.flush()
    return person.id


def _new_person(holder: HolderDraft, commune_code: str | None, owner: uuid.UUID) -> Person:
    first = validation.required_text(holder.first_name, "holder", "Prénom du porteur", max_length=100)
    last = validation.required_text(holder.last_name, "holder", "Nom du porteur", max_length=100)
    return Person(first_name=first, last_name=last, sort_key=sort_key(f"{last} {first}"),
                  email=validation.email(holder.email, "email") if holder.email else None,
                  phone=validation.phone(holder.phone, "phone") if holder.phone else None,
                  commune_code=commune_code, owner_structure_id=owner)


def _check_lead(session: Session, actor: Actor, structure_id: uuid.UUID, advisor_id: uuid.UUID | None) -> None:
    structure = session.get(Structure, structure_id)
    if structure is None or structure.deleted_at is not None:
        raise NotFoundError("Structure introuvable.", field="structure")
    if structure_id != actor.structure_id:
        raise RuleError(
            f"Vous ne pouvez créer un projet que pour votre structure. Pour le confier à « {structure.name} », "
            "créez-le puis orientez-le vers elle.",
            field="structure",
        )
    if advisor_id is not None:
        advisor = session.get(Advisor, advisor_id)
        if advisor is None or advisor.deleted_at is not None or advisor.structure_id != structure_id:
            raise RuleError("Le conseiller référent doit appartenir à la structure qui mène le projet.",
                            field="advisor")


def _check_commune(session: Session, code: str | None) -> None:
    if code is not None and session.get(Commune, code) is None:
        raise NotFoundError(f"Commune inconnue (code INSEE {code}).", field="commune")


def get_led_project(session: Session, actor: Actor, project_id: uuid.UUID) -> Project:
    """The project, if it exists and the actor's structure leads it."""
    project = session.get(Project, project_id)
    if project is None or project.deleted_at is not None:
        raise NotFoundError("Projet introuvable.", field="projet")
    if project.lead_structure_id != actor.structure_id:
        raise RuleError("Seule la structure qui mène le projet peut le modifier.", field="projet")
    return project


def edit_project(session: Session, actor: Actor, project_id: uuid.UUID, edit: ProjectEdit) -> Changes:
    """Change some fields of a project; fields left to None stay as they are."""
    actor.require_writer()
    project = get_led_project(session, actor, project_id)
    values = _edited_values(edit)
    if edit.commune_code:
        _check_commune(session, edit.commune_code)
    if edit.lead_advisor_id is not None:
        _check_lead(session, actor, project.lead_structure_id, edit.lead_advisor_id)
    if not values and not edit.flags:
        raise ValidationError("Rien à modifier : indiquez au moins un champ.", field="projet")
    for name, value in {**values, **edit.flags}.items():
        if getattr(project, name) != value:
            setattr(project, name, value)
    if "title" in values:
        project.sort_key = sort_key(values["title"])
    session.flush()
    return Changes(projects=True)


def _edited_values(edit: ProjectEdit) -> dict[str, object]:
    values: dict[str, object] = {}
    if edit.title is not None:
        values["title"] = validation.required_text(edit.title, "title", "Titre du projet")
    if edit.summary is not None:
        values["summary"] = validation.optional_text(edit.summary, "summary", "Résumé")
    if edit.siret is not None:
        values["siret"] = validation.siret(edit.siret) if edit.siret.strip() else None
    if edit.rna is not None:
        values["rna"] = validation.rna(edit.rna) if edit.rna.strip() else None
    if edit.filiere is not None:
        values["filiere"] = validation.optional_text(edit.filiere, "filiere", "Filière", max_length=100)
    for name in ("status", "legal_form", "envisaged_legal_form", "sector", "commune_code",
                 "jobs_created", "jobs_maintained", "prescripteur", "lead_advisor_id"):
        value = getattr(edit, name)
        if value is not None:
            values[name] = value
    if values.get("commune_code") == "":
        values["commune_code"] = None  # "" clears the commune
    return values


# ---- Status, and what the project form shows ----------------------------------------------------

REASON_REQUIRED = frozenset({ProjectStatus.ABANDONNE})
"""Statuses a project cannot take without saying why."""


def set_status(session: Session, actor: Actor, project_id: uuid.UUID, status: ProjectStatus, *, date: dt.date,
               reason: str | None, today: dt.date) -> Changes:
    """Change the project's status (close it, put it on hold, reopen it).

    The change is dated: a ``StatusChange`` row keeps the status before and after (the indicators read the
    status as of a past date from it), and a note dated ``date`` (« Statut : actif → abandonné ») holding the
    reason shows it in the project's timeline. A change is never dated before the previous one.
    """
    actor.require_writer()
    project = get_led_project(session, actor, project_id)
    if project.status is status:
        raise RuleError(f"Le projet est déjà « {status.label} ».", field="status")
    if date > today:
        raise RuleError("Date du changement de statut : elle ne peut pas être dans le futur.", field="date")
    latest = session.execute(select(func.max(StatusChange.effective_date)).where(
        StatusChange.project_id == project.id, StatusChange.deleted_at.is_(None))).scalar_one()
    if latest is not None and date < latest:
        raise RuleError(f"Date du changement de statut : elle précède le changement précédent, du "
                        f"{validation.format_date(latest)}.", field="date")
    text = validation.optional_text(reason, "reason", "Raison", max_length=5000)
    if status in REASON_REQUIRED and text is None:
        raise ValidationError(f"Raison : indiquez pourquoi le projet passe « {status.label} ».", field="reason")
    trace = f"Statut : {project.status.label} → {status.label}." + (f" {text}" if text else "")
    session.add(Note(project_id=project.id, advisor_id=actor.advisor_id, written_on=date, text=trace,
                     owner_structure_id=actor.structure_id))
    session.add(StatusChange(project_id=project.id, status=status, previous_status=project.status,
                             effective_date=date, reason=text, advisor_id=actor.advisor_id,
                             owner_structure_id=actor.structure_id))
    project.status = status
    session.flush()
    return Changes(projects=True, notes=True)


@dataclass(frozen=True)
class AdvisorChoice:
    id: uuid.UUID
    name: str


def structure_advisors(session: Session, structure_id: uuid.UUID) -> list[AdvisorChoice]:
    """The active advisors of a structure, by name (the choices of a project's lead advisor)."""
    rows = session.execute(
        select(Advisor.id, Advisor.name)
        .where(Advisor.structure_id == structure_id, Advisor.deleted_at.is_(None), Advisor.active.is_(True))
        .order_by(Advisor.sort_key, Advisor.id)
    ).all()
    return [AdvisorChoice(id_, name) for id_, name in rows]


@dataclass(frozen=True)
class ProjectValues:
    """The stored values of a project, to fill its form."""

    id: uuid.UUID
    title: str
    summary: str | None
    status: ProjectStatus
    legal_form: LegalForm
    envisaged_legal_form: LegalForm | None
    sector: Sector | None
    filiere: str | None
    commune_code: str | None
    lead_structure_id: uuid.UUID
    lead_advisor_id: uuid.UUID | None
    prescripteur: Prescripteur | None
    siret: str | None
    rna: str | None
    jobs_created: Decimal | None
    jobs_maintained: Decimal | None
    innovation_sociale: bool
    esus: bool
    confidential: bool


def project_values(session: Session, project_id: uuid.UUID) -> ProjectValues:
    project = session.get(Project, project_id)
    if project is None or project.deleted_at is not None:
        raise NotFoundError("Projet introuvable.", field="projet")
    names = [name for name in ProjectValues.__dataclass_fields__ if name != "id"]
    return ProjectValues(project.id, *(getattr(project, name) for name in names))
