"""Read-side services for project lists: ids for a filter and a sort, then rows for those ids.

Filtering and sorting happen in SQL (the list can hold 100 000 projects); a list screen keeps the
ids and asks ``project_rows`` for the rows it shows. Rows are frozen dataclasses, never ORM objects.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, TextualSelect, Uuid, case, func, select, text
from sqlalchemy.orm import Session

from ess_accompagnement.domain.codes import MemberRole, Phase, ProjectStatus, ReferralStatus
from ess_accompagnement.domain.entities import (
    Advisor,
    Commune,
    Person,
    Project,
    ProjectMember,
    Referral,
    Structure,
)
from ess_accompagnement.domain.text import fts_prefix_query
from ess_accompagnement.store.derived import project_state


class ProjectSort(StrEnum):
    TITLE = "title"
    COMMUNE = "commune"
    PHASE = "phase"
    STATUS = "status"
    STRUCTURE = "structure"
    LAST_ACTIVITY = "last_activity"


@dataclass(frozen=True)
class ProjectFilter:
    phase: Phase | None = None
    status: ProjectStatus | None = None
    structure_id: uuid.UUID | None = None
    advisor_id: uuid.UUID | None = None
    departement: str | None = None
    epci_siren: str | None = None
    search: str | None = None
    referred_to_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ProjectRow:
    id: uuid.UUID
    title: str
    holders: str
    commune: str | None
    departement: str | None
    phase: Phase | None
    status: ProjectStatus
    lead_structure: str
    lead_advisor: str | None
    last_activity: dt.date | None


_MATCHING = text(
    "SELECT k.ref_id FROM search_fts f CROSS JOIN search_key k ON k.rowid = f.rowid "
    "WHERE search_fts MATCH :fts_query AND k.kind = :fts_kind"
).columns(ref_id=Uuid())
"""The FTS match drives the look-up (CROSS JOIN fixes the join order in SQLite): a few thousand matches
cost a few thousand key look-ups, where scanning every document key of the kind cost 50 ms."""


def matching_ids(text_: str, kind: str) -> TextualSelect | None:
    """Ids of ``kind`` documents whose words start with every word of ``text_`` (None: no word)."""
    query = fts_prefix_query(text_)
    if query is None:
        return None
    return _MATCHING.bindparams(fts_query=query, fts_kind=kind)


def _filtered(columns: Select, criteria: ProjectFilter) -> Select:  # type: ignore[type-arg]
    """``columns`` over ``project_state`` (live projects) narrowed by ``criteria``.

    Every filter but the free text and the referral target is a column of ``project_state``, whose
    indexes serve each filter in title order: the first page of any filtered list reads 50 index
    entries, not the whole phase (see ``store.derived``).
    """
    state = project_state.c
    query = columns.where(state.live == 1)
    for value, column in (
        (criteria.phase, state.phase), (criteria.status, state.status),
        (criteria.structure_id, state.lead_structure_id), (criteria.advisor_id, state.lead_advisor_id),
        (criteria.departement, state.departement), (criteria.epci_siren, state.epci_siren),
    ):
        if value is not None:
            query = query.where(column == value)
    if criteria.referred_to_id is not None:
        query = query.where(state.project_id.in_(select(Referral.project_id).where(
            Referral.to_structure_id == criteria.referred_to_id, Referral.deleted_at.is_(None))))
    if criteria.search:
        ids = matching_ids(criteria.search, "project")
        if ids is not None:
            # ``live + 0``: the matches drive the query through the primary key, not the live index
            query = query.where(state.project_id.in_(ids.subquery().select()), (state.live + 0) == 1)
    return query


def filtered_project_ids(criteria: ProjectFilter) -> Select[tuple[uuid.UUID]]:
    """The ids of the live projects matching ``criteria``, as a subquery for other queries (exports)."""
    return _filtered(select(project_state.c.project_id), criteria)


def _lifecycle(column: ColumnElement[str], enum_cls: type[Phase] | type[ProjectStatus]) -> ColumnElement[int]:
    """Codes in the order of their enum (émergence before création…), not alphabetically."""
    return case({member.value: index for index, member in enumerate(enum_cls)}, value=column, else_=len(enum_cls))


_SORT_COLUMNS = {
    ProjectSort.TITLE: lambda: project_state.c.title_key,
    ProjectSort.PHASE: lambda: _lifecycle(project_state.c.phase, Phase),
    ProjectSort.STATUS: lambda: _lifecycle(project_state.c.status, ProjectStatus),
    ProjectSort.LAST_ACTIVITY: lambda: project_state.c.last_activity,
    ProjectSort.COMMUNE: lambda: select(Commune.sort_key).where(Commune.code == project_state.c.commune_code)
    .scalar_subquery(),
    ProjectSort.STRUCTURE: lambda: select(Structure.sort_key)
    .where(Structure.id == project_state.c.lead_structure_id).scalar_subquery(),
}


def project_ids(
    session: Session,
    criteria: ProjectFilter,
    *,
    sort: ProjectSort = ProjectSort.TITLE,
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[uuid.UUID]:
    """The ids of the projects matching ``criteria``, in the asked order (ties broken by id)."""
    column = _SORT_COLUMNS[sort]()
    key = project_state.c.project_id
    order = [column.desc(), key.desc()] if descending else [column.asc(), key.asc()]
    query = _filtered(select(key), criteria).order_by(*order).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def count_projects(session: Session, criteria: ProjectFilter) -> int:
    return int(session.execute(_filtered(select(func.count()).select_from(project_state), criteria)).scalar_one())


def role_order() -> ColumnElement[int]:
    """Members in the order of MemberRole: porteurs first."""
    return case({role.value: index for index, role in enumerate(MemberRole)}, value=ProjectMember.role,
                else_=len(MemberRole))


def holders_by_project(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """« Prénom Nom, Prénom Nom » of each project's members, porteurs first."""
    rows = session.execute(
        select(ProjectMember.project_id, Person.first_name, Person.last_name)
        .join(Person, Person.id == ProjectMember.person_id)
        .where(ProjectMember.project_id.in_(ids), ProjectMember.deleted_at.is_(None), Person.deleted_at.is_(None))
        .order_by(ProjectMember.project_id, role_order(), Person.sort_key)
    ).all()
    names: dict[uuid.UUID, list[str]] = {}
    for project_id, first, last in rows:
        names.setdefault(project_id, []).append(f"{first} {last}")
    return {key: ", ".join(value) for key, value in names.items()}


