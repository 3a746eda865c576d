"""A note on a project."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QPlainTextEdit, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import notes
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import DateEdit
from ess_accompagnement.ui.dialogs.form import FormDialog

logger = logging.getLogger(__name__)


def not_future(edit: DateEdit, today: dt.date, message: str) -> dt.date | None:
    date = edit.parse()
    if date is not None and date > today:
        raise ValidationError(message, field="date")
    return date


class NoteDialog(FormDialog):
    """« Nouvelle note »; ``value()`` → ``NoteDraft``."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Nouvelle note"))
        self.project_id = project_id
        self.setMinimumWidth(520)
        form = self.new_form()
        self.text = QPlainTextEdit(tabChangesFocus=True, minimumHeight=140)
        self.add_field(form, self.tr("&Note"), self.text, names=("text",), required=True)
        self.date = DateEdit(field="date")
        self.date.set_date(ctx.today)
        self.add_field(form, self.tr("&Date"), self.date, names=("date",), required=True, check=self._check_date)
        self.shared = QCheckBox(self.tr("Visible par les partenaires du parcours"))
        self.add_field(form, self.tr("&Partage"), self.shared, names=("shared",))
        self.finish(form)

    def _check_date(self) -> None:
        not_future(self.date, self.ctx.today, self.tr("Date de la note : elle ne peut pas être dans le futur."))

    def value(self) -> notes.NoteDraft:
        return notes.NoteDraft(self.project_id, self.text.toPlainText(), self.shared.isChecked(), self.date.parse())

    def operation(self) -> Callable[[Session, Actor], Any]:
        draft, today = self.value(), self.ctx.today
        return lambda session, actor: notes.add_note(session, actor, draft, today=today)
