"""Probable duplicates of persons and projects, found by the rules the advisors agreed on.

Used by the holder picker of the desktop (before creating a person) and, later, by the sync to flag
rows two copies created for the same reality. The rules, strongest first:

- projects: same SIRET, then same RNA, then a close title in the same commune;
- persons: same e-mail and a close first name, then same phone and a close first name, then a close
  full name in the same commune.

Names are compared folded (accents, case, ligatures and hyphens ignored) with rapidfuzz, so « Inès
Lefèvre » matches « Ines LEFEVRE » and « Jean-Pierre » matches « Jean Pierre ». The matching
functions are pure; ``person_duplicates`` / ``project_duplicates`` preselect candidates in SQL
(indexed columns and a sort-key prefix), then apply them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.entities import Person, Project
from ess_accompagnement.domain.text import tokens

FIRST_NAME_CUTOFF = 85.0  # « ines » / « inès » → 100 folded; « jean pierre » / « jean-pierre » → 100
FULL_NAME_CUTOFF = 88.0  # « lefevre ines » / « lefebvre ines » → 96
TITLE_CUTOFF = 85.0
PREFIX_LENGTH = 3
MAX_MATCHES = 5
_DIGITS = re.compile(r"\D")


class MatchReason(StrEnum):
    """Why two records are probably the same (strongest first); ``ui/labels`` words them."""

    SIRET = "siret"
    RNA = "rna"
    EMAIL_AND_FIRST_NAME = "email_first_name"
    PHONE_AND_FIRST_NAME = "phone_first_name"
    NAME_AND_COMMUNE = "name_commune"
    TITLE_AND_COMMUNE = "title_commune"


@dataclass(frozen=True)
class PersonFacts:
    """What is compared of a person (existing or about to be created)."""

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    commune_code: str | None = None
    id: uuid.UUID | None = None


@dataclass(frozen=True)
class ProjectFacts:
    title: str
    commune_code: str | None = None
    siret: str | None = None
    rna: str | None = None
    id: uuid.UUID | None = None


@dataclass(frozen=True)
class Duplicate:
    """An existing record that is probably the same as the candidate."""

    id: uuid.UUID
    reason: MatchReason
    score: float  # 100 for identifiers; the name similarity otherwise
    label: str  # « Prénom Nom » or the project's title, for the warning


# ---- Pure rules ---------------------------------------------------------------------------------


def _folded(text: str | None) -> str:
    return " ".join(tokens(text or ""))


def _same_email(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.strip().casefold() == b.strip().casefold()  # type: ignore[union-attr]


def _phone_key(phone: str | None) -> str:
    """The last nine digits: « 06 12 34 56 78 » and « +33612345678 » compare equal."""
    digits = _DIGITS.sub("", phone or "")
    return digits[-9:] if len(digits) >= 9 else ""


def _same_phone(a: str | None, b: str | None) -> bool:
    key = _phone_key(a)
    return bool(key) and key == _phone_key(b)


def name_score(a: str, b: str) -> float:
    """Similarity (0–100) of two names once folded, word order ignored."""
    return float(fuzz.token_sort_ratio(_folded(a), _folded(b)))


def match_person(candidate: PersonFacts, existing: PersonFacts) -> tuple[MatchReason, float] | None:
    """The strongest rule by which ``existing`` is probably ``candidate``, with its score, or None."""
    first = name_score(candidate.first_name, existing.first_name)
    if first >= FIRST_NAME_CUTOFF and _same_email(candidate.email, existing.email):
        return MatchReason.EMAIL_AND_FIRST_NAME, first
    if first >= FIRST_NAME_CUTOFF and _same_phone(candidate.phone, existing.phone):
        return MatchReason.PHONE_AND_FIRST_NAME, first
    if candidate.commune_code and candidate.commune_code == existing.commune_code:
        full = name_score(f"{candidate.first_name} {candidate.last_name}", f"{existing.first_name} {existing.last_name}")
        if full >= FULL_NAME_CUTOFF:
            return MatchReason.NAME_AND_COMMUNE, full
    return None


def match_project(candidate: ProjectFacts, existing: ProjectFacts) -> tuple[MatchReason, float] | None:
    """The strongest rule by which ``existing`` is probably ``candidate``, with its score, or None."""
    if candidate.siret and candidate.siret == existing.siret:
        return MatchReason.SIRET, 100.0
    if candidate.rna and candidate.rna == existing.rna:
        return MatchReason.RNA, 100.0
    if candidate.commune_code and candidate.commune_code == existing.commune_code:
        score = name_score(candidate.title, existing.title)
        if score >= TITLE_CUTOFF:
            return MatchReason.TITLE_AND_COMMUNE, score
    return None


def rank_persons(candidate: PersonFacts, pool: Iterable[PersonFacts]) -> list[Duplicate]:
    """The persons of ``pool`` probably equal to ``candidate``: strongest rule, then best score, first."""
    found = []
    for existing in pool:
        if existing.id is None or existing.id == candidate.id:
            continue
        match = match_person(candidate, existing)
        if match is not None:
            found.append(Duplicate(existing.id, match[0], match[1], f"{existing.first_name} {existing.last_name}"))
    return _ordered(found)


def rank_projects(candidate: ProjectFacts, pool: Iterable[ProjectFacts]) -> list[Duplicate]:
    found = []
    for existing in pool:
        if existing.id is None or existing.id == candidate.id:
            continue
        match = match_project(candidate, existing)
        if match is not None:
            found.append(Duplicate(existing.id, match[0], match[1], existing.title))
    return _ordered(found)


def _ordered(found: list[Duplicate]) -> list[Duplicate]:
    order = list(MatchReason)
    return sorted(found, key=lambda d: (order.index(d.reason), -d.score, d.label))[:MAX_MATCHES]


# ---- Database preselection ----------------------------------------------------------------------


def _prefix_range(column: object, text: str) -> object:
    prefix = _folded(text)[:PREFIX_LENGTH]
    return column.between(prefix, prefix + "\uffff")  # type: ignore[attr-defined]


def person_duplicates(session: Session, candidate: PersonFacts) -> list[Duplicate]:
    """Existing (not deleted) persons probably equal to ``candidate``."""
    filters = [_prefix_range(Person.sort_key, candidate.last_name)]
    if candidate.email:
        filters.append(func.lower(Person.email) == candidate.email.strip().casefold())
    if candidate.phone and _phone_key(candidate.phone):
        filters.append(Person.phone.like(f"%{_phone_key(candidate.phone)}"))
    rows = session.execute(
        select(Person.id, Person.first_name, Person.last_name, Person.email, Person.phone, Person.commune_code)
        .where(Person.deleted_at.is_(None), or_(*filters))  # type: ignore[arg-type]
    ).all()
    pool = [PersonFacts(first, last, email, phone, commune, id_) for id_, first, last, email, phone, commune in rows]
    return rank_persons(candidate, pool)


def project_duplicates(session: Session, candidate: ProjectFacts) -> list[Duplicate]:
    """Existing (not deleted) projects probably equal to ``candidate``."""
    filters = [_prefix_range(Project.sort_key, candidate.title)]
    if candidate.siret:
        filters.append(Project.siret == candidate.siret)
    if candidate.rna:
        filters.append(Project.rna == candidate.rna)
    rows = session.execute(
        select(Project.id, Project.title, Project.commune_code, Project.siret, Project.rna)
        .where(Project.deleted_at.is_(None), or_(*filters))  # type: ignore[arg-type]
    ).all()
    pool = [ProjectFacts(title, commune, siret, rna, id_) for id_, title, commune, siret, rna in rows]
    return rank_projects(candidate, pool)
