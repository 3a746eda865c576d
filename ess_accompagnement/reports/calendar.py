"""An advisor's agenda as an iCalendar file (.ics) that Outlook and Thunderbird read.

- One VEVENT per appointment of the advisor: ``UID:<appointment id>@ess-accompagnement`` (stable, so
  importing the file again updates events instead of duplicating them), SUMMARY « RDV – <project
  title> » (« RDV – projet confidentiel » for a confidential project), LOCATION, STATUS CONFIRMED or
  CANCELLED, DTSTAMP and LAST-MODIFIED = when the appointment was last changed, CLASS:PRIVATE. No
  holder's name, contact or note is written: the file leaves the app (phones, shared calendars).
- Optionally one recurring VEVENT per permanence of a structure: RRULE from the permanence row,
  DTSTART in Europe/Paris local time, so a 09:30 session stays at 09:30 across daylight saving time.
- Times carry ``TZID=Europe/Paris`` and the calendar ships a fixed Europe/Paris VTIMEZONE written by
  hand with yearly RRULEs. ``Calendar.add_missing_timezones()`` is deliberately not used: it writes
  long RDATE lists and a « only works from 1970 to 2038 » comment that Outlook is reported to mis-read
  (ecosystem.md §2.4.3).
- The file is written beside the target under a temporary name, then renamed over it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from dateutil.rrule import rrulestr
from icalendar import Calendar, Event, Timezone, vRecur
from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.entities import Appointment, Commune, Permanence, Project
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.reports.files import write_bytes_atomically

logger = logging.getLogger(__name__)

PRODID = "-//ESS Accompagnement//FR"
UID_DOMAIN = "ess-accompagnement"
TZID = "Europe/Paris"
DEFAULT_PERMANENCE_MINUTES = 180
# Europe/Paris since 1996 (EU rules): CEST from the last Sunday of March 02:00, CET from the last
# Sunday of October 03:00. Written by hand: yearly RRULEs, no RDATE list.
VTIMEZONE_PARIS = "\r\n".join((
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
    "",
))
_WHERE_BY_MODE = {AppointmentMode.TELEPHONE: "Téléphone", AppointmentMode.VISIO: "Visio"}


@dataclass(frozen=True)
class AgendaSummary:
    appointments: int
    permanences: int
    skipped_permanences: int  # not in Europe/Paris, without a first session, or with an unreadable rule


def build_agenda(
    session: Session,
    advisor_id: uuid.UUID,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    permanences_of: uuid.UUID | None = None,
) -> tuple[Calendar, AgendaSummary]:
    """The advisor's appointments starting between ``start`` and ``end`` (Paris days, both included,
    either open), and the permanences of the structure ``permanences_of`` if given."""
    calendar = Calendar.new(prodid=PRODID, uid=f"agenda-{advisor_id}@{UID_DOMAIN}", method="PUBLISH",
                            calscale="GREGORIAN", name="Rendez-vous ESS Accompagnement")
    calendar.add_component(Timezone.from_ical(VTIMEZONE_PARIS))
    appointments = 0
    for row in _appointments(session, advisor_id, start, end):
        calendar.add_component(_appointment_event(*row))
        appointments += 1
    permanences = skipped = 0
    if permanences_of is not None:
        for permanence, commune in _permanences(session, permanences_of):
            event = _permanence_event(permanence, commune)
            if event is None:
                skipped += 1
                continue
            calendar.add_component(event)
            permanences += 1
    logger.debug("agenda: %d appointments, %d permanences, %d skipped", appointments, permanences, skipped)
    return calendar, AgendaSummary(appointments, permanences, skipped)


def export_agenda(session: Session, out: Path | str, advisor_id: uuid.UUID, **options: object) -> AgendaSummary:
    """Build the agenda (``build_agenda`` options) and write it to ``out``."""
    calendar, summary = build_agenda(session, advisor_id, **options)  # type: ignore[arg-type]
    write_bytes_atomically(out, calendar.to_ical())
    return summary


# ---- Appointments --------------------------------------------------------------------------------


def _utc_bound(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=PARIS).astimezone(dt.UTC)


def _appointments(session: Session, advisor_id: uuid.UUID, start: dt.date | None, end: dt.date | None) \
        -> list[tuple[Appointment, str, bool, Permanence | None]]:
    query = (
        select(Appointment, Project.title, Project.confidential, Permanence)
        .join(Project, Project.id == Appointment.project_id)
        .outerjoin(Permanence, Permanence.id == Appointment.permanence_id)
        .where(Appointment.advisor_id == advisor_id, Appointment.deleted_at.is_(None), Project.deleted_at.is_(None))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if start is not None:
        query = query.where(Appointment.starts_at >= _utc_bound(start))
    if end is not None:
        query = query.where(Appointment.starts_at < _utc_bound(end + dt.timedelta(days=1)))
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def _appointment_event(appointment: Appointment, title: str, confidential: bool,
                       permanence: Permanence | None) -> Event:
    starts = appointment.starts_at.astimezone(PARIS)
    mode = appointment.mode
    event = Event.new(
        uid=f"{appointment.id}@{UID_DOMAIN}",
        summary=f"RDV – {'projet confidentiel' if confidential else title}",
        start=starts,
        end=(appointment.starts_at + dt.timedelta(minutes=appointment.duration_minutes)).astimezone(PARIS),
        location=_location(appointment, permanence),
        status="CANCELLED" if appointment.status is AppointmentStatus.ANNULE else "CONFIRMED",
        description=f"Rendez-vous ({mode.label}) – ESS Accompagnement",
        stamp=appointment.updated_at,
        created=appointment.created_at,
        last_modified=appointment.updated_at,
        classification="PRIVATE",
    )
    return event


def _location(appointment: Appointment, permanence: Permanence | None) -> str | None:
    if appointment.place:
        return appointment.place
    if permanence is not None:
        return ", ".join(part for part in (permanence.name, permanence.address) if part)
    return _WHERE_BY_MODE.get(appointment.mode)


# ---- Permanences ---------------------------------------------------------------------------------


def _permanences(session: Session, structure_id: uuid.UUID) -> list[tuple[Permanence, str | None]]:
    rows = session.execute(
        select(Permanence, Commune.name).outerjoin(Commune, Commune.code == Permanence.commune_code)
        .where(Permanence.deleted_at.is_(None), Permanence.active.is_(True)).order_by(Permanence.name, Permanence.id)
    ).all()
    return [(p, commune) for p, commune in rows if structure_id in _uuids(p.structure_ids)]


def _uuids(values: list[str] | None) -> set[uuid.UUID]:
    found = set()
    for value in values or ():
        try:
            found.add(uuid.UUID(str(value)))
        except ValueError:
            logger.warning("permanence lists a malformed structure id")
    return found


def _permanence_event(permanence: Permanence, commune: str | None) -> Event | None:
    """The recurring event of a permanence, or None when it cannot be written faithfully."""
    if permanence.timezone != TZID or permanence.first_start is None:
        logger.info("permanence %s skipped: time zone %s or no first session", permanence.id, permanence.timezone)
        return None
    starts = permanence.first_start.astimezone(PARIS)
    minutes = permanence.duration_minutes or DEFAULT_PERMANENCE_MINUTES
    address = ", ".join(part for part in (permanence.address, commune) if part)
    event = Event.new(
        uid=f"permanence-{permanence.id}@{UID_DOMAIN}", summary=f"Permanence – {permanence.name}",
        start=starts, end=starts + dt.timedelta(minutes=minutes), location=address or None, status="CONFIRMED",
        stamp=permanence.updated_at, last_modified=permanence.updated_at,
    )
    if permanence.rrule:
        rule = _recurrence(permanence.rrule)
        if rule is None:
            logger.warning("permanence %s skipped: unreadable recurrence rule", permanence.id)
            return None
        event.add("rrule", rule)
    return event


def _recurrence(text: str) -> vRecur | None:
    """The stored RRULE as iCalendar wants it beside a TZID start: UNTIL in UTC (RFC 5545 §3.3.10)."""
    body = text.strip().removeprefix("RRULE:")
    try:
        rrulestr(body, dtstart=dt.datetime(2000, 1, 1))  # what the app expands it with must read it
        rule = vRecur.from_ical(body)
    except ValueError:
        return None
    if "FREQ" not in rule:
        return None
    if "UNTIL" in rule:
        rule["UNTIL"] = [_until_utc(value) for value in rule["UNTIL"]]
    return rule


def _until_utc(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=PARIS)).astimezone(dt.UTC)
    return dt.datetime.combine(value, dt.time(23, 59, 59), tzinfo=PARIS).astimezone(dt.UTC)
