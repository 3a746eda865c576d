"""The project list's filters and sorts, served from ``project_state``."""

from __future__ import annotations

import datetime as dt

from ess_accompagnement.domain import phases
from ess_accompagnement.domain.codes import Phase, ProjectStatus
from ess_accompagnement.domain.projects import ProjectEdit, edit_project
from ess_accompagnement.domain.queries.projects import ProjectFilter, ProjectSort, count_projects, project_ids
from tests.worlds import TODAY, World


def test_phase_and_status_sort_in_lifecycle_order(world: World) -> None:
    # GIVEN three projects: « Alpha » in consolidation, « Bravo » in émergence, « Charlie » in création
    alpha, bravo, charlie = (world.new_project(title) for title in ("Alpha", "Bravo", "Charlie"))
    with world.db.transaction() as session:
        phases.change_phase(session, world.camille, charlie, Phase.CREATION, date=dt.date(2025, 3, 1), reason=None,
                            today=TODAY)
        phases.change_phase(session, world.camille, alpha, Phase.CREATION, date=dt.date(2025, 3, 1), reason=None,
                            today=TODAY)
        phases.change_phase(session, world.camille, alpha, Phase.CONSOLIDATION, date=dt.date(2025, 4, 1),
                            reason=None, today=TODAY)
        edit_project(session, world.camille, bravo, ProjectEdit(status=ProjectStatus.ABANDONNE))
    with world.db.read() as session:
        # THEN the phase sort follows the life of a project, not the alphabet (« consolidation » < « creation »)
        assert project_ids(session, ProjectFilter(), sort=ProjectSort.PHASE) == [bravo, charlie, alpha]
        assert project_ids(session, ProjectFilter(), sort=ProjectSort.PHASE, descending=True) == [alpha, charlie, bravo]
        # AND the status sort puts « actif » before « abandonné »
        assert project_ids(session, ProjectFilter(), sort=ProjectSort.STATUS)[-1] == bravo


def test_filters_combine(world: World) -> None:
    # GIVEN a project in Tours (Tours Métropole) and one in Châteauroux, led by different advisors
    tours = world.new_project("Tiers-lieu")
    chateauroux = world.new_project("Recyclerie", actor=world.noe)
    with world.db.transaction() as session:
        edit_project(session, world.noe, chateauroux, ProjectEdit(commune_code="36044"))
    with world.db.read() as session:
        def ids(**criteria: object) -> list:
            return project_ids(session, ProjectFilter(**criteria))  # type: ignore[arg-type]

        assert ids(departement="37") == [tours]
        assert ids(epci_siren="243700754", advisor_id=world.camille.advisor_id) == [tours]
        assert ids(structure_id=world.alter_incub) == [chateauroux]
        assert ids(departement="36", phase=Phase.EMERGENCE, status=ProjectStatus.ACTIF) == [chateauroux]
        assert ids(departement="36", search="tiers") == []
        assert count_projects(session, ProjectFilter(phase=Phase.EMERGENCE)) == 2
