"""Use cases on a project's members after its creation: add a holder who joins, change a role, remove one who left.

A member is a ``ProjectMember`` row (id: UUIDv5 of project and person, see ``ids.member_id``). Removing one
soft-deletes that row (``deleted_at``) and never touches the person; adding the same person again revives the
same row, so two copies of the database still agree on one link per pair.

Rules, checked before anything is written:
- only a writing advisor of the project's lead structure changes its members (as for ``edit_project``);
- a project keeps at least one porteur while it has members: no change may leave members without one;
- the same person is never an active member twice.

Every change is traced by a dated note of the lead structure (as ``projects.set_status`` does), so it shows in
the project's timeline (« Inès Lefèvre a rejoint le projet (co-porteur). »). The note is not shared: other
structures of the parcours do not read the holders' comings and goings.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes, Created
from ess_accompagnement.domain.codes import MemberRole
from ess_accompagnement.domain.entities import Note, Person, Project, ProjectMember, utcnow
from ess_accompagnement.domain.errors import NotFoundError, RuleError
from ess_accompagnement.domain.ids import member_id
from ess_accompagnement.domain.projects import HolderDraft, add_person, get_led_project

logger = logging.getLogger(__name__)

MEMBER_CHANGES = Changes(projects=True, persons=True, notes=True)
"""What every membership change touches: the project (its holders), the persons (their projects), a note."""


@dataclass(frozen=True)
class MemberValues:
    """One active member of a project, and the roles of the others (to check the porteur rule)."""

    project_id: uuid.UUID
    project_title: str
    person_id: uuid.UUID
    first_name: str
    last_name: str
    role: MemberRole
    other_roles: tuple[MemberRole, ...]

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# ---- Rules (pure: the dialogs check them as the advisor types) -----------------------------------


def _has_porteur(roles: Iterable[MemberRole]) -> bool:
    """True when the members include a porteur, or when there are no members at all."""
    roles = tuple(roles)
    return not roles or MemberRole.PORTEUR in roles


def _keeps_porteur(before: Iterable[MemberRole], after: Iterable[MemberRole]) -> bool:
    """A change may not leave members without a porteur (a project already without one is not blocked)."""
    return _has_porteur(after) or not _has_porteur(before)


def check_new_member(current_roles: Iterable[MemberRole], role: MemberRole) -> None:
    """Refuse a role that would leave the project's members without a porteur."""
    current = tuple(current_roles)
    if not _keeps_porteur(current, (*current, role)):
        raise RuleError("Rôle : le projet n'a pas encore de porteur ; la personne ajoutée doit en être le porteur.",
                        field="role")


def check_role_change(member: MemberValues, role: MemberRole) -> None:
    """Refuse the same role, or a change that leaves the project without a porteur."""
    if role is member.role:
        raise RuleError(f"Rôle : la personne est déjà « {role.label} » ; choisissez un autre rôle.", field="role")
    if not _keeps_porteur((*member.other_roles, member.role), (*member.other_roles, role)):
        raise RuleError("Rôle : le projet doit garder au moins un porteur. Désignez d'abord un autre porteur, "
                        "puis changez ce rôle.", field="role")


def check_removal(member: MemberValues) -> None:
    """Refuse removing the last porteur while other members remain."""
    if not _keeps_porteur((*member.other_roles, member.role), member.other_roles):
        raise RuleError("Membre : le projet doit garder au moins un porteur tant qu'il a des membres. Désignez "
                        "d'abord un autre porteur, puis retirez cette personne.", field="member")


def _check_date(on: dt.date, today: dt.date, label: str) -> None:
    if on > today:
        raise RuleError(f"{label} : elle ne peut pas être dans le futur.", field="date")


# ---- Reading ------------------------------------------------------------------------------------


def member_values(session: Session, project_id: uuid.UUID, person_id: uuid.UUID) -> MemberValues | None:
    """The active member ``person_id`` of the project, or None when the person is not (or no longer) one."""
    rows = session.execute(
        select(ProjectMember.person_id, ProjectMember.role, Person.first_name, Person.last_name, Project.title)
        .join(Person, Person.id == ProjectMember.person_id)
        .join(Project, Project.id == ProjectMember.project_id)
        .where(ProjectMember.project_id == project_id, ProjectMember.deleted_at.is_(None),
               Person.deleted_at.is_(None), Project.deleted_at.is_(None))
    ).all()
    mine = [row for row in rows if row[0] == person_id]
    if not mine:
        return None
    _id, role, first, last, title = mine[0]
    others = tuple(row[1] for row in rows if row[0] != person_id)
    return MemberValues(project_id, title, person_id, first, last, role, others)


def member_roles(session: Session, project_id: uuid.UUID) -> list[MemberRole]:
    """The roles of the project's active members (persons not deleted)."""
    return list(session.scalars(
        select(ProjectMember.role)
        .join(Person, Person.id == ProjectMember.person_id)
        .where(ProjectMember.project_id == project_id, ProjectMember.deleted_at.is_(None),
               Person.deleted_at.is_(None))
    ))


# ---- Use cases ----------------------------------------------------------------------------------


