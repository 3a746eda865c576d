"""Duplicate holders: find probable duplicates among my structure's persons, merge them, or say they differ.

Two copies may register the same holder without knowing it; once their data meet, the pair is offered
as « fusionner / pas un doublon ». The rules are those of ``domain/duplicates.py`` (strongest first):
the same SIRET or RNA on their projects with a close full name, then e-mail + first name, phone + first
name, close full name in the same commune. Candidates are grouped by blocking keys (e-mail, phone, SIRET,
RNA, commune) so only persons sharing a key are compared.

A merge moves every project membership of the merged person to the kept one (appointments, referrals,
notes and financings hang on the projects, so they all follow), fills the kept person's empty fields,
and soft-deletes the merged person with ``merged_into_id`` pointing to the kept one: nothing is lost,
and the merge travels like any change. « Pas un doublon » is a synced ``PersonDistinct`` row whose id
is derived from the pair, so two copies marking the same pair make one row.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import duplicates as rules
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.domain.codes import Gender
from ess_accompagnement.domain.duplicates import MatchReason, PersonFacts
from ess_accompagnement.domain.entities import Commune, Person, PersonDistinct, Project, ProjectMember, utcnow
from ess_accompagnement.domain.errors import NotFoundError, RuleError
from ess_accompagnement.domain.ids import NAMESPACE, member_id

logger = logging.getLogger(__name__)

FILLED_FIELDS = ("email", "phone", "birth_year", "commune_code", "situation")
CONSENT_FIELDS = ("consent_date", "consent_scope", "consent_source")


@dataclass(frozen=True)
class PersonSide:
    """One person of a pair, as shown side by side."""

    id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    commune: str | None
    birth_year: int | None
    created_at: dt.datetime
    projects: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class DuplicatePair:
    a: PersonSide
    b: PersonSide
    reason: MatchReason
    score: float

    @property
    def id(self) -> tuple[uuid.UUID, uuid.UUID]:
        return (self.a.id, self.b.id)


@dataclass
class _Candidate:
    facts: PersonFacts
    sirets: set[str] = field(default_factory=set)
    rnas: set[str] = field(default_factory=set)
    titles: list[str] = field(default_factory=list)


def distinct_id(a_id: uuid.UUID, b_id: uuid.UUID) -> uuid.UUID:
    """The id of a « pas un doublon » pair, the same on every copy and in either order."""
    low, high = sorted((a_id, b_id))
    return uuid.uuid5(NAMESPACE, f"person-distinct:{low}|{high}")


# ---- Finding --------------------------------------------------------------------------------------


def _candidates(session: Session, structure_id: uuid.UUID) -> dict[uuid.UUID, _Candidate]:
    rows = session.execute(
        select(Person.id, Person.first_name, Person.last_name, Person.email, Person.phone, Person.commune_code)
        .where(Person.owner_structure_id == structure_id, Person.deleted_at.is_(None))
    ).all()
    found = {r[0]: _Candidate(PersonFacts(r[1], r[2], r[3], r[4], r[5], r[0])) for r in rows}
    links = session.execute(
        select(ProjectMember.person_id, Project.title, Project.siret, Project.rna)
        .join(Project, Project.id == ProjectMember.project_id)
        .join(Person, Person.id == ProjectMember.person_id)
        .where(ProjectMember.deleted_at.is_(None), Project.deleted_at.is_(None),
               Person.owner_structure_id == structure_id, Person.deleted_at.is_(None))
        .order_by(Project.title)
    ).all()
    for person_id, title, siret, rna in links:
        if person_id in found:
            found[person_id].titles.append(title)
            if siret:
                found[person_id].sirets.add(siret)
            if rna:
                found[person_id].rnas.add(rna)
    return found


def _blocks(candidates: dict[uuid.UUID, _Candidate]) -> Iterable[list[uuid.UUID]]:
    keys: dict[tuple[str, str], list[uuid.UUID]] = defaultdict(list)
    for pid, cand in candidates.items():
        facts = cand.facts
        if facts.email:
            keys[("email", facts.email.strip().casefold())].append(pid)
        if rules._phone_key(facts.phone):
            keys[("phone", rules._phone_key(facts.phone))].append(pid)
        if facts.commune_code:
            keys[("commune", facts.commune_code)].append(pid)
        for siret in cand.sirets:
            keys[("siret", siret)].append(pid)
        for rna in cand.rnas:
            keys[("rna", rna)].append(pid)
    return (ids for ids in keys.values() if len(ids) > 1)


def _match(a: _Candidate, b: _Candidate) -> tuple[MatchReason, float] | None:
    full = rules.name_score(a.facts.first_name + " " + a.facts.last_name, b.facts.first_name + " " + b.facts.last_name)
    if full >= rules.FULL_NAME_CUTOFF:
        if a.sirets & b.sirets:
            return MatchReason.SIRET, full
        if a.rnas & b.rnas:
            return MatchReason.RNA, full
    return rules.match_person(a.facts, b.facts)


def _distinct_pairs(session: Session, structure_id: uuid.UUID) -> set[frozenset[uuid.UUID]]:
    rows = session.execute(select(PersonDistinct.person_a_id, PersonDistinct.person_b_id).where(
        PersonDistinct.owner_structure_id == structure_id, PersonDistinct.deleted_at.is_(None))).all()
    return {frozenset(r) for r in rows}


def probable_duplicates(session: Session, actor: Actor) -> list[DuplicatePair]:
    """Pairs of my structure's persons that are probably the same holder, strongest rule first."""
    candidates = _candidates(session, actor.structure_id)
    excluded = _distinct_pairs(session, actor.structure_id)
    matches: dict[frozenset[uuid.UUID], tuple[MatchReason, float]] = {}
    for ids in _blocks(candidates):
        for i, first in enumerate(ids):
            for second in ids[i + 1:]:
                pair = frozenset((first, second))
                if pair in matches or pair in excluded:
                    continue
                match = _match(candidates[first], candidates[second])
                if match is not None:
                    matches[pair] = match
    sides = _sides(session, candidates, {pid for pair in matches for pid in pair})
    order = list(MatchReason)
    result = []
    for pair, (reason, score) in matches.items():
        a, b = sorted(pair, key=lambda pid: (sides[pid].created_at, pid))
        result.append(DuplicatePair(sides[a], sides[b], reason, score))
    result.sort(key=lambda p: (order.index(p.reason), -p.score, p.a.last_name.casefold(), p.a.first_name.casefold()))
    logger.debug("%d probable duplicate pairs", len(result))
    return result


