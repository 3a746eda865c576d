"""Derived tables follow every write (ORM or raw SQL), and a rebuild gives the same content."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from ess_accompagnement.domain import appointments, phases
from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus, LegalForm, Phase, ProjectStatus, Sector
from ess_accompagnement.domain.entities import Person, Project, ProjectMember, StatusChange, Structure
from ess_accompagnement.domain.projects import ProjectEdit, edit_project, set_status
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


def test_planned_appointments_are_not_activity(world: World) -> None:
    # GIVEN a project whose only appointment is planned for next month
    project = world.new_project()
    before = state(world, project)[2]
    with world.db.transaction() as session:
        appointments.add_appointment(session, world.camille, appointments.AppointmentDraft(
            project, dt.datetime(2026, 12, 20, 9, tzinfo=dt.UTC), 60, AppointmentMode.VISIO,
            status=AppointmentStatus.PLANIFIE), now=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    # THEN its last activity did not move into the future
    assert state(world, project)[2] == before


def test_project_state_copies_what_the_list_filters_on(world: World) -> None:
    # GIVEN a project in Tours, then edited to a new status and moved to Châteauroux
    project = world.new_project()
    with world.db.read() as session:
        row = session.execute(select(derived.project_state).where(derived.project_state.c.project_id == project)).one()
    assert (row.live, row.departement, row.epci_siren, row.status) == (1, "37", "243700754", "actif")
    with world.db.transaction() as session:
        edit_project(session, world.camille, project, ProjectEdit(status=ProjectStatus.EN_VEILLE, commune_code="36044"))
    with world.db.read() as session:
        row = session.execute(select(derived.project_state).where(derived.project_state.c.project_id == project)).one()
    assert (row.departement, row.epci_siren, row.status) == ("36", None, "en_veille")
    # AND what the indicators read: legal form, sector, jobs (hundredths) and the commune's population
    with world.db.transaction() as session:
        edit_project(session, world.camille, project, ProjectEdit(
            legal_form=LegalForm.SCIC, sector=Sector.ALIMENTATION, jobs_created=Decimal("2.5")))
        session.execute(text("UPDATE commune SET population = 1234 WHERE code = '36044'"))
    with world.db.read() as session:
        row = session.execute(select(derived.project_state).where(derived.project_state.c.project_id == project)).one()
    assert (row.legal_form, row.sector, row.jobs_created, row.jobs_maintained, row.commune_population) == (
        "scic", "alimentation", 250, None, 1234)
    # AND the date of its latest dated status change, kept when the project is edited again, and following a
    # change taken back
    with world.db.transaction() as session:
        set_status(session, world.camille, project, ProjectStatus.CLOS, date=dt.date(2026, 10, 1), reason="Fin.",
                   today=TODAY)
        edit_project(session, world.camille, project, ProjectEdit(title="Autre titre"))
    with world.db.read() as session:
        assert session.execute(select(derived.project_state.c.status_since)
                               .where(derived.project_state.c.project_id == project)).scalar_one() == dt.date(2026, 10, 1)
    with world.db.transaction() as session:
        session.execute(update(StatusChange).values(deleted_at=dt.datetime.now(dt.UTC)))
    with world.db.read() as session:
        assert session.execute(select(derived.project_state.c.status_since)
                               .where(derived.project_state.c.project_id == project)).scalar_one() is None
    # WHEN it is deleted THEN the list no longer shows it
    with world.db.transaction() as session:
        session.get(Project, project).deleted_at = dt.datetime.now(dt.UTC)
    with world.db.read() as session:
        assert project_ids(session, ProjectFilter()) == []


def test_search_ranks_a_bounded_set_and_always_offers_structures(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN more matching projects than the search ranks
    from ess_accompagnement.domain.queries import search as search_module

    monkeypatch.setattr(search_module, "RANKED_CANDIDATES", 3)
    for number in range(6):
        world.new_project(f"Franchise solidaire {number}")
    # WHEN searching a prefix they and a structure share
    with world.db.read() as session:
        hits = search(session, "fran")
    # THEN the structure comes first, then the most recent projects only
    assert hits[0].kind == "structure" and hits[0].title.startswith("France Active")
    assert sorted(hit.title for hit in hits[1:]) == [f"Franchise solidaire {n}" for n in (3, 4, 5)]


def test_a_project_is_not_found_by_its_structure_full_name(world: World) -> None:
    # GIVEN a project led by « URSCOP Centre-Val de Loire », short name « URSCOP »
    with world.db.transaction() as session:
        session.get(Structure, world.urscop).short_name = "URSCOP"
    world.new_project("Garage solidaire")
    # THEN « centre » does not find it through its structure, but « urscop » does
    assert project_search(world, "centre") == []
    assert len(project_search(world, "urscop")) == 1


def test_one_letter_words_are_left_out_of_searches(world: World) -> None:
    project = world.new_project("L'Atelier vélo")
    assert project_search(world, "l atel") == [project]
    with world.db.read() as session:
        assert search(session, "l") == []
