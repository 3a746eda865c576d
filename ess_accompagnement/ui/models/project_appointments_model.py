"""One project's appointments (``domain.queries.project_records.AppointmentItem``), newest first."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QColor

from ess_accompagnement.domain.codes import AppointmentStatus
from ess_accompagnement.domain.queries.project_records import AppointmentItem
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.rows_model import Column, RowsTableModel
from ess_accompagnement.ui.widgets.french import date_time

PLANNED = QColor("#E8F1FB")
CANCELLED = QColor("#8A8F98")


def _duration(a: AppointmentItem) -> str:
    hours, minutes = divmod(a.duration_minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"


class ProjectAppointmentsModel(RowsTableModel[AppointmentItem]):
    CONTEXT: ClassVar[str] = "ProjectAppointmentsModel"
    COLUMNS: ClassVar[tuple[Column[Any], ...]] = (
        Column(QT_TRANSLATE_NOOP("ProjectAppointmentsModel", "Date"), lambda a: date_time(a.starts_at),
               lambda a: a.starts_at),
        Column(QT_TRANSLATE_NOOP("ProjectAppointmentsModel", "Durée"), _duration, lambda a: a.duration_minutes,
               right=True),
        Column(QT_TRANSLATE_NOOP("ProjectAppointmentsModel", "Mode"), lambda a: capitalised(a.mode)),
        Column(QT_TRANSLATE_NOOP("ProjectAppointmentsModel", "Statut"), lambda a: capitalised(a.status),
               lambda a: list(AppointmentStatus).index(a.status)),
        Column(QT_TRANSLATE_NOOP("ProjectAppointmentsModel", "Lieu"), lambda a: a.place or ""),
        Column(QT_TRANSLATE_NOOP("ProjectAppointmentsModel", "Structure"), lambda a: a.structure),
        Column(QT_TRANSLATE_NOOP("ProjectAppointmentsModel", "Conseiller"), lambda a: a.advisor or ""),
        Column(QT_TRANSLATE_NOOP("ProjectAppointmentsModel", "Suites"),
               lambda a: str(a.open_steps) if a.open_steps else "", lambda a: a.open_steps, right=True),
        Column(QT_TRANSLATE_NOOP("ProjectAppointmentsModel", "Sujets"), lambda a: ", ".join(a.topics),
               tooltip=lambda a: "\n".join(a.topics) or None),
    )

    def background(self, row: AppointmentItem) -> QColor | None:
        return PLANNED if row.status is AppointmentStatus.PLANIFIE else None

    def foreground(self, row: AppointmentItem) -> QColor | None:
        return CANCELLED if row.status in (AppointmentStatus.ANNULE, AppointmentStatus.ABSENT) else None
