"""The advisor's agenda (.ics): parsed back with icalendar, recurrences expanded with recurring_ical_events
and compared with dateutil, local times kept across daylight saving time, a hand-written VTIMEZONE."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar import Calendar, Timezone

from ess_accompagnement.domain import appointments
from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.entities import Permanence
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.reports.calendar import PRODID, build_agenda, export_agenda
from tests.worlds import World

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=PARIS)


def add_rdv(world: World, project: uuid.UUID, when: dt.datetime, **fields: object) -> uuid.UUID:
    draft = appointments.AppointmentDraft(project, when, 90, fields.pop("mode", AppointmentMode.PRESENTIEL),
                                          **fields)  # type: ignore[arg-type]
    with world.db.transaction() as session:
        return appointments.add_appointment(session, world.camille, draft, now=NOW).id


def add_permanence(world: World, rule: str | None, first: dt.datetime, *, timezone: str = "Europe/Paris") -> uuid.UUID:
    with world.db.transaction() as session:
        permanence = Permanence(name="Permanence ESS – mairie de Loches", address="Place de la mairie",
                                commune_code="37261", rrule=rule, first_start=first, duration_minutes=180,
                                timezone=timezone, structure_ids=[str(world.urscop)], owner_structure_id=world.urscop)
        session.add(permanence)
        session.flush()
        return permanence.id


def agenda(world: World, **options: object) -> tuple[bytes, Calendar]:
    with world.db.read() as session:
        calendar, _ = build_agenda(session, world.camille.advisor_id, **options)  # type: ignore[arg-type]
    data = calendar.to_ical()
    return data, Calendar.from_ical(data)


def events(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_appointments_keep_their_local_time_across_dst(world: World) -> None:
    # GIVEN two appointments at 14:30 Paris time, one in summer (UTC+2) and one in winter (UTC+1)
    project = world.new_project("Épicerie coopérative")
    summer = add_rdv(world, project, dt.datetime(2026, 7, 14, 14, 30, tzinfo=PARIS), place="Mairie de Loches")
    winter = add_rdv(world, project, dt.datetime(2026, 1, 13, 14, 30, tzinfo=PARIS), mode=AppointmentMode.VISIO,
                     status=AppointmentStatus.ANNULE)
    # WHEN the agenda is written and read back
    data, calendar = agenda(world)
    found = events(calendar)
    # THEN both start at 14:30 local time, with TZID=Europe/Paris, and last 90 minutes
    for appointment in (summer, winter):
        event = found[f"{appointment}@ess-accompagnement"]
        start, end = event["DTSTART"].dt, event["DTEND"].dt  # type: ignore[index]
        assert (start.hour, start.minute) == (14, 30) and str(start.tzinfo) == "Europe/Paris"
        assert end - start == dt.timedelta(minutes=90)
        assert event["DTSTART"].params["TZID"] == "Europe/Paris"  # type: ignore[index]
        assert event["SUMMARY"] == "RDV – Épicerie coopérative"  # type: ignore[index]
    assert found[f"{summer}@ess-accompagnement"]["LOCATION"] == "Mairie de Loches"  # type: ignore[index]
    assert found[f"{winter}@ess-accompagnement"]["LOCATION"] == "Visio"  # type: ignore[index]
    assert [found[f"{a}@ess-accompagnement"]["STATUS"] for a in (summer, winter)] == ["CONFIRMED", "CANCELLED"]  # type: ignore[index]
    assert b"DTSTAMP:" in data and str(calendar["PRODID"]) == PRODID
    # AND the UTC instants differ by the offset: 12:30Z in summer, 13:30Z in winter
    assert b"DTSTART;TZID=Europe/Paris:20260714T143000" in data and b"DTSTART;TZID=Europe/Paris:20260113T143000" in data


def test_no_holder_data_and_confidential_titles_hidden(world: World) -> None:
    # GIVEN a project whose holder is Inès Lefèvre, and a confidential one
    open_project = world.new_project("Épicerie coopérative")
    secret = world.new_project("Reprise de la boulangerie", confidential=True)
    add_rdv(world, open_project, dt.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS), notes="Inès hésite, tél. 06 12 34 56 78")
    add_rdv(world, secret, dt.datetime(2026, 3, 3, 9, 0, tzinfo=PARIS))
    data, calendar = agenda(world)
    text = data.decode()
    # THEN neither the holder's name nor the notes leave the app; the confidential title does not either
    for private in ("Inès", "Lefèvre", "06 12 34 56 78", "hésite", "boulangerie"):
        assert private not in text
    assert sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT")) == [
        "RDV – projet confidentiel", "RDV – Épicerie coopérative"]


def test_period_filter(world: World) -> None:
    project = world.new_project()
    inside = add_rdv(world, project, dt.datetime(2026, 3, 31, 23, 30, tzinfo=PARIS))  # 21:30 UTC, still 31 March
    add_rdv(world, project, dt.datetime(2026, 4, 1, 0, 30, tzinfo=PARIS))
    _, calendar = agenda(world, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
    assert list(events(calendar)) == [f"{inside}@ess-accompagnement"]


def test_vtimezone_is_the_fixed_paris_one(world: World) -> None:
    data, calendar = agenda(world)
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/Paris"
    # yearly RRULEs, no RDATE list, no « only works from 1970 to 2038 » comment
    assert b"RDATE" not in data and b"COMMENT" not in data
    assert [str(c["RRULE"].to_ical(), "ascii") for c in zone.subcomponents] == [
        "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"]
    # AND read as a time zone it agrees with the tz database, hour by hour around every change to 2040
    tz = Timezone.from_ical(zone.to_ical()).to_tz(lookup_tzid=False)
    moment = dt.datetime(1996, 1, 1, tzinfo=dt.UTC)
    while moment.year < 2040:
        assert moment.astimezone(tz).utcoffset() == moment.astimezone(PARIS).utcoffset(), moment
        moment += dt.timedelta(hours=23)


@pytest.mark.parametrize("rule", [
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
    "RRULE:FREQ=MONTHLY;BYDAY=-1MO;UNTIL=20261231T235959",
])
def test_permanence_recurrence_matches_dateutil(world: World, rule: str) -> None:
    # GIVEN a permanence at 09:30 Paris time whose first session follows its rule
    body = rule.removeprefix("RRULE:")
    local_first = rrulestr(body, dtstart=dt.datetime(2026, 1, 1, 9, 30))[0]
    add_permanence(world, rule, local_first.replace(tzinfo=PARIS).astimezone(dt.UTC))
    # WHEN the agenda with the URSCOP's permanences is expanded over 2026–2027
    _, calendar = agenda(world, permanences_of=world.urscop)
    expanded = [e["DTSTART"].dt for e in recurring_ical_events.of(calendar).between(
        dt.date(2026, 1, 1), dt.date(2028, 1, 1))]
    # THEN the sessions are dateutil's, in local time (09:30 in winter and in summer)
    expected = [moment.replace(tzinfo=PARIS) for moment in rrulestr(body, dtstart=local_first).between(
        dt.datetime(2026, 1, 1), dt.datetime(2028, 1, 1), inc=True)]
    assert expanded == expected and len(expected) >= 12
    assert {(moment.hour, moment.minute) for moment in expanded} == {(9, 30)}
    assert {moment.utcoffset() for moment in expanded} == {dt.timedelta(hours=1), dt.timedelta(hours=2)}


def test_until_is_written_in_utc(world: World) -> None:
    add_permanence(world, "FREQ=WEEKLY;BYDAY=WE;UNTIL=20260630T235959",
                   dt.datetime(2026, 1, 7, 9, 30, tzinfo=PARIS).astimezone(dt.UTC))
    data, _ = agenda(world, permanences_of=world.urscop)
    # 30/06/2026 23:59:59 Paris (UTC+2) = 21:59:59 UTC, as RFC 5545 asks beside a TZID start
    assert b"UNTIL=20260630T215959Z" in data


def test_permanences_that_cannot_be_written_are_skipped(world: World) -> None:
    first = dt.datetime(2026, 1, 13, 8, 30, tzinfo=dt.UTC)
    add_permanence(world, "FREQ=MONTHLY;BYDAY=2TU", first, timezone="Indian/Reunion")
    add_permanence(world, "n'importe quoi", first)
    kept = add_permanence(world, None, first)  # a single session
    with world.db.read() as session:
        calendar, summary = build_agenda(session, world.camille.advisor_id, permanences_of=world.urscop)
    assert (summary.permanences, summary.skipped_permanences) == (1, 2)
    assert list(events(calendar)) == [f"permanence-{kept}@ess-accompagnement"]
    # AND another structure's advisor gets none of them
    with world.db.read() as session:
        _, other = build_agenda(session, world.lea.advisor_id, permanences_of=world.france_active)
    assert other.permanences == 0


def test_written_atomically(world: World, tmp_path: Path) -> None:
    add_rdv(world, world.new_project(), dt.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS))
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "agenda.ics"
    with world.db.read() as session:
        summary = export_agenda(session, out, world.camille.advisor_id)
    assert summary.appointments == 1 and Calendar.from_ical(out.read_bytes())["PRODID"] == PRODID
    assert [p.name for p in folder.iterdir()] == ["agenda.ics"]
    with world.db.read() as session, pytest.raises(UserFacingError, match="n'existe pas"):
        export_agenda(session, folder / "absent" / "agenda.ics", world.camille.advisor_id)
    assert [p.name for p in folder.iterdir()] == ["agenda.ics"]
