"""The global search: projects, persons and structures whose words start with what was typed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.entities import Commune, Person, Project, Structure
from ess_accompagnement.domain.text import fts_prefix_query
from ess_accompagnement.store.derived import fts_match, search_fts, search_key, search_org

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
    ranked: list[tuple[str, uuid.UUID]] = []
    if "structure" in kinds:
        ranked += _structures(session, query, min(limit, STRUCTURES_SHOWN))
    others = tuple(kind for kind in kinds if kind != "structure")
    if others and len(ranked) < limit:
        ranked += _documents(session, query, others, limit - len(ranked))
    details = _details(session, ranked)
    return [SearchHit(kind, ref_id, *details[(kind, ref_id)]) for kind, ref_id in ranked if (kind, ref_id) in details]


def _structures(session: Session, query: str, limit: int) -> list[tuple[str, uuid.UUID]]:
    rows = session.execute(
        select(search_key.c.kind, search_key.c.ref_id)
        .join(search_org, search_org.c.rowid == search_key.c.rowid)
        .where(fts_match(query, "search_org")).order_by(search_org.c.rank).limit(limit)
    ).all()
    return [(kind, ref_id) for kind, ref_id in rows]


def _documents(session: Session, query: str, kinds: tuple[str, ...], limit: int) -> list[tuple[str, uuid.UUID]]:
    # The RANKED_CANDIDATES-th most recent match bounds the ranked set (none: fewer matches, rank them all).
    cutoff = (select(search_fts.c.rowid).where(fts_match(query)).order_by(search_fts.c.rowid.desc())
              .limit(1).offset(RANKED_CANDIDATES - 1).scalar_subquery())
    ranked = (select(search_fts.c.rowid.label("rowid"), search_fts.c.rank.label("rank"))
              .where(fts_match(query), search_fts.c.rowid >= func.coalesce(cutoff, 0)).subquery())
    rows = session.execute(
        select(search_key.c.kind, search_key.c.ref_id)
        .join(ranked, ranked.c.rowid == search_key.c.rowid)
        .where(search_key.c.kind.in_(kinds)).order_by(ranked.c.rank).limit(limit)
    ).all()
    return [(kind, ref_id) for kind, ref_id in rows]


def _details(session: Session, hits: list[tuple[str, uuid.UUID]]) -> dict[tuple[str, uuid.UUID], tuple[str, str | None]]:
    ids = {kind: [ref for k, ref in hits if k == kind] for kind in KINDS}
    found: dict[tuple[str, uuid.UUID], tuple[str, str | None]] = {}
    if ids["project"]:
        for id_, title, commune in session.execute(
            select(Project.id, Project.title, Commune.name).outerjoin(Commune, Commune.code == Project.commune_code)
            .where(Project.id.in_(ids["project"]))
        ):
            found[("project", id_)] = (title, commune)
    if ids["person"]:
        for id_, first, last, commune in session.execute(
            select(Person.id, Person.first_name, Person.last_name, Commune.name)
            .outerjoin(Commune, Commune.code == Person.commune_code).where(Person.id.in_(ids["person"]))
        ):
            found[("person", id_)] = (f"{first} {last}", commune)
    if ids["structure"]:
        for id_, name, short in session.execute(
            select(Structure.id, Structure.name, func.coalesce(Structure.short_name, None))
            .where(Structure.id.in_(ids["structure"]))
        ):
            found[("structure", id_)] = (name, short)
    return found