def add_member(session: Session, actor: Actor, project_id: uuid.UUID, holder: HolderDraft, *,
               on: dt.date | None = None, today: dt.date) -> Created:
    """Add a person to the project with ``holder.role``: the existing person ``holder.person_id``, else a new
    person made from the draft (in the project's commune, as ``create_project`` does). Returns the person's id.

    A person removed earlier comes back on the same link. ``on`` is the day the person joined (today if None).
    """
    actor.require_writer()
    project = get_led_project(session, actor, project_id)
    on = on or today
    _check_date(on, today, "Date d'arrivée")
    check_new_member(member_roles(session, project.id), holder.role)
    if holder.person_id is not None:
        person = _live_person(session, holder.person_id)
        active = [link for link in _links(session, project.id, person.id) if link.deleted_at is None]
        if active:
            raise RuleError(f"Personne à ajouter : elle fait déjà partie du projet (rôle : {active[0].role.label}).",
                            field="holder")
    else:
        person = _live_person(session, add_person(session, actor, holder, commune_code=project.commune_code).id)
    _link(session, project, person.id, holder.role)
    _trace(session, actor, project, on, f"{_name(person)} a rejoint le projet ({holder.role.label}).")
    session.flush()
    logger.debug("person %s joined project %s", person.id, project.id)
    return Created(person.id, MEMBER_CHANGES)


def change_member_role(session: Session, actor: Actor, project_id: uuid.UUID, person_id: uuid.UUID,
                       role: MemberRole, *, on: dt.date | None = None, today: dt.date) -> Changes:
    """Give an active member another role (``on``: the day it changed, today if None)."""
    actor.require_writer()
    project = get_led_project(session, actor, project_id)
    member, link = _active_member(session, project.id, person_id)
    on = on or today
    _check_date(on, today, "Date du changement")
    check_role_change(member, role)
    link.role = role
    _trace(session, actor, project, on, f"Rôle de {member.name} : {member.role.label} → {role.label}.")
    session.flush()
    logger.debug("member %s of project %s: role changed", person_id, project.id)
    return MEMBER_CHANGES


def remove_member(session: Session, actor: Actor, project_id: uuid.UUID, person_id: uuid.UUID, *,
                  on: dt.date | None = None, reason: str | None = None, today: dt.date) -> Changes:
    """Take a member off the project (soft delete of the link; the person stays recorded).

    ``on`` is the day the person left (today if None); ``reason``, optional, follows in the note.
    """
    actor.require_writer()
    project = get_led_project(session, actor, project_id)
    member, link = _active_member(session, project.id, person_id)
    on = on or today
    _check_date(on, today, "Date de départ")
    text = validation.optional_text(reason, "reason", "Raison", max_length=5000)
    check_removal(member)
    link.deleted_at = utcnow()
    _trace(session, actor, project, on, f"{member.name} a quitté le projet." + (f" {text}" if text else ""))
    session.flush()
    logger.debug("member %s left project %s", person_id, project.id)
    return MEMBER_CHANGES


# ---- Helpers ------------------------------------------------------------------------------------


def _live_person(session: Session, person_id: uuid.UUID) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.deleted_at is not None:
        raise NotFoundError("Personne à ajouter : elle est introuvable (supprimée ou fusionnée ?).", field="holder")
    return person


def _active_member(session: Session, project_id: uuid.UUID, person_id: uuid.UUID) \
        -> tuple[MemberValues, ProjectMember]:
    """The member's values and its link row; refused when the person is not an active member."""
    member = member_values(session, project_id, person_id)
    active = [link for link in _links(session, project_id, person_id) if link.deleted_at is None]
    if member is None or not active:
        raise NotFoundError("Membre : cette personne ne fait pas (ou plus) partie du projet.", field="member")
    return member, active[0]


def _links(session: Session, project_id: uuid.UUID, person_id: uuid.UUID) -> list[ProjectMember]:
    """Every link row of the pair, deleted ones included: the one with the derived id first."""
    rows = session.scalars(select(ProjectMember).where(ProjectMember.project_id == project_id,
                                                       ProjectMember.person_id == person_id)).all()
    derived = member_id(project_id, person_id)
    return sorted(rows, key=lambda link: (link.id != derived, link.id))


def _link(session: Session, project: Project, person_id: uuid.UUID, role: MemberRole) -> None:
    """Link the person to the project: revive a former link of the pair (removed earlier), else make one."""
    former = _links(session, project.id, person_id)
    if former:
        former[0].deleted_at, former[0].role = None, role
        return
    session.add(ProjectMember(id=member_id(project.id, person_id), project_id=project.id, person_id=person_id,
                              role=role, owner_structure_id=project.lead_structure_id))


def _name(person: Person) -> str:
    return f"{person.first_name} {person.last_name}"


def _trace(session: Session, actor: Actor, project: Project, on: dt.date, text: str) -> None:
    """The dated note that puts the change in the project's timeline (kept by the lead structure)."""
    session.add(Note(project_id=project.id, advisor_id=actor.advisor_id, written_on=on, text=text, shared=False,
                     owner_structure_id=actor.structure_id))
