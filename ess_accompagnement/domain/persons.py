"""Use cases on persons (project holders): create, edit, record their consent; and the form's values.

A person belongs to the structure that recorded it (``owner_structure_id``): only that structure
edits it. Consent is recorded as a whole (date, scope, source) or not at all, never in the future.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes, Created
from ess_accompagnement.domain.codes import ConsentScope, ConsentSource, Gender, Situation
from ess_accompagnement.domain.entities import Commune, Person
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError
from ess_accompagnement.domain.text import sort_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Consent:
    """What the person agreed to, when, and how it was collected."""

    date: dt.date
    scope: ConsentScope
    source: ConsentSource


@dataclass(frozen=True)
class PersonDraft:
    """Every field of a person, as the form shows them (``None``: not known)."""

    first_name: str
    last_name: str
    gender: Gender = Gender.NON_RENSEIGNE
    birth_year: int | None = None
    email: str | None = None
    phone: str | None = None
    commune_code: str | None = None
    situation: Situation | None = None
    consent: Consent | None = None


def person_values(session: Session, person_id: uuid.UUID) -> PersonDraft:
    """The stored values of a person, to fill the form."""
    person = _load(session, person_id)
    consent = None
    if person.consent_date and person.consent_scope and person.consent_source:
        consent = Consent(person.consent_date, person.consent_scope, person.consent_source)
    phone = validation.format_phone(person.phone) if person.phone else None
    return PersonDraft(person.first_name, person.last_name, person.gender, person.birth_year, person.email, phone,
                       person.commune_code, person.situation, consent)


def create_person(session: Session, actor: Actor, draft: PersonDraft, *, today: dt.date) -> Created:
    """Record a person (not yet linked to a project) for the actor's structure."""
    actor.require_writer()
    person = Person(owner_structure_id=actor.structure_id)
    _apply(session, person, draft, today)
    session.add(person)
    session.flush()
    logger.debug("person %s created", person.id)
    return Created(person.id, Changes(persons=True))


def edit_person(session: Session, actor: Actor, person_id: uuid.UUID, draft: PersonDraft, *, today: dt.date) \
        -> Changes:
    """Replace the fields of a person the actor's structure recorded."""
    actor.require_writer()
    person = _owned(session, actor, person_id)
    _apply(session, person, draft, today)
    session.flush()
    return Changes(persons=True, projects=True)


def record_consent(session: Session, actor: Actor, person_id: uuid.UUID, consent: Consent, *, today: dt.date) \
        -> Changes:
    """Record (or renew) the person's consent."""
    actor.require_writer()
    person = _owned(session, actor, person_id)
    _check_consent(consent, today)
    person.consent_date, person.consent_scope, person.consent_source = consent.date, consent.scope, consent.source
    session.flush()
    return Changes(persons=True)


def _load(session: Session, person_id: uuid.UUID) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.deleted_at is not None:
        raise NotFoundError("Personne introuvable.", field="person")
    return person


def _owned(session: Session, actor: Actor, person_id: uuid.UUID) -> Person:
    person = _load(session, person_id)
    if person.owner_structure_id != actor.structure_id:
        raise RuleError("Seule la structure qui a enregistré cette personne peut la modifier.", field="person")
    return person


def _apply(session: Session, person: Person, draft: PersonDraft, today: dt.date) -> None:
    """Validate ``draft`` and write it into ``person`` (nothing is written when a field is refused)."""
    first = validation.required_text(draft.first_name, "first_name", "Prénom", max_length=100)
    last = validation.required_text(draft.last_name, "last_name", "Nom", max_length=100)
    email = validation.email(draft.email, "email") if (draft.email or "").strip() else None
    phone = validation.phone(draft.phone, "phone") if (draft.phone or "").strip() else None
    year = validation.birth_year(draft.birth_year, "birth_year", today=today) if draft.birth_year else None
    if draft.commune_code is not None and session.get(Commune, draft.commune_code) is None:
        raise NotFoundError(f"Commune inconnue (code INSEE {draft.commune_code}).", field="commune")
    if draft.consent is not None:
        _check_consent(draft.consent, today)
    person.first_name, person.last_name, person.sort_key = first, last, sort_key(f"{last} {first}")
    person.gender, person.birth_year, person.email, person.phone = draft.gender, year, email, phone
    person.commune_code, person.situation = draft.commune_code, draft.situation
    consent = draft.consent
    person.consent_date = consent.date if consent else None
    person.consent_scope = consent.scope if consent else None
    person.consent_source = consent.source if consent else None


def _check_consent(consent: Consent, today: dt.date) -> None:
    if consent.date > today:
        raise ValidationError("Date du consentement : elle ne peut pas être dans le futur.", field="consent_date")