def _sides(session: Session, candidates: dict[uuid.UUID, _Candidate], ids: set[uuid.UUID]) -> dict[uuid.UUID, PersonSide]:
    sides = {}
    for pid in ids:
        person = session.get(Person, pid)
        assert person is not None
        commune = session.get(Commune, person.commune_code) if person.commune_code else None
        sides[pid] = PersonSide(pid, person.first_name, person.last_name, person.email, person.phone,
                                commune.name if commune else person.commune_code, person.birth_year,
                                person.created_at, tuple(candidates[pid].titles))
    return sides


# ---- Deciding --------------------------------------------------------------------------------------


def _owned(session: Session, actor: Actor, person_id: uuid.UUID) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.deleted_at is not None:
        raise NotFoundError("Personne introuvable (peut-être déjà fusionnée).", field="person")
    if person.owner_structure_id != actor.structure_id:
        raise RuleError("Seule la structure qui a enregistré ces personnes peut les fusionner.", field="person")
    return person


def _pair(session: Session, actor: Actor, a_id: uuid.UUID, b_id: uuid.UUID) -> tuple[Person, Person]:
    actor.require_writer()
    if a_id == b_id:
        raise RuleError("Choisissez deux personnes différentes.", field="person")
    return _owned(session, actor, a_id), _owned(session, actor, b_id)


def merge_persons(session: Session, actor: Actor, keep_id: uuid.UUID, merged_id: uuid.UUID) -> Changes:
    """Merge ``merged_id`` into ``keep_id``: memberships moved, empty fields filled, the merged one soft-deleted."""
    keep, merged = _pair(session, actor, keep_id, merged_id)
    moved = _move_memberships(session, keep, merged)
    _fill_empty(keep, merged)
    merged.deleted_at = utcnow()
    merged.merged_into_id = keep.id
    session.flush()
    logger.info("person %s merged into %s (%d memberships moved)", merged.id, keep.id, moved)
    return Changes(persons=True, projects=True)


def _move_memberships(session: Session, keep: Person, merged: Person) -> int:
    links = session.scalars(select(ProjectMember).where(ProjectMember.person_id == merged.id,
                                                        ProjectMember.deleted_at.is_(None))).all()
    now = utcnow()
    for link in links:
        target_id = member_id(link.project_id, keep.id)
        target = session.get(ProjectMember, target_id)
        if target is None:
            session.add(ProjectMember(id=target_id, project_id=link.project_id, person_id=keep.id, role=link.role,
                                      owner_structure_id=link.owner_structure_id))
        elif target.deleted_at is not None:
            target.deleted_at, target.role = None, link.role
        link.deleted_at = now
    return len(links)


def _fill_empty(keep: Person, merged: Person) -> None:
    for name in FILLED_FIELDS:
        if getattr(keep, name) in (None, "") and getattr(merged, name) not in (None, ""):
            setattr(keep, name, getattr(merged, name))
    if keep.gender is Gender.NON_RENSEIGNE and merged.gender is not Gender.NON_RENSEIGNE:
        keep.gender = merged.gender
    if keep.consent_date is None and merged.consent_date is not None:
        for name in CONSENT_FIELDS:
            setattr(keep, name, getattr(merged, name))


def mark_not_duplicate(session: Session, actor: Actor, a_id: uuid.UUID, b_id: uuid.UUID) -> Changes:
    """Record that two persons are different holders: the pair is not offered again (on any copy)."""
    _pair(session, actor, a_id, b_id)
    low, high = sorted((a_id, b_id))
    row = session.get(PersonDistinct, distinct_id(low, high))
    if row is None:
        session.add(PersonDistinct(id=distinct_id(low, high), person_a_id=low, person_b_id=high,
                                   owner_structure_id=actor.structure_id))
    else:
        row.deleted_at = None
    session.flush()
    logger.info("persons %s and %s marked as not duplicates", low, high)
    return Changes(persons=True)
