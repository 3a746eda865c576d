"""A rendez-vous: planning it, or recording how it went (status, notes, next steps with due dates)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from sqlalchemy.orm import Session

from ess_accompagnement.domain import appointments, validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.appointments import AppointmentDraft, NextStepDraft
from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.projects import project_values
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import NO_DATA, CodedCombo, DateEdit, IdCombo, ProjectSearchEdit, TimeEdit
from ess_accompagnement.ui.dialogs.form import FormDialog

logger = logging.getLogger(__name__)

NOT_YET = (AppointmentStatus.REALISE, AppointmentStatus.ABSENT)


class NextStepsTable(QTableWidget):
    """The next steps decided: « what » and « by when » (JJ/MM/AAAA), edited in place."""

    # ---- Signals

    sig_changed = Signal()
    """A step was added, removed or edited."""

    def __init__(self) -> None:
        super().__init__(0, 2)
        self.setHorizontalHeaderLabels([self.tr("Étape"), self.tr("Échéance")])
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().hide()
        self.setTabKeyNavigation(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setMinimumHeight(96)
        self.setMaximumHeight(140)
        self.itemChanged.connect(lambda _item: self.sig_changed.emit())

    def add_step(self, step: NextStepDraft | None = None) -> None:
        row = self.rowCount()
        self.blockSignals(True)
        self.insertRow(row)
        text = QTableWidgetItem(step.text if step else "")
        text.setData(Qt.ItemDataRole.UserRole, step.id if step is not None and step.id is not None else NO_DATA)
        self.setItem(row, 0, text)
        self.setItem(row, 1, QTableWidgetItem(step.due_date.strftime("%d/%m/%Y") if step and step.due_date else ""))
        self.blockSignals(False)
        if step is None:
            self.setCurrentCell(row, 0)
            self.editItem(text)
        self.sig_changed.emit()

    def remove_current(self) -> None:
        if self.currentRow() >= 0:
            self.removeRow(self.currentRow())
            self.sig_changed.emit()

    def steps(self) -> tuple[NextStepDraft, ...]:
        """The steps, checked: a text each, a valid due date or none."""
        drafts = []
        for row in range(self.rowCount()):
            text = self.item(row, 0).text()
            number = row + 1
            if not text.strip():
                raise ValidationError(self.tr("Prochaine étape n° {0} : décrivez-la.").format(number), field="next_step")
            due_text = self.item(row, 1).text().strip()
            try:
                due = validation.french_date(due_text, "next_step") if due_text else None
            except ValidationError as exc:
                raise ValidationError(self.tr("Étape n° {0} : ").format(number) + exc.message, field="next_step") \
                    from None
            step_id = self.item(row, 0).data(Qt.ItemDataRole.UserRole)
            drafts.append(NextStepDraft(text, due, step_id if isinstance(step_id, uuid.UUID) else None))
        return tuple(drafts)


class AppointmentDialog(FormDialog):
    """« Nouveau rendez-vous » or « Rendez-vous » (edit, record the outcome); ``value()`` → ``AppointmentDraft``."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID | None = None, appointment_id: uuid.UUID | None = None,
                 start: dt.datetime | None = None, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Nouveau rendez-vous") if appointment_id is None else self.tr("Rendez-vous"))
        self._subject_id = self.appointment_id = appointment_id
        self.project_id = project_id
        self.setMinimumWidth(620)
        form = self.new_form()
        self._project_row(form)
        self._when_rows(form, start)
        self._content_rows(form)
        self.finish(form)
        self.load(self._read, self._fill)

    def _project_row(self, form: Any) -> None:
        self.project_title = QLineEdit(readOnly=True)
        self.project_search = ProjectSearchEdit(self.ctx)
        if self.project_id is None and self.appointment_id is None:
            self.add_field(form, self.tr("&Projet"), self.project_search, names=("projet",),
                           check=self.project_search.parse, required=True)
        else:
            self.add_field(form, self.tr("&Projet"), self.project_title, names=("projet",))

    def _when_rows(self, form: Any, start: dt.datetime | None) -> None:
        local = start.astimezone(PARIS) if start and start.tzinfo else start
        self.date = DateEdit(field="date")
        self.date.set_date(local.date() if local else self.ctx.today)
        self.time = TimeEdit(field="time")
        if local:
            self.time.set_time(local.time())
        self.duration = QSpinBox(minimum=5, maximum=720, singleStep=15, value=60)
        self.duration.setSuffix(self.tr(" min"))
        self.add_field(form, self.tr("&Date"), self.date, names=("date",), check=self.date.parse, required=True)
        self.add_field(form, self.tr("&Heure"), self.time, names=("time", "starts_at"), check=self.time.parse,
                       required=True)
        self.add_field(form, self.tr("Du&rée"), self.duration, names=("duration",))
        self.mode = CodedCombo(AppointmentMode)
        self.add_field(form, self.tr("&Mode"), self.mode, names=("mode",))
        self.permanence = IdCombo()
        self.add_field(form, self.tr("Permanen&ce"), self.permanence, names=())
        self.place = QLineEdit(maxLength=300)
        self.place_row = self.add_field(form, self.tr("&Lieu"), self.place, names=("place",), check=self._check_place)
        self.mode.currentIndexChanged.connect(lambda _i: self.revalidate())
        self.permanence.currentIndexChanged.connect(lambda _i: self.revalidate())

    def _content_rows(self, form: Any) -> None:
        self.topics = QLineEdit(placeholderText=self.tr("séparés par des virgules : statuts, budget…"))
        self.add_field(form, self.tr("&Sujets"), self.topics, names=("topics",))
        self.notes = QPlainTextEdit(tabChangesFocus=True, maximumHeight=90)
        self.add_field(form, self.tr("&Notes"), self.notes, names=("notes",))
        self.steps = NextStepsTable()
        self.add_field(form, self.tr("Prochaines é&tapes"), self.steps, names=("next_step",), check=self.steps.steps)
        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        self.add_step = QPushButton(self.tr("A&jouter une étape"))
        self.remove_step = QPushButton(self.tr("Suppr&imer l'étape"))
        row.addWidget(self.add_step)
        row.addWidget(self.remove_step)
        row.addStretch(1)
        form.addRow("", buttons)
        self.add_focusable(self.add_step)
        self.add_focusable(self.remove_step)
        self.add_step.clicked.connect(lambda: self.steps.add_step())
        self.remove_step.clicked.connect(self.steps.remove_current)
        self.status = CodedCombo(AppointmentStatus)
        self.status.set_value(AppointmentStatus.PLANIFIE)
        self.add_field(form, self.tr("Stat&ut"), self.status, names=("status",), check=self._check_status)
        self.shared = QCheckBox(self.tr("Partager avec les partenaires du parcours"))
        self.add_field(form, self.tr("Parta&ge"), self.shared, names=("shared",))

    # ---- Checks

    def _now(self) -> dt.datetime:
        """Now, on the context's day (tests and screenshots run on a fixed day)."""
        return dt.datetime.combine(self.ctx.today, dt.datetime.now(PARIS).time(), tzinfo=PARIS)

    def starts_at(self) -> dt.datetime:
        date = self.date.parse()
        if date is None:
            raise ValidationError(self.tr("Date : ce champ est obligatoire."), field="date")
        return dt.datetime.combine(date, self.time.parse(), tzinfo=PARIS)

    def _check_status(self) -> None:
        status = self.status.value()
        try:
            future = self.starts_at() > self._now()
        except ValidationError:
            return
        if status in NOT_YET and future:
            raise ValidationError(self.tr("Statut « {0} » : ce rendez-vous n'a pas encore eu lieu.")
                                  .format(self.status.currentText().lower()), field="status")

    def _check_place(self) -> None:
        if self.mode.value() is AppointmentMode.PERMANENCE and self.permanence.value() is None \
                and not self.place.text().strip():
            raise ValidationError(self.tr("Lieu : un rendez-vous en permanence doit dire où (permanence ou lieu)."),
                                  field="place")

    # ---- Loading

    def _read(self, session: Session) -> tuple[AppointmentDraft | None, str | None, list[appointments.PermanenceRow]]:
        values = appointments.appointment_values(session, self.appointment_id) if self.appointment_id else None
        project_id = values.project_id if values else self.project_id
        title = project_values(session, project_id).title if project_id else None
        return values, title, appointments.permanences_of(session, self.ctx.structure_id)

    def _fill(self, loaded: tuple[AppointmentDraft | None, str | None, list[appointments.PermanenceRow]]) -> None:
        values, title, permanences = loaded
        self.project_title.setText(title or "")
        self.permanence.set_choices([(self.tr("— aucune —"), None), *((p.name, p.id) for p in permanences)])
        if values is not None:
            self.project_id = values.project_id
            self._fill_values(values)

    def _fill_values(self, values: AppointmentDraft) -> None:
        local = values.starts_at.astimezone(PARIS)
        self.date.set_date(local.date())
        self.time.set_time(local.time())
        self.duration.setValue(values.duration_minutes)
        self.mode.set_value(values.mode)
        self.permanence.set_value(values.permanence_id)
        self.place.setText(values.place or "")
        self.topics.setText(", ".join(values.topics))
        self.notes.setPlainText(values.notes or "")
        for step in values.next_steps:
            self.steps.add_step(step)
        self.status.set_value(values.status)
        self.shared.setChecked(values.shared)

    # ---- Saving

    def value(self) -> AppointmentDraft:
        project_id = self.project_id if self.project_id is not None else self.project_search.parse()
        return AppointmentDraft(
            project_id=project_id, starts_at=self.starts_at(), duration_minutes=self.duration.value(),
            mode=self.mode.value() or AppointmentMode.PRESENTIEL, status=self.status.value(),
            place=self.place.text(), permanence_id=self.permanence.value(),
            topics=tuple(topic.strip() for topic in self.topics.text().split(",") if topic.strip()),
            notes=self.notes.toPlainText(), shared=self.shared.isChecked(), next_steps=self.steps.steps(),
        )

    def operation(self) -> Callable[[Session, Actor], Any]:
        draft, now = self.value(), self._now()
        appointment_id = self.appointment_id
        if appointment_id is None:
            return lambda session, actor: appointments.add_appointment(session, actor, draft, now=now)
        return lambda session, actor: appointments.edit_appointment(session, actor, appointment_id, draft, now=now)
