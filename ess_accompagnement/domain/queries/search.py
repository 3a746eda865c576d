"""The global search: projects, persons and structures whose words start with what was typed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.entities import Commune, Person, Project, Structure
from ess_accompagnement.domain.text import fts_prefix_query
from ess_accompagnement.store.derived import fts_match, search_fts, search_key

KINDS = ("project", "person", "structure")


@dataclass(frozen=True)
class SearchHit:
    kind: str  # project, person, structure
    id: uuid.UUID
    title: str
    detail: str | None


def search(session: Session, text: str, *, limit: int = 20, kinds: tuple[str, ...] = KINDS) -> list[SearchHit]:
    """Best matches first (FTS5 bm25), accent-, case- and ligature-insensitive, as-you-type prefixes."""
    query = fts_prefix_query(text)
    if query is None:
        return []
    ranked = session.execute(
        select(search_key.c.kind, search_key.c.ref_id)
        .join(search_fts, search_fts.c.rowid == search_key.c.rowid)
        .where(fts_match(query), search_key.c.kind.in_(kinds))
        .order_by(search_fts.c.rank)
        .limit(limit)
    ).all()
    details = _details(session, ranked)
    return [SearchHit(kind, ref_id, *details[(kind, ref_id)]) for kind, ref_id in ranked if (kind, ref_id) in details]


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
