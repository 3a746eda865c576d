"""Moving a project to another phase; a reason is required, live, when going back or skipping a phase."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import phases
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import Phase
from ess_accompagnement.domain.errors import UserFacingError, ValidationError
from ess_accompagnement.domain.projects import project_values
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import CodedCombo, DateEdit
from ess_accompagnement.ui.dialogs.form import FormDialog
from ess_accompagnement.ui.labels import capitalised

logger = logging.getLogger(__name__)


class PhaseChangeDialog(FormDialog):
    """« Changer de phase »; ``value()`` → ``(phase, date, reason)``."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Changer de phase"))
        self._subject_id = self.project_id = project_id
        self.steps: list[phases.PhaseStep] = []
        self.setMinimumWidth(520)
        form = self.new_form()
        self.current = QLineEdit(readOnly=True)
        self.add_field(form, self.tr("Phase a&ctuelle"), self.current)
        self.phase = CodedCombo(Phase, none_label=self.tr("— choisissez —"))
        self.add_field(form, self.tr("&Nouvelle phase"), self.phase, names=("phase",), required=True,
                       check=lambda: self._transition("phase"))
        self.date = DateEdit(field="date")
        self.date.set_date(ctx.today)
        self.add_field(form, self.tr("&Date du changement"), self.date, names=("date",), required=True,
                       check=lambda: self._transition("date"))
        self.reason = QPlainTextEdit(tabChangesFocus=True, maximumHeight=100)
        self.reason_row = self.add_field(form, self.tr("&Raison"), self.reason, names=("reason",),
                                         check=lambda: self._transition("reason"))
        self.phase.currentIndexChanged.connect(lambda _index: self._phase_changed())
        self.finish(form)
        self.load(self._read, self._fill)

    def _read(self, session: Session) -> tuple[str, list[phases.PhaseStep]]:
        return project_values(session, self.project_id).title, phases.history(session, self.project_id)

    def _fill(self, loaded: tuple[str, list[phases.PhaseStep]]) -> None:
        title, self.steps = loaded
        if self.steps:
            last = self.steps[-1]
            self.current.setText(self.tr("{0} depuis le {1}").format(capitalised(last.phase),
                                                                     last.effective_date.strftime("%d/%m/%Y")))
            self.phase.set_members([p for p in Phase if p is not last.phase], none_label=self.tr("— choisissez —"))
        self.setWindowTitle(self.tr("Changer de phase – {0}").format(title))

    def reason_needed(self) -> bool:
        target = self.phase.value()
        return target is not None and phases.reason_needed(self.steps, target)

    def _phase_changed(self) -> None:
        needed = self.reason_needed()
        if needed != self.reason_row.required:
            self.reason_row.touched = needed or self.reason_row.touched
            self.set_required(self.reason_row, needed)

    def _transition(self, field: str) -> None:
        """The domain's own check of the move, reporting only the error about ``field``."""
        target = self.phase.value()
        try:
            date = self.date.parse()
        except ValidationError:
            if field == "date":
                raise
            return
        if target is None or date is None:
            return
        try:
            phases.check_transition(self.steps, target, date, self.reason.toPlainText().strip() or None,
                                    self.ctx.today)
        except UserFacingError as exc:
            if exc.field == field:
                raise

    def value(self) -> tuple[Phase, Any, str | None]:
        target, date = self.phase.value(), self.date.parse()
        if target is None or date is None:
            raise ValidationError(self.tr("Nouvelle phase : choisissez-la."), field="phase")
        return target, date, self.reason.toPlainText().strip() or None

    def operation(self) -> Callable[[Session, Actor], Any]:
        (target, date, reason), project_id, today = self.value(), self.project_id, self.ctx.today
        return lambda session, actor: phases.change_phase(session, actor, project_id, target, date=date,
                                                          reason=reason, today=today)
