"""A project's appointments: Qt's checks and French cells."""

from __future__ import annotations

import datetime as dt
import uuid

from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.queries.project_records import AppointmentItem
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.ui.models.project_appointments_model import ProjectAppointmentsModel
from ess_accompagnement.ui.models.rows_model import RowRole


def item(minutes: int = 90, status: AppointmentStatus = AppointmentStatus.PLANIFIE) -> AppointmentItem:
    return AppointmentItem(uuid.uuid4(), dt.datetime(2026, 3, 17, 9, 30, tzinfo=PARIS), minutes,
                           AppointmentMode.PERMANENCE, status, "Mairie de Loches", "URSCOP", "Camille Martin",
                           ("statuts", "budget"), 2)


def test_model_passes_qt_checks(qtmodeltester) -> None:
    model = ProjectAppointmentsModel()
    model.set_rows([item(), item(30, AppointmentStatus.ANNULE)])
    qtmodeltester.check(model)


def test_cells_are_french() -> None:
    model = ProjectAppointmentsModel()
    first = item()
    model.set_rows([first, item(45), item(120)])

    assert [model.index(0, c).data() for c in range(model.columnCount())] == [
        "17/03/2026 09:30", "1 h 30", "Permanence", "Planifié", "Mairie de Loches", "URSCOP", "Camille Martin", "2",
        "statuts, budget"]
    assert model.index(1, 1).data() == "45 min"
    assert model.index(2, 1).data() == "2 h"
    assert model.index(0, 0).data(RowRole) is first
