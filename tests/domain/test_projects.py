"""Project use cases added for the desktop's forms: status changes, extra editable fields, form values."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ess_accompagnement.domain import projects
from ess_accompagnement.domain.codes import Prescripteur, ProjectStatus
from ess_accompagnement.domain.entities import Note, Project, StatusChange
from ess_accompagnement.domain.errors import RuleError, UserFacingError
from tests.worlds import TODAY, World


def test_close_a_project_with_a_reason(world: World) -> None:
    # GIVEN an active project
    project_id = world.new_project()
    # WHEN it is closed as abandoned, with a reason
    with world.db.transaction() as session:
        changes = projects.set_status(session, world.camille, project_id, ProjectStatus.ABANDONNE,
                                      date=dt.date(2026, 11, 20), reason="Le porteur déménage.", today=TODAY)
    # THEN the status changed, and a note dated that day traces it
    with world.db.read() as session:
        project = session.get(Project, project_id)
        note = session.scalars(select(Note)).one()
    assert project.status is ProjectStatus.ABANDONNE and changes.notes
    assert (note.written_on, note.text) == (dt.date(2026, 11, 20), "Statut : actif → abandonné. Le porteur déménage.")
    # AND the status history keeps the change, dated, with the status before it
    with world.db.read() as session:
        change = session.scalars(select(StatusChange)).one()
    assert (change.project_id, change.previous_status, change.status, change.effective_date, change.reason) == (
        project_id, ProjectStatus.ACTIF, ProjectStatus.ABANDONNE, dt.date(2026, 11, 20), "Le porteur déménage.")
    assert change.owner_structure_id == world.urscop


def test_a_status_change_is_never_dated_before_the_previous_one(world: World) -> None:
    project_id = world.new_project()
    with world.db.transaction() as session:
        projects.set_status(session, world.camille, project_id, ProjectStatus.EN_VEILLE, date=dt.date(2026, 10, 1),
                            reason=None, today=TODAY)
    with pytest.raises(RuleError, match="précède le changement précédent, du 01/10/2026") as caught, \
            world.db.transaction() as session:
        projects.set_status(session, world.camille, project_id, ProjectStatus.ACTIF, date=dt.date(2026, 9, 30),
                            reason=None, today=TODAY)
    assert caught.value.field == "date"
    with world.db.transaction() as session:  # the same day is fine (reopened the day it was put on hold)
        projects.set_status(session, world.camille, project_id, ProjectStatus.ACTIF, date=dt.date(2026, 10, 1),
                            reason=None, today=TODAY)
    with world.db.read() as session:
        history = session.execute(select(StatusChange.previous_status, StatusChange.status)
                                  .order_by(StatusChange.created_at, StatusChange.id)).all()
    assert history == [(ProjectStatus.ACTIF, ProjectStatus.EN_VEILLE), (ProjectStatus.EN_VEILLE, ProjectStatus.ACTIF)]


@pytest.mark.parametrize(
    ("status", "date", "reason", "field"),
    [
        (ProjectStatus.ACTIF, TODAY, None, "status"),
        (ProjectStatus.EN_VEILLE, TODAY + dt.timedelta(days=1), None, "date"),
        (ProjectStatus.ABANDONNE, TODAY, "  ", "reason"),
    ],
)
def test_status_refusals(world: World, status: ProjectStatus, date: dt.date, reason: str | None, field: str) -> None:
    project_id = world.new_project()
    with pytest.raises(UserFacingError) as caught, world.db.transaction() as session:
        projects.set_status(session, world.camille, project_id, status, date=date, reason=reason, today=TODAY)
    assert caught.value.field == field
    with pytest.raises(RuleError, match="structure qui mène"), world.db.transaction() as session:
        projects.set_status(session, world.lea, project_id, ProjectStatus.CLOS, date=TODAY, reason=None, today=TODAY)


def test_edit_new_fields_and_read_them_back(world: World) -> None:
    project_id = world.new_project(filiere="Vrac")
    with world.db.read() as session:
        advisors = projects.structure_advisors(session, world.urscop)
    edit = projects.ProjectEdit(filiere="Épicerie", prescripteur=Prescripteur.MISSION_LOCALE, commune_code="",
                                lead_advisor_id=advisors[0].id)
    with world.db.transaction() as session:
        projects.edit_project(session, world.camille, project_id, edit)
    with world.db.read() as session:
        values = projects.project_values(session, project_id)
    assert (values.filiere, values.prescripteur, values.commune_code, values.lead_advisor_id) == (
        "Épicerie", Prescripteur.MISSION_LOCALE, None, advisors[0].id)
    assert [a.name for a in advisors] == ["Camille Martin"]


def test_lead_advisor_must_belong_to_the_lead_structure(world: World) -> None:
    project_id = world.new_project()
    edit = projects.ProjectEdit(lead_advisor_id=world.lea.advisor_id)
    with pytest.raises(RuleError, match="conseiller référent") as caught, world.db.transaction() as session:
        projects.edit_project(session, world.camille, project_id, edit)
    assert caught.value.field == "advisor"
