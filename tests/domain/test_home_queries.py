"""The home screen's query: the advisor's day, what is late, referrals waiting, quiet projects."""

from __future__ import annotations

import datetime as dt
import uuid

from ess_accompagnement.domain import settings
from ess_accompagnement.domain.appointments import AppointmentDraft, NextStepDraft, add_appointment
from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus, ProjectStatus
from ess_accompagnement.domain.projects import set_status
from ess_accompagnement.domain.queries.home import NO_CONTACT_DAYS, busiest_advisor, home_data
from ess_accompagnement.domain.referrals import ReferralDraft, propose, record_reminder
from ess_accompagnement.domain.validation import PARIS
from tests.worlds import TODAY, World


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def appointment(world: World, project_id: uuid.UUID, starts: dt.datetime, *,
                status: AppointmentStatus | None = None, steps: tuple[NextStepDraft, ...] = ()) -> uuid.UUID:
    draft = AppointmentDraft(project_id=project_id, starts_at=starts, duration_minutes=60,
                             mode=AppointmentMode.TELEPHONE, status=status, next_steps=steps)
    with world.db.transaction() as session:
        return add_appointment(session, world.camille, draft, now=at(TODAY, 8)).id


def home(world: World, today: dt.date = TODAY):  # noqa: ANN201 - HomeData
    with world.db.read() as session:
        return home_data(session, world.camille.advisor_id, world.camille.structure_id, today)


def test_today_and_tomorrow_appointments_in_paris_time(world: World) -> None:
    # GIVEN appointments at 00:30 and 23:30 today (Paris), one tomorrow and one the day after
    project = world.new_project()
    tomorrow = TODAY + dt.timedelta(days=1)
    early = appointment(world, project, at(TODAY, 0, 30), status=AppointmentStatus.PLANIFIE)
    late = appointment(world, project, at(TODAY, 23, 30), status=AppointmentStatus.PLANIFIE)
    next_day = appointment(world, project, at(tomorrow, 9), status=AppointmentStatus.PLANIFIE)
    appointment(world, project, at(tomorrow + dt.timedelta(days=1), 9), status=AppointmentStatus.PLANIFIE)
    # WHEN the home data is read
    data = home(world)
    # THEN each lands on its Paris day, in order, with the local time
    assert [a.id for a in data.today_appointments.rows] == [early, late]
    assert data.today_appointments.rows[0].starts_at.hour == 0
    assert [a.id for a in data.tomorrow_appointments.rows] == [next_day]
    assert data.advisor_name == "Camille Martin"


def test_past_planned_appointments_are_unrecorded(world: World) -> None:
    project = world.new_project()
    forgotten = appointment(world, project, at(TODAY - dt.timedelta(days=3), 10), status=AppointmentStatus.PLANIFIE)
    appointment(world, project, at(TODAY - dt.timedelta(days=2), 10), status=AppointmentStatus.REALISE)

    data = home(world)

    assert [a.id for a in data.unrecorded.rows] == [forgotten]
    assert data.unrecorded.total == 1


def test_overdue_next_steps_with_days_late(world: World) -> None:
    project = world.new_project()
    appointment(world, project, at(TODAY - dt.timedelta(days=20), 10), status=AppointmentStatus.REALISE,
                steps=(NextStepDraft("Envoyer le budget", TODAY - dt.timedelta(days=5)),
                       NextStepDraft("Rappeler", TODAY + dt.timedelta(days=5))))

    data = home(world)

    assert [(s.text, s.days_late) for s in data.overdue_steps.rows] == [("Envoyer le budget", 5)]
    # WHEN the project is closed THEN its open steps no longer wait on the home screen
    with world.db.transaction() as session:
        set_status(session, world.camille, project, ProjectStatus.CLOS, date=TODAY, reason=None, today=TODAY)
    assert home(world).overdue_steps.total == 0


def test_referrals_waiting_in_both_directions(world: World) -> None:
    # GIVEN a referral from URSCOP (Camille) to France Active, 10 days ago, and one expired long ago
    project = world.new_project()
    with world.db.transaction() as session:
        propose(session, world.camille, ReferralDraft(project, world.france_active, "Garantie"),
                today=TODAY - dt.timedelta(days=10))
        propose(session, world.camille, ReferralDraft(project, world.alter_incub, "Incubation"),
                today=TODAY - dt.timedelta(days=200))
    # WHEN each side reads its home
    sent = home(world)
    with world.db.read() as session:
        received = home_data(session, world.lea.advisor_id, world.lea.structure_id, TODAY)
        expiry = settings.referral_expiry_days(session)
    # THEN the sender sees it unanswered for 10 days, the receiver has it to answer; expired ones are gone
    assert [(r.other_structure, r.age_days) for r in sent.outbox.rows] == [("France Active Centre-Val de Loire", 10)]
    assert sent.inbox.total == 0
    assert [(r.other_structure, r.age_days) for r in received.inbox.rows] == [("URSCOP Centre-Val de Loire", 10)]
    assert expiry < 200


def test_a_reminder_shows_on_both_sides(world: World) -> None:
    # GIVEN a referral sent 10 days ago, reminded 3 days ago then today
    project = world.new_project()
    with world.db.transaction() as session:
        referral = propose(session, world.camille, ReferralDraft(project, world.france_active, "Garantie"),
                           today=TODAY - dt.timedelta(days=10)).id
    for day in (TODAY - dt.timedelta(days=3), TODAY):
        with world.db.transaction() as session:
            record_reminder(session, world.camille, referral, today=day)
    # WHEN each side reads its home THEN both see the last reminder and how many were sent
    with world.db.read() as session:
        received = home_data(session, world.lea.advisor_id, world.lea.structure_id, TODAY)
    assert [(r.reminded_on, r.reminder_count) for r in home(world).outbox.rows] == [(TODAY, 2)]
    assert [(r.reminded_on, r.reminder_count) for r in received.inbox.rows] == [(TODAY, 2)]


def test_quiet_projects_after_the_threshold(world: World) -> None:
    # GIVEN a project seen recently, one seen long ago and one never seen, all led by Camille
    recent, old, never = (world.new_project(title) for title in ("Récent", "Ancien", "Jamais vu"))
    with world.db.transaction() as session:
        from ess_accompagnement.domain.entities import Project

        for pid in (recent, old, never):
            session.get(Project, pid).lead_advisor_id = world.camille.advisor_id
    appointment(world, recent, at(TODAY - dt.timedelta(days=10), 10), status=AppointmentStatus.REALISE)
    appointment(world, old, at(TODAY - dt.timedelta(days=NO_CONTACT_DAYS + 30), 10),
                status=AppointmentStatus.REALISE)
    # WHEN / THEN never-seen projects come first, then the oldest contact, with the days since
    rows = home(world).quiet_projects.rows
    assert [(r.project_title, r.days) for r in rows] == [("Jamais vu", None), ("Ancien", NO_CONTACT_DAYS + 30)]
    assert rows[1].last_contact == TODAY - dt.timedelta(days=NO_CONTACT_DAYS + 30)


def test_busiest_advisor_counts_recent_appointments(world: World) -> None:
    project = world.new_project()
    assert busiest_advisor_of(world) is None
    appointment(world, project, at(TODAY - dt.timedelta(days=3), 10), status=AppointmentStatus.REALISE)

    assert busiest_advisor_of(world) == world.camille.advisor_id


def busiest_advisor_of(world: World) -> uuid.UUID | None:
    with world.db.read() as session:
        return busiest_advisor(session, TODAY)
