"""Read-side services for the persons list: ids for a filter and a sort, then rows for those ids.

Shaped like ``queries/projects.py``: the list keeps the ids and asks ``person_rows`` for the rows it
shows. Free text goes through the FTS index (``matching_ids(text, "person")``), accent-insensitive.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.entities import Commune, Person, Project, ProjectMember
from ess_accompagnement.domain.queries.projects import matching_ids


class PersonSort(StrEnum):
    NAME = "name"
    COMMUNE = "commune"
    EMAIL = "email"
    PROJECTS = "projects"


@dataclass(frozen=True)
class PersonFilter:
    search: str | None = None
    person_id: uuid.UUID | None = None
    """Only this person (the global search opens the list on one person)."""


@dataclass(frozen=True)
class PersonRow:
    id: uuid.UUID
    first_name: str
    last_name: str
    commune: str | None
    email: str | None
    phone: str | None  # E.164
    projects: int
    consent: bool

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class PersonProject:
    id: uuid.UUID
    title: str


def _live_projects_of(person_id: object) -> Select[tuple[int]]:
    return (
        select(func.count()).select_from(ProjectMember)
        .join(Project, Project.id == ProjectMember.project_id)
        .where(ProjectMember.person_id == person_id, ProjectMember.deleted_at.is_(None),
               Project.deleted_at.is_(None))
    )


def _filtered(columns: Select, criteria: PersonFilter) -> Select:  # type: ignore[type-arg]
    query = columns.where(Person.deleted_at.is_(None))
    if criteria.person_id is not None:
        query = query.where(Person.id == criteria.person_id)
    if criteria.search:
        ids = matching_ids(criteria.search, "person")
        if ids is not None:
            query = query.where(Person.id.in_(ids))
    return query


_SORT_COLUMNS = {
    PersonSort.NAME: lambda: Person.sort_key,
    PersonSort.COMMUNE: lambda: select(Commune.sort_key).where(Commune.code == Person.commune_code).scalar_subquery(),
    PersonSort.EMAIL: lambda: func.lower(Person.email),
    PersonSort.PROJECTS: lambda: _live_projects_of(Person.id).scalar_subquery(),
}


def person_ids(session: Session, criteria: PersonFilter, *, sort: PersonSort = PersonSort.NAME,
               descending: bool = False, limit: int | None = None, offset: int = 0) -> list[uuid.UUID]:
    """The ids of the persons matching ``criteria``, in the asked order (ties broken by id)."""
    column = _SORT_COLUMNS[sort]()
    order = [column.desc(), Person.id.desc()] if descending else [column.asc(), Person.id.asc()]
    query = _filtered(select(Person.id), criteria).order_by(*order).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def count_persons(session: Session, criteria: PersonFilter) -> int:
    return int(session.execute(_filtered(select(func.count()).select_from(Person), criteria)).scalar_one())


def person_rows(session: Session, ids: list[uuid.UUID]) -> list[PersonRow]:
    """The list rows of ``ids``, in the order of ``ids`` (missing or deleted ids are skipped)."""
    if not ids:
        return []
    projects = _live_projects_of(Person.id).scalar_subquery()
    rows = session.execute(
        select(Person.id, Person.first_name, Person.last_name, Commune.name, Person.email, Person.phone, projects,
               Person.consent_date)
        .outerjoin(Commune, Commune.code == Person.commune_code)
        .where(Person.id.in_(ids), Person.deleted_at.is_(None))
    ).all()
    by_id = {row[0]: PersonRow(*row[:7], consent=row[7] is not None) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def person_projects(session: Session, person_id: uuid.UUID) -> list[PersonProject]:
    """The live projects a person belongs to, most recent first."""
    rows = session.execute(
        select(Project.id, Project.title)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(ProjectMember.person_id == person_id, ProjectMember.deleted_at.is_(None),
               Project.deleted_at.is_(None))
        .order_by(Project.created_at.desc(), Project.id.desc())
    ).all()
    return [PersonProject(id_, title) for id_, title in rows]
