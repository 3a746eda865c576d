"""Changing a project's status: close it (activité démarrée, abandonné, clos), put it on hold, reopen it."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import projects
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import ProjectStatus
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import CodedCombo, DateEdit
from ess_accompagnement.ui.dialogs.form import FormDialog
from ess_accompagnement.ui.dialogs.note import not_future
from ess_accompagnement.ui.labels import capitalised

logger = logging.getLogger(__name__)


class ProjectStatusDialog(FormDialog):
    """« Statut du projet »: close it (activité démarrée, abandonné, clos), put it on hold, reopen it."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Statut du projet"))
        self._subject_id = self.project_id = project_id
        self.setMinimumWidth(520)
        form = self.new_form()
        self.current = QLineEdit(readOnly=True)
        self.add_field(form, self.tr("Statut a&ctuel"), self.current)
        self.status = CodedCombo(ProjectStatus, none_label=self.tr("— choisissez —"))
        self.add_field(form, self.tr("&Nouveau statut"), self.status, names=("status",), required=True)
        self.date = DateEdit(field="date")
        self.date.set_date(ctx.today)
        self.add_field(form, self.tr("&Date"), self.date, names=("date",), required=True, check=self._check_date)
        self.reason = QPlainTextEdit(tabChangesFocus=True, maximumHeight=100)
        self.reason_row = self.add_field(form, self.tr("&Raison"), self.reason, names=("reason",))
        self.status.currentIndexChanged.connect(lambda _index: self._status_changed())
        self.finish(form)
        self.load(lambda session: projects.project_values(session, project_id), self._fill)

    def _fill(self, values: projects.ProjectValues) -> None:
        self.current.setText(capitalised(values.status))
        self.status.set_members([s for s in ProjectStatus if s is not values.status],
                                none_label=self.tr("— choisissez —"))
        self.setWindowTitle(self.tr("Statut du projet – {0}").format(values.title))

    def _status_changed(self) -> None:
        self.set_required(self.reason_row, self.status.value() in projects.REASON_REQUIRED)

    def _check_date(self) -> None:
        not_future(self.date, self.ctx.today, self.tr("Date du changement : elle ne peut pas être dans le futur."))

    def value(self) -> tuple[ProjectStatus, dt.date, str | None]:
        status, date = self.status.value(), self.date.parse()
        if status is None or date is None:
            raise ValidationError(self.tr("Nouveau statut : choisissez-le."), field="status")
        return status, date, self.reason.toPlainText().strip() or None

    def operation(self) -> Callable[[Session, Actor], Any]:
        (status, date, reason), project_id, today = self.value(), self.project_id, self.ctx.today
        return lambda session, actor: projects.set_status(session, actor, project_id, status, date=date,
                                                          reason=reason, today=today)
