"""What every form dialog shares: labelled rows with an error line, live validation, Save, the one ``Op``.

A dialog subclasses ``FormDialog``, adds its inputs with ``add_field`` (label with mnemonic and
buddy, accessible name, a red error line under the input, the domain field names it answers to),
implements ``operation()`` (the use case to run, built from ``value()``), and calls ``finish()``.

- Each field's ``check`` parses its input with the domain's validators; the first ``UserFacingError``
  is shown under the field (once the user has touched it) and keeps Save disabled.
- Nothing is written until Save: ``save()`` runs ``operation()`` through ONE ``Op``. A refusal is
  shown under the field its ``exc.field`` names (until that field changes), or in the banner at the
  top; success emits ``sig_saved(id)`` and accepts the dialog.
- Loads run through ``Query`` (``load``); Save stays disabled until they have arrived.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Created
from ess_accompagnement.domain.errors import UserFacingError, ValidationError
from ess_accompagnement.ui.ops import Op, Query

if TYPE_CHECKING:
    from ess_accompagnement.ui.context import AppContext

logger = logging.getLogger(__name__)

ERROR_STYLE = "color: #b3261e;"
BANNER_STYLE = ("background: #fdecea; color: #8c1d18; border: 1px solid #f2b8b5; border-radius: 4px; "
                "padding: 8px;")
Check = Callable[[], object]
"""Parses a field's input; raises ``UserFacingError`` when it is wrong (its return value is ignored)."""


