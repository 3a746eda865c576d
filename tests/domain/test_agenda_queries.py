"""An advisor's week: appointments in Paris time, permanence sessions expanded from their rule, holidays."""

from __future__ import annotations

import datetime as dt

from ess_accompagnement.domain.appointments import AppointmentDraft, add_appointment
from ess_accompagnement.domain.codes import AppointmentMode
from ess_accompagnement.domain.entities import Permanence
from ess_accompagnement.domain.queries.agenda import Scope, week_agenda, week_start
from ess_accompagnement.domain.validation import PARIS
from tests.worlds import World

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def add_permanence(world: World, rule: str | None, first: dt.datetime, *, structures: list | None = None) -> None:
    with world.db.transaction() as session:
        session.add(Permanence(
            owner_structure_id=world.urscop, name="Permanence ESS – mairie de Loches", address="Place de la mairie",
            rrule=rule, first_start=first.astimezone(dt.UTC), duration_minutes=180,
            structure_ids=[str(s) for s in (structures or [world.urscop])],
        ))


def add_rdv(world: World, project, starts: dt.datetime, actor=None) -> None:
    with world.db.transaction() as session:
        add_appointment(session, actor or world.camille,
                        AppointmentDraft(project, starts.astimezone(dt.UTC), 60, AppointmentMode.PRESENTIEL), now=NOW)


def test_week_start_is_monday() -> None:
    assert week_start(dt.date(2026, 3, 15)) == dt.date(2026, 3, 9)
    assert week_start(dt.date(2026, 3, 16)) == dt.date(2026, 3, 16)


def test_my_appointments_of_the_week_in_paris_time(world: World) -> None:
    # GIVEN two appointments of Camille in the week of 30 March 2026 and one the week after
    project = world.new_project()
    add_rdv(world, project, dt.datetime(2026, 3, 31, 9, 30, tzinfo=PARIS))  # summer time already
    add_rdv(world, project, dt.datetime(2026, 4, 2, 14, 0, tzinfo=PARIS))
    add_rdv(world, project, dt.datetime(2026, 4, 7, 10, 0, tzinfo=PARIS))

    # WHEN her week is read
    with world.db.read() as session:
        week = week_agenda(session, advisor_id=world.camille.advisor_id, structure_id=world.urscop,
                           day=dt.date(2026, 4, 1))

    # THEN both appear at their local hour, with the project's title
    assert week.monday == dt.date(2026, 3, 30)
    assert [(a.starts_at.hour, a.starts_at.minute) for a in week.appointments] == [(9, 30), (14, 0)]
    assert week.appointments[0].project_title == "Épicerie coopérative"
    assert week.appointments[0].mine
    assert week.on(dt.date(2026, 4, 2))[0].ends_at.hour == 15


def test_other_advisors_only_in_structure_scope(world: World) -> None:
    project = world.new_project(actor=world.lea)
    add_rdv(world, project, dt.datetime(2026, 3, 31, 9, 30, tzinfo=PARIS), actor=world.lea)

    with world.db.read() as session:
        mine = week_agenda(session, advisor_id=world.reader.advisor_id, structure_id=world.france_active,
                           day=dt.date(2026, 3, 31))
        structure = week_agenda(session, advisor_id=world.reader.advisor_id, structure_id=world.france_active,
                                day=dt.date(2026, 3, 31), scope=Scope.STRUCTURE)

    assert mine.appointments == ()
    assert [a.advisor for a in structure.appointments] == ["Léa Durand"]
    assert not structure.appointments[0].mine


def test_permanence_sessions_keep_local_time_across_dst(world: World) -> None:
    # GIVEN a permanence every Tuesday at 09:30 from January (winter time)
    add_permanence(world, "FREQ=WEEKLY;BYDAY=TU", dt.datetime(2026, 1, 6, 9, 30, tzinfo=PARIS))
    # and one of another structure
    add_permanence(world, "FREQ=WEEKLY;BYDAY=WE", dt.datetime(2026, 1, 7, 9, 0, tzinfo=PARIS),
                   structures=[world.france_active])

    # WHEN the week after the change to summer time is read
    with world.db.read() as session:
        week = week_agenda(session, advisor_id=world.camille.advisor_id, structure_id=world.urscop,
                           day=dt.date(2026, 4, 1))

    # THEN one session, still at 09:30 local, three hours long; the other structure's is not there
    assert len(week.permanences) == 1
    session_ = week.permanences[0]
    assert session_.starts_at == dt.datetime(2026, 3, 31, 9, 30, tzinfo=PARIS)
    assert session_.ends_at.hour == 12 and session_.ends_at.minute == 30


def test_unreadable_or_single_permanences(world: World) -> None:
    add_permanence(world, "FREQ=NEVER", dt.datetime(2026, 1, 6, 9, 30, tzinfo=PARIS))
    add_permanence(world, None, dt.datetime(2026, 4, 1, 14, 0, tzinfo=PARIS))

    with world.db.read() as session:
        week = week_agenda(session, advisor_id=world.camille.advisor_id, structure_id=world.urscop,
                           day=dt.date(2026, 4, 1))

    assert [s.starts_at.hour for s in week.permanences] == [14]


def test_holidays_of_the_week(world: World) -> None:
    with world.db.read() as session:
        week = week_agenda(session, advisor_id=world.camille.advisor_id, structure_id=world.urscop,
                           day=dt.date(2026, 4, 8))

    assert week.holidays == {dt.date(2026, 4, 6): "Lundi de Pâques"}
    assert len(week.days) == 7
