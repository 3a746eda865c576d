"""Use cases on persons: create, edit, consent; what they refuse."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ess_accompagnement.domain import persons
from ess_accompagnement.domain.codes import ConsentScope, ConsentSource, Gender, Situation
from ess_accompagnement.domain.entities import Person
from ess_accompagnement.domain.errors import RuleError, UserFacingError
from tests.worlds import TODAY, World

CONSENT = persons.Consent(dt.date(2026, 11, 2), ConsentScope.PARTENAIRES, ConsentSource.ECRIT)


def _create(world: World, draft: persons.PersonDraft) -> object:
    with world.db.transaction() as session:
        return persons.create_person(session, world.camille, draft, today=TODAY).id


def test_create_then_edit_a_person(world: World) -> None:
    # GIVEN a person created with few details
    person_id = _create(world, persons.PersonDraft(" Hélène ", "Dupré"))
    # WHEN the form saves every field
    draft = persons.PersonDraft("Hélène", "Dupré-Martin", Gender.FEMME, 1984, "helene@exemple.fr", "02 54 12 34 56",
                                "37261", Situation.DEMANDEUR_EMPLOI, CONSENT)
    with world.db.transaction() as session:
        persons.edit_person(session, world.camille, person_id, draft, today=TODAY)
    # THEN they are stored normalised, and the form reads them back
    with world.db.read() as session:
        person = session.get(Person, person_id)
        values = persons.person_values(session, person_id)
    assert (person.last_name, person.phone, person.sort_key, person.consent_scope) == (
        "Dupré-Martin", "+33254123456", "dupre-martin helene", ConsentScope.PARTENAIRES)
    assert values == persons.PersonDraft("Hélène", "Dupré-Martin", Gender.FEMME, 1984, "helene@exemple.fr",
                                         "02 54 12 34 56", "37261", Situation.DEMANDEUR_EMPLOI, CONSENT)


def test_record_consent(world: World) -> None:
    person_id = _create(world, persons.PersonDraft("Karim", "Benali"))
    with world.db.transaction() as session:
        persons.record_consent(session, world.camille, person_id, CONSENT, today=TODAY)
    with world.db.read() as session:
        assert persons.person_values(session, person_id).consent == CONSENT
    future = persons.Consent(TODAY + dt.timedelta(days=1), ConsentScope.INTERNE, ConsentSource.ORAL)
    with pytest.raises(UserFacingError, match="futur") as caught, world.db.transaction() as session:
        persons.record_consent(session, world.camille, person_id, future, today=TODAY)
    assert caught.value.field == "consent_date"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"first_name": " "}, "first_name"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"birth_year": 1800}, "birth_year"),
        ({"commune_code": "99999"}, "commune"),
    ],
)
def test_refusals_name_their_field_and_write_nothing(world: World, fields: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"first_name": "Lou", "last_name": "Garnier", **fields}
    with pytest.raises(UserFacingError) as caught, world.db.transaction() as session:
        persons.create_person(session, world.camille, persons.PersonDraft(**values), today=TODAY)  # type: ignore[arg-type]
    assert caught.value.field == field
    with world.db.read() as session:
        assert session.scalars(select(Person)).all() == []


def test_only_the_recording_structure_edits_and_readers_never(world: World) -> None:
    person_id = _create(world, persons.PersonDraft("Lou", "Garnier"))
    with pytest.raises(RuleError, match="structure qui a enregistré"), world.db.transaction() as session:
        persons.edit_person(session, world.lea, person_id, persons.PersonDraft("Lou", "G"), today=TODAY)
    with pytest.raises(RuleError, match="lecture seule"), world.db.transaction() as session:
        persons.create_person(session, world.reader, persons.PersonDraft("Lou", "G"), today=TODAY)
