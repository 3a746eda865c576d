"""Derived tables follow every write (ORM or raw SQL), and a rebuild gives the same content."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text, update

from ess_accompagnement.domain import appointments, phases
from ess_accompagnement.domain.codes import AppointmentMode, Phase
from ess_accompagnement.domain.entities import Person, Project, ProjectMember, Structure
from ess_accompagnement.domain.queries.projects import ProjectFilter, project_ids
from ess_accompagnement.domain.queries.search import search
from ess_accompagnement.store import derived
from tests.worlds import TODAY, World


def found(world: World, words: str) -> set[str]:
    with world.db.read() as session:
        return {hit.title for hit in search(session, words)}


def project_search(world: World, words: str) -> list:
    with world.db.read() as session:
        return project_ids(session, ProjectFilter(search=words))


def test_accents_case_and_ligatures_are_folded(world: World) -> None:
    # GIVEN a project whose title has accents and the œ ligature
    world.new_project("Œuvre commune : épicerie « Cœur de Loire »")
    # THEN searches without accents, in capitals, or with « oe » find it, also as prefixes
    for words in ("oeuvre", "OEUV", "coeur loire", "EPICERIE", "épi", "Cœur"):
        assert "Œuvre commune : épicerie « Cœur de Loire »" in found(world, words), words


def test_a_project_is_found_by_holder_commune_epci_or_structure(world: World) -> None:
    project = world.new_project("Garage solidaire")
    for words in ("lefevre", "ines garage", "tours", "37000", "metropole val", "urscop"):
        assert project_search(world, words) == [project], words
    assert project_search(world, "chateauroux") == []


def test_index_follows_raw_sql_edits(world: World) -> None:
    # GIVEN a project; WHEN its holder is renamed and the structure renamed with raw SQL
    project = world.new_project("Recyclerie")
    with world.db.transaction() as session:
        session.execute(update(Person).values(last_name="Moreau"))
        session.execute(text("UPDATE structure SET short_name = 'SCOP-CVL' WHERE catalogue_key = 'urscop'"))
    # THEN the search sees the new names and not the old
    assert project_search(world, "moreau") == [project]
    assert project_search(world, "lefevre") == []
    assert project_search(world, "scop cvl") == [project]


def test_index_follows_members_and_soft_deletes(world: World) -> None:
    project = world.new_project("Café associatif")
    with world.db.transaction() as session:
        member = session.execute(select(ProjectMember)).scalar_one()
        member.deleted_at = dt.datetime.now(dt.UTC)
    assert project_search(world, "lefevre") == []
    with world.db.transaction() as session:
        session.get(Project, project).deleted_at = dt.datetime.now(dt.UTC)
    assert project_search(world, "cafe") == []
    assert "Café associatif" not in found(world, "cafe")


def state(world: World, project: object) -> tuple:
    with world.db.read() as session:
        return tuple(session.execute(
            select(derived.project_state.c.phase, derived.project_state.c.phase_since,
                   derived.project_state.c.last_activity).where(derived.project_state.c.project_id == project)
        ).one())


def test_project_state_follows_phase_changes_and_activity(world: World) -> None:
    project = world.new_project(phase_date=dt.date(2025, 1, 6))
    assert state(world, project)[:2] == ("emergence", dt.date(2025, 1, 6))
    with world.db.transaction() as session:
        phases.change_phase(session, world.camille, project, Phase.CREATION, date=dt.date(2025, 9, 1), reason=None,
                            today=TODAY)
        appointments.add_appointment(session, world.camille, appointments.AppointmentDraft(
            project, dt.datetime(2026, 10, 2, 9, tzinfo=dt.UTC), 60, AppointmentMode.VISIO),
            now=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    phase, since, last_activity = state(world, project)
    assert (phase, since) == ("creation", dt.date(2025, 9, 1))
    assert last_activity >= dt.date(2026, 10, 2)


def test_rebuild_gives_what_the_triggers_gave(world: World) -> None:
    world.new_project("Ressourcerie")
    world.new_project("Épicerie solidaire", phase_date=dt.date(2024, 5, 2))

    def snapshot() -> tuple:
        with world.db.read() as session:
            fts = session.execute(text(
                "SELECT k.kind, k.ref_id, f.title, f.people, f.place, f.org FROM search_fts f "
                "JOIN search_key k ON k.rowid = f.rowid ORDER BY k.kind, k.ref_id")).all()
            states = session.execute(text("SELECT * FROM project_state ORDER BY project_id")).all()
        return fts, states

    before = snapshot()
    with world.db.engine.begin() as connection:
        derived.rebuild(connection)
    assert snapshot() == before


def test_structures_are_found_by_former_names(world: World) -> None:
    with world.db.transaction() as session:
        structure = session.get(Structure, world.france_active)
        structure.former_names = ["Centre Actif"]
    assert "France Active Centre-Val de Loire" in found(world, "centre actif")
