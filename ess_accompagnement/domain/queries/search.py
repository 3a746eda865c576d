"""The global search: projects, persons and structures whose words start with what was typed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, String, bindparam, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from ess_accompagnement.domain.entities import Commune, Person, Project, Structure
from ess_accompagnement.domain.text import fts_prefix_query
from ess_accompagnement.store.derived import search_fts, search_key, search_org

KINDS = ("project", "person", "structure")


@dataclass(frozen=True)
class SearchHit:
    kind: str  # project, person, structure
    id: uuid.UUID
    title: str
    detail: str | None


RANKED_CANDIDATES = 1000
"""At most this many project and person documents are ranked for one search: the most recently
indexed ones. A two-letter prefix can match a hundred thousand documents, and ranking them all
(FTS5 bm25) costs more than the as-you-type search may take; typing one more letter narrows it."""
STRUCTURES_SHOWN = 5


def search(session: Session, text: str, *, limit: int = 20, kinds: tuple[str, ...] = KINDS) -> list[SearchHit]:
    """Best matches first, accent-, case- and ligature-insensitive, as-you-type prefixes.

    Structures come first (at most ``STRUCTURES_SHOWN``, all of them ranked), then projects and
    persons ranked by FTS5's bm25 among the ``RANKED_CANDIDATES`` most recent matches.
    """
    query = fts_prefix_query(text)
    if query is None:
        return []
    hits: list[SearchHit] = []
    if "structure" in kinds:
        hits += _structures(session, query, min(limit, STRUCTURES_SHOWN))
    others = tuple(kind for kind in kinds if kind != "structure")
    if others and len(hits) < limit:
        hits += _documents(session, query, others, limit - len(hits))
    return hits


def _structures_statement() -> Select[tuple[uuid.UUID, str, str | None]]:
    return (select(search_key.c.ref_id, Structure.name, Structure.short_name)
            .join(search_org, search_org.c.rowid == search_key.c.rowid)
            .join(Structure, Structure.id == search_key.c.ref_id)
            .where(literal_column("search_org").op("MATCH")(bindparam("fts_query", type_=String)))
            .order_by(search_org.c.rank).limit(bindparam("hits", type_=Integer)))


def _documents_statement() -> Select[Any]:
    """Projects and persons with what a hit shows, in one statement."""
    match = literal_column("search_fts").op("MATCH")(bindparam("fts_query", type_=String)).self_group()
    # The RANKED_CANDIDATES-th most recent match bounds the ranked set (none: fewer matches, rank them all).
    cutoff = (select(search_fts.c.rowid).where(match).order_by(search_fts.c.rowid.desc())
              .limit(1).offset(bindparam("bound", type_=Integer)).scalar_subquery())
    ranked = (select(search_fts.c.rowid.label("rowid"), search_fts.c.rank.label("rank"))
              .where(match, search_fts.c.rowid >= func.coalesce(cutoff, 0)).subquery())
    project_commune, person_commune = aliased(Commune), aliased(Commune)
    return (select(search_key.c.kind, search_key.c.ref_id, Project.title, project_commune.name,
                   Person.first_name, Person.last_name, person_commune.name)
            .join(ranked, ranked.c.rowid == search_key.c.rowid)
            .outerjoin(Project, (search_key.c.kind == "project") & (Project.id == search_key.c.ref_id))
            .outerjoin(project_commune, project_commune.code == Project.commune_code)
            .outerjoin(Person, (search_key.c.kind == "person") & (Person.id == search_key.c.ref_id))
            .outerjoin(person_commune, person_commune.code == Person.commune_code)
            .where(search_key.c.kind.in_(bindparam("kinds", expanding=True)))
            .order_by(ranked.c.rank).limit(bindparam("hits", type_=Integer)))


# Built once: composing a statement costs more than running it in an as-you-type search.
_STRUCTURES = _structures_statement()
_DOCUMENTS = _documents_statement()


def _structures(session: Session, query: str, limit: int) -> list[SearchHit]:
    rows = session.execute(_STRUCTURES, {"fts_query": query, "hits": limit}).all()
    return [SearchHit("structure", ref_id, name, short) for ref_id, name, short in rows]


def _documents(session: Session, query: str, kinds: tuple[str, ...], limit: int) -> list[SearchHit]:
    rows = session.execute(_DOCUMENTS, {"fts_query": query, "kinds": list(kinds), "hits": limit,
                                        "bound": RANKED_CANDIDATES - 1}).all()
    return [_hit(*row) for row in rows]


def _hit(kind: str, ref_id: uuid.UUID, title: str | None, project_commune: str | None, first: str | None,
         last: str | None, person_commune: str | None) -> SearchHit:
    if kind == "project":
        return SearchHit(kind, ref_id, title or "", project_commune)
    return SearchHit(kind, ref_id, f"{first or ''} {last or ''}".strip(), person_commune)
