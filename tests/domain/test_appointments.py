"""Editing an appointment and recording its outcome; the permanences an advisor can pick."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from ess_accompagnement.domain import appointments
from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.entities import Appointment, NextStep, Permanence
from ess_accompagnement.domain.errors import RuleError
from tests.worlds import World

NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
PLANNED = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def _planned(world: World) -> tuple[object, appointments.AppointmentDraft]:
    project_id = world.new_project()
    draft = appointments.AppointmentDraft(
        project_id, PLANNED, 60, AppointmentMode.VISIO, status=AppointmentStatus.PLANIFIE,
        next_steps=(appointments.NextStepDraft("Relire les statuts", dt.date(2026, 12, 1)),
                    appointments.NextStepDraft("Appeler la banque")))
    with world.db.transaction() as session:
        return appointments.add_appointment(session, world.camille, draft, now=NOW).id, draft


def test_record_the_outcome_of_a_planned_appointment(world: World) -> None:
    # GIVEN a planned appointment with two next steps
    appointment_id, _draft = _planned(world)
    with world.db.read() as session:
        values = appointments.appointment_values(session, appointment_id)
    # WHEN its outcome is recorded: done, notes, first step changed, second dropped, a third added
    first = values.next_steps[0]
    outcome = dataclasses.replace(values, status=AppointmentStatus.REALISE, notes="Statuts relus ensemble.",
                                  next_steps=(dataclasses.replace(first, due_date=dt.date(2026, 12, 5)),
                                              appointments.NextStepDraft("Envoyer le budget")))
    with world.db.transaction() as session:
        appointments.edit_appointment(session, world.camille, appointment_id, outcome, now=NOW)
    # THEN the appointment and its steps say so, the dropped step is soft-deleted
    with world.db.read() as session:
        appointment = session.get(Appointment, appointment_id)
        steps = session.scalars(select(NextStep).order_by(NextStep.text)).all()
    assert (appointment.status, appointment.notes) == (AppointmentStatus.REALISE, "Statuts relus ensemble.")
    assert [(s.text, s.due_date, s.deleted_at is not None) for s in steps] == [
        ("Appeler la banque", None, True), ("Envoyer le budget", None, False),
        ("Relire les statuts", dt.date(2026, 12, 5), False)]
    assert steps[2].id == first.id


def test_edit_refusals(world: World) -> None:
    appointment_id, draft = _planned(world)
    future_done = dataclasses.replace(draft, starts_at=NOW + dt.timedelta(days=2), status=AppointmentStatus.REALISE)
    with pytest.raises(RuleError, match="pas encore eu lieu"), world.db.transaction() as session:
        appointments.edit_appointment(session, world.camille, appointment_id, future_done, now=NOW)
    with pytest.raises(RuleError, match="structure qui a pris"), world.db.transaction() as session:
        appointments.edit_appointment(session, world.lea, appointment_id, draft, now=NOW)
    with pytest.raises(RuleError, match="lecture seule"), world.db.transaction() as session:
        appointments.edit_appointment(session, world.reader, appointment_id, draft, now=NOW)


def test_permanences_of_a_structure(world: World) -> None:
    with world.db.transaction() as session:
        session.add_all([
            Permanence(name="Mairie de Loches", structure_ids=[str(world.urscop)], owner_structure_id=world.urscop),
            Permanence(name="Tiers-lieu d'Amboise", structure_ids=[str(world.france_active)],
                       owner_structure_id=world.france_active),
            Permanence(name="Ancienne", structure_ids=[str(world.urscop)], active=False,
                       owner_structure_id=world.urscop),
        ])
    with world.db.read() as session:
        assert [p.name for p in appointments.permanences_of(session, world.urscop)] == ["Mairie de Loches"]
