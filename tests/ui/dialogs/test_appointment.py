"""The appointment dialog: plan or log one with next steps, record an outcome, inline errors."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.entities import Appointment, NextStep
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.appointment import AppointmentDialog
from tests.ui.dialogs.helpers import error_of, my_project, opened, replace_text, save, type_text


def test_log_an_appointment_with_a_next_step(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a new appointment for one of my projects
    project_id = my_project(ui_ctx)
    dialog = opened(qtbot, ui_ctx, AppointmentDialog(ui_ctx, project_id=project_id))
    # WHEN the advisor types a French date and time, the notes and a next step
    replace_text(qtbot, dialog.date, "12/03/2026")
    type_text(qtbot, dialog.time, "14h30")
    dialog.mode.set_value(AppointmentMode.TELEPHONE)
    type_text(qtbot, dialog.topics, "statuts, prévisionnel")
    type_text(qtbot, dialog.notes, "Échange sur la coopérative d'habitants.")
    qtbot.mouseClick(dialog.add_step, Qt.MouseButton.LeftButton)
    dialog.steps.item(0, 0).setText("Envoyer le prévisionnel")
    dialog.steps.item(0, 1).setText("20/03/2026")
    dialog.status.set_value(AppointmentStatus.REALISE)
    appointment_id = save(qtbot, ui_ctx, dialog)
    # THEN the appointment is stored at 14:30 Paris time (13:30 UTC), with its next step
    with ui_ctx.db.read() as session:
        appointment = session.get(Appointment, appointment_id)
        step = session.scalars(select(NextStep).where(NextStep.appointment_id == appointment_id)).one()
    assert appointment.starts_at == dt.datetime(2026, 3, 12, 13, 30, tzinfo=dt.UTC)
    assert (appointment.mode, appointment.status, appointment.topics) == (
        AppointmentMode.TELEPHONE, AppointmentStatus.REALISE, ["statuts", "prévisionnel"])
    assert appointment.notes == "Échange sur la coopérative d'habitants."
    assert (step.text, step.due_date) == ("Envoyer le prévisionnel", dt.date(2026, 3, 20))


def test_record_the_outcome_of_an_appointment(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN an appointment of my structure
    with ui_ctx.db.read() as session:
        appointment_id = session.scalars(select(Appointment.id).where(
            Appointment.owner_structure_id == ui_ctx.structure_id).order_by(Appointment.starts_at)).first()
    dialog = opened(qtbot, ui_ctx, AppointmentDialog(ui_ctx, appointment_id=appointment_id))
    assert dialog.project_title.text()
    # WHEN its outcome is recorded
    dialog.status.set_value(AppointmentStatus.ABSENT)
    replace_text(qtbot, dialog.notes, "Porteuse absente, à rappeler.")
    assert save(qtbot, ui_ctx, dialog) == appointment_id
    # THEN the row says so
    with ui_ctx.db.read() as session:
        appointment = session.get(Appointment, appointment_id)
    assert (appointment.status, appointment.notes) == (AppointmentStatus.ABSENT, "Porteuse absente, à rappeler.")


def test_invalid_time_and_impossible_status_are_shown_next_to_their_fields(qtbot: QtBot, ui_ctx: AppContext) -> None:
    dialog = opened(qtbot, ui_ctx, AppointmentDialog(ui_ctx, project_id=my_project(ui_ctx)))
    type_text(qtbot, dialog.time, "25:00")
    assert "format attendu HH:MM" in error_of(dialog, dialog.time)
    assert not dialog.save_button.isEnabled()
    replace_text(qtbot, dialog.time, "10:00")
    replace_text(qtbot, dialog.date, "01/04/2026")  # after the context's today (15/03/2026)
    dialog.status.set_value(AppointmentStatus.REALISE)
    assert "pas encore eu lieu" in error_of(dialog, dialog.status)
    assert not dialog.save_button.isEnabled()
    dialog.status.set_value(AppointmentStatus.PLANIFIE)
    assert dialog.save_button.isEnabled()


def test_a_new_step_without_text_keeps_save_disabled(qtbot: QtBot, ui_ctx: AppContext) -> None:
    dialog = opened(qtbot, ui_ctx, AppointmentDialog(ui_ctx, project_id=my_project(ui_ctx)))
    type_text(qtbot, dialog.time, "09:00")
    assert dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.add_step, Qt.MouseButton.LeftButton)
    assert not dialog.save_button.isEnabled()
    assert "décrivez-la" in error_of(dialog, dialog.steps)
