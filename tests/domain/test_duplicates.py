"""Probable duplicates of persons and projects: the rules, their order, and the database preselection."""

from __future__ import annotations

import uuid

import pytest

from ess_accompagnement.domain import duplicates, persons
from ess_accompagnement.domain.duplicates import MatchReason, PersonFacts, ProjectFacts
from tests.worlds import TODAY, World

IDS = [uuid.UUID(int=n) for n in range(10)]


@pytest.mark.parametrize(
    ("candidate", "existing", "reason"),
    [
        (PersonFacts("Ines", "Martin", email="INES.M@exemple.fr"),
         PersonFacts("Inès", "Lefèvre", email="ines.m@exemple.fr"), MatchReason.EMAIL_AND_FIRST_NAME),
        (PersonFacts("Jean Pierre", "Roy", phone="06 12 34 56 78"),
         PersonFacts("Jean-Pierre", "Roi", phone="+33612345678"), MatchReason.PHONE_AND_FIRST_NAME),
        (PersonFacts("Ines", "LEFEBVRE", commune_code="37261"),
         PersonFacts("Inès", "Lefèvre", commune_code="37261"), MatchReason.NAME_AND_COMMUNE),
        (PersonFacts("Œdipe", "Sœur", commune_code="37261"),
         PersonFacts("Oedipe", "Soeur", commune_code="37261"), MatchReason.NAME_AND_COMMUNE),
    ],
)
def test_person_rules(candidate: PersonFacts, existing: PersonFacts, reason: MatchReason) -> None:
    match = duplicates.match_person(candidate, existing)
    assert match is not None and match[0] is reason


@pytest.mark.parametrize(
    ("candidate", "existing"),
    [
        # same e-mail but another first name: a shared family address, not the same person
        (PersonFacts("Paul", "Martin", email="famille@exemple.fr"), PersonFacts("Lucie", "Martin", email="famille@exemple.fr")),
        # same name in another commune
        (PersonFacts("Inès", "Lefèvre", commune_code="36044"), PersonFacts("Inès", "Lefèvre", commune_code="37261")),
        # same commune, different names
        (PersonFacts("Karim", "Benali", commune_code="37261"), PersonFacts("Inès", "Lefèvre", commune_code="37261")),
    ],
)
def test_person_non_matches(candidate: PersonFacts, existing: PersonFacts) -> None:
    assert duplicates.match_person(candidate, existing) is None


def test_project_rules_strongest_first() -> None:
    # GIVEN a candidate project and three existing ones, each matching by a different rule
    candidate = ProjectFacts("Épicerie coopérative", "37261", siret="73282932000074", rna="W372012345")
    pool = [
        ProjectFacts("Epicerie cooperative", "37261", id=IDS[1]),
        ProjectFacts("Autre nom", None, rna="W372012345", id=IDS[2]),
        ProjectFacts("Encore un autre", None, siret="73282932000074", id=IDS[3]),
        ProjectFacts("Épicerie coopérative", "36044", id=IDS[4]),  # same title elsewhere: no match
    ]
    # WHEN they are ranked
    ranked = duplicates.rank_projects(candidate, pool)
    # THEN SIRET comes first, then RNA, then title and commune
    assert [(d.id, d.reason) for d in ranked] == [
        (IDS[3], MatchReason.SIRET), (IDS[2], MatchReason.RNA), (IDS[1], MatchReason.TITLE_AND_COMMUNE)]


def test_rank_persons_skips_the_candidate_itself() -> None:
    me = PersonFacts("Inès", "Lefèvre", commune_code="37261", id=IDS[1])
    assert duplicates.rank_persons(me, [me]) == []


def test_person_duplicates_in_the_database(world: World) -> None:
    # GIVEN a holder recorded with an e-mail, through a project
    world.new_project()
    with world.db.transaction() as session:
        persons.create_person(session, world.camille, persons.PersonDraft(
            "Hélène", "Dupré", email="helene.dupre@exemple.fr", phone="02 54 12 34 56"), today=TODAY)
    with world.db.read() as session:
        # WHEN a new holder with the same name in the same commune, or the same phone, is checked
        by_name = duplicates.person_duplicates(session, PersonFacts("Ines", "LEFEVRE", commune_code="37261"))
        by_phone = duplicates.person_duplicates(session, PersonFacts("Helene", "Martin", phone="0254123456"))
        by_mail = duplicates.person_duplicates(session, PersonFacts("Hélène", "X", email="Helene.Dupre@exemple.fr"))
        nobody = duplicates.person_duplicates(session, PersonFacts("Karim", "Benali", commune_code="37261"))
    # THEN each finds the existing person, by the right rule
    assert [(d.label, d.reason) for d in by_name] == [("Inès Lefèvre", MatchReason.NAME_AND_COMMUNE)]
    assert [d.reason for d in by_phone] == [MatchReason.PHONE_AND_FIRST_NAME]
    assert [d.reason for d in by_mail] == [MatchReason.EMAIL_AND_FIRST_NAME]
    assert nobody == []


def test_project_duplicates_in_the_database(world: World) -> None:
    project_id = world.new_project("Épicerie coopérative", siret="73282932000074")
    with world.db.read() as session:
        by_title = duplicates.project_duplicates(session, ProjectFacts("epicerie cooperative", "37261"))
        by_siret = duplicates.project_duplicates(session, ProjectFacts("Nom différent", siret="73282932000074"))
    assert [(d.id, d.reason) for d in by_title] == [(project_id, MatchReason.TITLE_AND_COMMUNE)]
    assert [d.reason for d in by_siret] == [MatchReason.SIRET]