def plain(text: str) -> str:
    """A label's text without mnemonic, colon or required mark: its accessible name."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(" :*").strip()


def run_query(owner: QWidget, ctx: AppContext, fn: Callable[[Session], Any], callback: Callable[[Any], None]) -> None:
    """A ``Query`` whose result is dropped if ``owner`` was destroyed meanwhile (dialog closed)."""

    def deliver(result: Any) -> None:
        if shiboken6.isValid(owner):
            callback(result)

    Query(owner, fn, ctx=ctx).success(deliver).run()


@dataclass(eq=False)
class Row:
    """One input of the form, its label and its error line."""

    form: QFormLayout
    label: QLabel
    widget: QWidget
    error: QLabel
    text: str
    names: tuple[str, ...]
    check: Check | None
    required: bool
    touched: bool = False
    refusal: str | None = None
    extra_focus: list[QWidget] = field(default_factory=list)


class FormDialog(QDialog):
    """Base of the form dialogs (see the module docstring)."""

    # ---- Signals

    sig_saved = Signal(uuid.UUID)
    """Saved: the id of the created or edited record."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._rows: list[Row] = []
        self._focus_chain: list[QWidget] = []
        self._loading = 0
        self._filling = False
        self._busy = False
        self._subject_id: uuid.UUID | None = None
        self.banner = QLabel(self, objectName="form_banner", wordWrap=True, visible=False)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setAccessibleName(self.tr("Erreur"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button.setText(self.tr("&Enregistrer"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("&Annuler"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self._legend = QLabel(self.tr("* champ obligatoire"), self, visible=False)
        self._legend.setEnabled(False)
        self._outer = QVBoxLayout(self)
        self._outer.addWidget(self.banner)

    # ---- Building

    def set_title(self, title: str) -> None:
        self.setWindowTitle(title)
        self.setAccessibleName(title)

    @property
    def save_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def new_form(self) -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        return form

    def add_field(self, form: QFormLayout, text: str, widget: QWidget, *, names: Iterable[str] = (),
                  check: Check | None = None, required: bool = False) -> Row:
        """Add ``widget`` under the label ``text`` (« &Titre »); ``names`` are the domain's field names for it."""
        label = QLabel(text)
        label.setBuddy(widget)
        widget.setAccessibleName(plain(text))
        error = QLabel(wordWrap=True, visible=False)
        error.setStyleSheet(ERROR_STYLE)
        cell = QWidget()
        box = QVBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.setAlignment(Qt.AlignmentFlag.AlignTop)
        box.addWidget(widget)
        box.addWidget(error)
        form.addRow(label, cell)
        row = Row(form, label, widget, error, text, tuple(names), check, required)
        self._rows.append(row)
        self._focus_chain.append(widget)
        self._connect(row)
        self._show_required(row)
        return row

    def add_focusable(self, widget: QWidget) -> None:
        """A button or list that is not a field row, placed in the tab order after what was added before."""
        self._focus_chain.append(widget)

    def add_check(self, form: QFormLayout, text: str) -> QCheckBox:
        """A check box carrying its own label (« &Innovation sociale »), spanning the form's width."""
        box = QCheckBox(text)
        box.setAccessibleName(plain(text))
        form.addRow(box)
        self._focus_chain.append(box)
        return box

    def set_row_visible(self, row: Row, visible: bool) -> None:
        row.form.setRowVisible(row.label, visible)
        self.revalidate()

    def set_required(self, row: Row, required: bool) -> None:
        row.required = required
        self._show_required(row)
        self.revalidate()

    def finish(self, body: QWidget | QHBoxLayout | QFormLayout) -> None:
        """Lay the dialog out (banner, ``body``, legend and buttons), set the tab order, validate."""
        if isinstance(body, QWidget):
            self._outer.addWidget(body)
        else:
            self._outer.addLayout(body)
        bottom = QHBoxLayout()
        bottom.addWidget(self._legend)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        self._outer.addLayout(bottom)
        chain = [*self._focus_chain, self.save_button, self.buttons.button(QDialogButtonBox.StandardButton.Cancel)]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)
        if self._focus_chain:
            self._focus_chain[0].setFocus()
        self.revalidate()

    def _show_required(self, row: Row) -> None:
        row.label.setText(f"{row.text} *" if row.required else row.text)
        row.widget.setAccessibleDescription(self.tr("obligatoire") if row.required else "")
        self._legend.setVisible(any(r.required for r in self._rows))

    def _connect(self, row: Row) -> None:
        widget = row.widget
        signal = getattr(widget, "sig_changed", None)
        if signal is None:
            if isinstance(widget, QLineEdit):
                signal = widget.textChanged
            elif isinstance(widget, QPlainTextEdit | QTextEdit):
                signal = widget.textChanged
            elif isinstance(widget, QComboBox):
                signal = widget.currentIndexChanged
            elif isinstance(widget, QSpinBox):
                signal = widget.valueChanged
            elif isinstance(widget, QCheckBox | QAbstractButton):
                signal = widget.toggled
        if signal is not None:
            signal.connect(lambda *_args: self._edited(row))

    # ---- Validation

    def _edited(self, row: Row) -> None:
        row.touched = row.touched or not self._filling
        row.refusal = None
        self.revalidate()

    def revalidate(self) -> bool:
        """Check every field, show the messages of touched ones, enable Save when all is valid."""
        valid = True
        for row in self._rows:
            message = row.refusal or self._message(row)
            valid = valid and message is None
            shown = message if (row.touched or row.refusal) else None
            row.error.setText(shown or "")
            row.error.setVisible(shown is not None)
            row.widget.setAccessibleDescription(shown or (self.tr("obligatoire") if row.required else ""))
        valid = valid and self.form_valid()
        self.save_button.setEnabled(valid and not self._busy and self._loading == 0)
        return valid

    def _message(self, row: Row) -> str | None:
        if not row.widget.isEnabled() or not row.widget.isVisibleTo(self):
            return None
        try:
            if row.check is not None:
                row.check()
        except UserFacingError as exc:
            return exc.message  # the domain's own words first (« … indiquez-en la raison »)
        if row.required and not _has_input(row.widget):
            return self.tr("{0} : ce champ est obligatoire.").format(plain(row.text))
        return None

    def form_valid(self) -> bool:
        """Rules across fields (override); the rows are valid already."""
        return True

    def field_row(self, name: str | None) -> Row | None:
        """The row that answers to the domain field ``name``."""
        for row in self._rows:
            if name is not None and name in row.names and row.widget.isVisibleTo(self):
                return row
        return None

    # ---- Loading

    def load(self, fn: Callable[[Session], Any], callback: Callable[[Any], None]) -> None:
        """Read on the worker; Save stays disabled until ``callback`` has run with the result."""
        self._loading += 1
        self.revalidate()

        def done(result: Any) -> None:
            self._loading -= 1
            self._filling = True  # what the load writes into the fields is not the user's input
            try:
                callback(result)
            finally:
                self._filling = False
            self.revalidate()

        run_query(self, self.ctx, fn, done)

    # ---- Saving

    def operation(self) -> Callable[[Session, Actor], Any]:
        """The use case to run on Save, built from the form's values (override)."""
        raise NotImplementedError

    def save(self) -> None:
        if not self.revalidate():
            return
        try:
            fn = self.operation()
        except ValidationError as exc:
            self.show_refusal(exc)
            return
        self._busy = True
        self.banner.hide()
        self.revalidate()
        logger.debug("%s: saving", type(self).__name__)
        Op(self, fn, ctx=self.ctx).success(self._guard(self._saved)).failure(self._guard(self.show_refusal)).run()

    def _guard(self, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        return lambda result: callback(result) if shiboken6.isValid(self) else None

    def show_refusal(self, exc: UserFacingError) -> None:
        """Show a use case's refusal next to its field, else in the banner."""
        self._busy = False
        row = self.field_row(exc.field)
        if row is None:
            self.banner.setText(exc.message)
            self.banner.show()
        else:
            row.refusal = exc.message
            row.widget.setFocus()
        self.revalidate()

    def _saved(self, result: object) -> None:
        self._busy = False
        saved_id = result.id if isinstance(result, Created) else self._subject_id
        if saved_id is not None:
            self.sig_saved.emit(saved_id)
        self.accept()


def _has_input(widget: QWidget) -> bool:
    if isinstance(widget, QLineEdit):
        return bool(widget.text().strip())
    if isinstance(widget, QPlainTextEdit):
        return bool(widget.toPlainText().strip())
    if isinstance(widget, QTextEdit):
        return bool(widget.toPlainText().strip())
    if isinstance(widget, QComboBox):
        value = getattr(widget, "value", None)
        return value() is not None if value is not None else widget.currentIndex() >= 0
    return True