def project_rows(session: Session, ids: list[uuid.UUID]) -> list[ProjectRow]:
    """The list rows of ``ids``, in the order of ``ids`` (missing or deleted ids are skipped)."""
    if not ids:
        return []
    rows = session.execute(
        select(Project.id, Project.title, Commune.name, Commune.departement, project_state.c.phase, Project.status,
               Structure.name, Advisor.name, project_state.c.last_activity)
        .join(project_state, project_state.c.project_id == Project.id)
        .join(Structure, Structure.id == Project.lead_structure_id)
        .outerjoin(Commune, Commune.code == Project.commune_code)
        .outerjoin(Advisor, Advisor.id == Project.lead_advisor_id)
        .where(Project.id.in_(ids), Project.deleted_at.is_(None))
    ).all()
    holders = holders_by_project(session, ids)
    by_id = {
        row[0]: ProjectRow(
            id=row[0], title=row[1], holders=holders.get(row[0], ""), commune=row[2], departement=row[3],
            phase=Phase(row[4]) if row[4] else None, status=row[5], lead_structure=row[6], lead_advisor=row[7],
            last_activity=row[8],
        )
        for row in rows
    }
    return [by_id[i] for i in ids if i in by_id]


def referral_counts(session: Session, project_id: uuid.UUID) -> dict[ReferralStatus, int]:
    """How many referrals of the project are in each receiver status (unanswered ones under None)."""
    rows = session.execute(
        select(Referral.answer, func.count()).where(Referral.project_id == project_id, Referral.deleted_at.is_(None))
        .group_by(Referral.answer)
    ).all()
    return {answer or ReferralStatus.PROPOSEE: count for answer, count in rows}
