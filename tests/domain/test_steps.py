"""Marking a next step done, and reopening it: who may, which dates, and what the home screen then shows."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from ess_accompagnement.domain.appointments import AppointmentDraft, NextStepDraft, add_appointment
from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.entities import NextStep
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError
from ess_accompagnement.domain.queries.home import home_data
from ess_accompagnement.domain.steps import STEP_CHANGES, mark_step_done, reopen_step
from ess_accompagnement.domain.validation import PARIS
from tests.worlds import TODAY, World

MET_ON = TODAY - dt.timedelta(days=20)


def overdue_step(world: World) -> uuid.UUID:
    """A step set by Camille (URSCOP) at an appointment 20 days ago, due 5 days ago."""
    project = world.new_project()
    draft = AppointmentDraft(project_id=project, starts_at=dt.datetime.combine(MET_ON, dt.time(10), tzinfo=PARIS),
                             duration_minutes=60, mode=AppointmentMode.TELEPHONE, status=AppointmentStatus.REALISE,
                             next_steps=(NextStepDraft("Envoyer le budget", TODAY - dt.timedelta(days=5)),))
    with world.db.transaction() as session:
        add_appointment(session, world.camille, draft, now=dt.datetime.combine(TODAY, dt.time(8), tzinfo=PARIS))
        return session.scalars(select(NextStep.id).where(NextStep.project_id == project)).one()


def done_date(world: World, step: uuid.UUID) -> dt.date | None:
    with world.db.read() as session:
        return session.get(NextStep, step).done_date


def overdue_texts(world: World) -> list[str]:
    with world.db.read() as session:
        data = home_data(session, world.camille.advisor_id, world.camille.structure_id, TODAY)
    return [row.text for row in data.overdue_steps.rows]


def test_a_step_marked_done_leaves_the_overdue_list_and_can_be_reopened(world: World) -> None:
    step = overdue_step(world)
    assert overdue_texts(world) == ["Envoyer le budget"]
    # WHEN Camille marks it done yesterday
    with world.db.transaction() as session:
        changes = mark_step_done(session, world.camille, step, done_on=TODAY - dt.timedelta(days=1), today=TODAY)
    # THEN it is dated and no longer waits
    assert changes == STEP_CHANGES and changes.projects and changes.appointments
    assert done_date(world, step) == TODAY - dt.timedelta(days=1)
    assert overdue_texts(world) == []
    # WHEN it was a mistake THEN reopening makes it wait again
    with world.db.transaction() as session:
        reopen_step(session, world.camille, step)
    assert done_date(world, step) is None
    assert overdue_texts(world) == ["Envoyer le budget"]


@pytest.mark.parametrize(("done_on", "message"), [
    (TODAY + dt.timedelta(days=1), "est dans le futur"),
    (MET_ON - dt.timedelta(days=1), "précède le rendez-vous du"),
])
def test_the_done_date_is_neither_in_the_future_nor_before_the_appointment(
        world: World, done_on: dt.date, message: str) -> None:
    step = overdue_step(world)
    with pytest.raises(ValidationError, match=message) as refused, world.db.transaction() as session:
        mark_step_done(session, world.camille, step, done_on=done_on, today=TODAY)
    assert refused.value.field == "done_on"
    assert done_date(world, step) is None


def test_the_day_of_the_appointment_itself_is_accepted(world: World) -> None:
    step = overdue_step(world)
    with world.db.transaction() as session:
        mark_step_done(session, world.camille, step, done_on=MET_ON, today=TODAY)
    assert done_date(world, step) == MET_ON


def test_only_the_structure_that_set_the_step_marks_it_and_only_once(world: World) -> None:
    step = overdue_step(world)
    for actor, error, message in ((world.lea, RuleError, "Seule la structure qui a fixé cette étape"),
                                  (world.reader, RuleError, "lecture seule")):
        with pytest.raises(error, match=message), world.db.transaction() as session:
            mark_step_done(session, actor, step, done_on=TODAY, today=TODAY)
    with world.db.transaction() as session:
        mark_step_done(session, world.camille, step, done_on=TODAY, today=TODAY)
    with pytest.raises(RuleError, match="déjà marquée comme faite, le 23/11/2026"), world.db.transaction() as session:
        mark_step_done(session, world.camille, step, done_on=TODAY, today=TODAY)
    assert done_date(world, step) == TODAY


def test_reopening_a_waiting_step_or_an_unknown_one_is_refused(world: World) -> None:
    step = overdue_step(world)
    with pytest.raises(RuleError, match="n'est pas marquée comme faite"), world.db.transaction() as session:
        reopen_step(session, world.camille, step)
    with pytest.raises(NotFoundError, match="Étape introuvable"), world.db.transaction() as session:
        mark_step_done(session, world.camille, uuid.uuid4(), done_on=TODAY, today=TODAY)
