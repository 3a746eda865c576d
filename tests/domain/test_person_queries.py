"""The persons list's query service: ids for a filter and a sort, rows for ids, a person's projects."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from ess_accompagnement.domain.entities import Person
from ess_accompagnement.domain.projects import HolderDraft, ProjectDraft, create_project
from ess_accompagnement.domain.queries.persons import (
    PersonFilter,
    PersonSort,
    count_persons,
    person_ids,
    person_projects,
    person_rows,
)
from tests.worlds import TODAY, World


def person_named(world: World, last_name: str) -> uuid.UUID:
    with world.db.read() as session:
        return session.execute(select(Person.id).where(Person.last_name == last_name)).scalar_one()


def new_project(world: World, title: str, holder: HolderDraft) -> None:
    draft = ProjectDraft(title=title, lead_structure_id=world.camille.structure_id, commune_code="37261",
                         holders=(holder,), phase_date=dt.date(2025, 1, 6))
    with world.db.transaction() as session:
        create_project(session, world.camille, draft, today=TODAY)


def setup_people(world: World) -> dict[str, uuid.UUID]:
    new_project(world, "Épicerie", HolderDraft("Inès", "Lefèvre", email="ines@exemple.fr", phone="06 12 34 56 78"))
    new_project(world, "Garage solidaire", HolderDraft("Zoé", "Aubry"))
    return {name: person_named(world, name) for name in ("Lefèvre", "Aubry")}


def test_ids_sorted_by_name_and_filtered_accent_insensitively(world: World) -> None:
    people = setup_people(world)
    with world.db.read() as session:
        assert person_ids(session, PersonFilter()) == [people["Aubry"], people["Lefèvre"]]
        assert person_ids(session, PersonFilter(), descending=True) == [people["Lefèvre"], people["Aubry"]]
        assert person_ids(session, PersonFilter(search="lefevre")) == [people["Lefèvre"]]
        assert count_persons(session, PersonFilter(search="ines")) == 1
        assert person_ids(session, PersonFilter(person_id=people["Aubry"])) == [people["Aubry"]]


def test_rows_carry_contact_projects_and_consent(world: World) -> None:
    people = setup_people(world)
    with world.db.read() as session:
        rows = person_rows(session, [people["Lefèvre"], people["Aubry"]])
        by_projects = person_ids(session, PersonFilter(), sort=PersonSort.PROJECTS)
    ines = rows[0]
    assert (ines.name, ines.email, ines.phone, ines.commune, ines.projects) == \
        ("Inès Lefèvre", "ines@exemple.fr", "+33612345678", "Tours", 1)
    assert ines.consent is False
    assert len(by_projects) == 2


def test_person_projects_lists_the_live_projects(world: World) -> None:
    people = setup_people(world)
    with world.db.read() as session:
        projects = person_projects(session, people["Aubry"])
    assert [p.title for p in projects] == ["Garage solidaire"]
