"""The edit form beside the catalogue: a structure's or a dispositif's contact, phases, support types, activity.

Nothing is written until « Enregistrer » (enabled once something changed); the use case
(``domain.catalogue_edit``) checks the values, and a refused value is shown under the form.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement.domain.catalogue_edit import DispositifEdit, StructureEdit
from ess_accompagnement.domain.codes import Phase, SupportType
from ess_accompagnement.domain.validation import format_phone
from ess_accompagnement.ui.labels import capitalised


def _phone_text(value: str | None) -> str:
    try:
        return format_phone(value) if value else ""
    except Exception:  # noqa: BLE001 - a malformed stored number is shown as it is
        return value or ""


class CodeChecks(QGroupBox):
    """One check box per code of an enum, in two columns."""

    def __init__(self, title: str, codes: type[Phase] | type[SupportType], parent: QWidget) -> None:
        super().__init__(title, parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setVerticalSpacing(2)
        self.boxes: dict[Any, QCheckBox] = {}
        for number, code in enumerate(codes):
            box = QCheckBox(capitalised(code), self, objectName=f"check_{code.value}")
            grid.addWidget(box, number // 2, number % 2)
            self.boxes[code] = box

    def set_values(self, values: tuple[Any, ...]) -> None:
        for code, box in self.boxes.items():
            box.setChecked(code in values)

    def values(self) -> tuple[Any, ...]:
        return tuple(code for code, box in self.boxes.items() if box.isChecked())


class CatalogueForm(QWidget):
    # ---- Signals

    sig_save = Signal(object, object)
    """Save (row id, ``StructureEdit`` or ``DispositifEdit``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row_id: uuid.UUID | None = None
        self.is_structure = True
        self._initial: Any = None
        self.heading = QLabel(self, objectName="form_heading", wordWrap=True)
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.heading.setFont(font)
        self.facts = QLabel(self, objectName="form_facts", wordWrap=True)
        self.facts.setStyleSheet("color: #475467;")
        self.name = QLineEdit(self, objectName="edit_name")
        self.short_name = QLineEdit(self, objectName="edit_short_name")
        self.email = QLineEdit(self, objectName="edit_email")
        self.phone = QLineEdit(self, objectName="edit_phone")
        self.website = QLineEdit(self, objectName="edit_website")
        self.targets = QPlainTextEdit(self, objectName="edit_targets")
        self.targets.setMaximumHeight(self.fontMetrics().height() * 4)
        self.phases = CodeChecks(self.tr("&Phases accompagnées"), Phase, self)
        self.supports = CodeChecks(self.tr("T&ypes d'appui"), SupportType, self)
        self.active = QCheckBox(self.tr("A&ctif (proposé dans les orientations)"), self, objectName="edit_active")
        self.error = QLabel(self, objectName="form_error", wordWrap=True)
        self.error.setStyleSheet("color: #B42318;")
        self.buttons = QDialogButtonBox(self)
        self.save_button = QPushButton(self.tr("&Enregistrer"), self, objectName="save_button")
        self.reset_button = QPushButton(self.tr("Annu&ler les modifications"), self, objectName="reset_button")
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.reset_button, QDialogButtonBox.ButtonRole.ResetRole)
        self._layout()
        self._connect()
        self.setEnabled(False)

    def _layout(self) -> None:
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, field in ((self.tr("&Nom :"), self.name), (self.tr("&Sigle :"), self.short_name),
                            (self.tr("Co&urriel :"), self.email), (self.tr("&Téléphone :"), self.phone),
                            (self.tr("Site &web :"), self.website), (self.tr("P&ublics visés :"), self.targets)):
            self.form.addRow(text, field)
            field.setAccessibleName(text.replace("&", "").rstrip(" :"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.heading)
        layout.addWidget(self.facts)
        layout.addLayout(self.form)
        layout.addWidget(self.phases)
        layout.addWidget(self.supports)
        layout.addWidget(self.active)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def _connect(self) -> None:
        for field in (self.name, self.short_name, self.email, self.phone, self.website):
            field.textChanged.connect(self._on_edited)
        self.targets.textChanged.connect(self._on_edited)
        self.active.toggled.connect(self._on_edited)
        for box in (*self.phases.boxes.values(), *self.supports.boxes.values()):
            box.toggled.connect(self._on_edited)
        self.save_button.clicked.connect(self._on_save)
        self.reset_button.clicked.connect(self._reset)

    # ---- Public API

    def show_structure(self, row_id: uuid.UUID, values: StructureEdit, facts: str) -> None:
        self.row_id, self.is_structure, self._initial = row_id, True, values
        for field in (self.short_name, self.email, self.phone, self.website):
            self._set_row_visible(field, True)
        self._set_row_visible(self.targets, False)
        self._show_facts(values.name, facts)
        self._reset()

    def show_dispositif(self, row_id: uuid.UUID, values: DispositifEdit, facts: str) -> None:
        self.row_id, self.is_structure, self._initial = row_id, False, values
        for field in (self.short_name, self.email, self.phone, self.website):
            self._set_row_visible(field, False)
        self._set_row_visible(self.targets, True)
        self._show_facts(values.name, facts)
        self._reset()

    def value(self) -> StructureEdit | DispositifEdit:
        if self.is_structure:
            return StructureEdit(self.name.text(), self.short_name.text() or None, self.email.text() or None,
                                 self._phone_value(), self.website.text() or None, self.phases.values(),
                                 self.supports.values(), self.active.isChecked())
        return DispositifEdit(self.name.text(), self.targets.toPlainText() or None, self.phases.values(),
                              self.supports.values(), self.active.isChecked())

    def show_error(self, message: str) -> None:
        self.error.setText(message)

    def saved(self) -> None:
        self._initial = self.value()
        self.error.setText(self.tr("Modifications enregistrées."))
        self.error.setStyleSheet("color: #027A48;")
        self.save_button.setEnabled(False)

    # ---- Helpers

    def _phone_value(self) -> str | None:
        """The stored number when the field still shows it, so an untouched phone is not rewritten."""
        text = self.phone.text().strip()
        initial = self._initial.phone if isinstance(self._initial, StructureEdit) else None
        return initial if initial and text == _phone_text(initial) else (text or None)

    def _set_row_visible(self, field: QWidget, visible: bool) -> None:
        self.form.setRowVisible(field, visible)

    def _show_facts(self, title: str, facts: str) -> None:
        self.heading.setText(title)
        self.facts.setText(facts)
        self.setEnabled(True)

    def _reset(self) -> None:
        v = self._initial
        if v is None:
            return
        self.name.setText(v.name)
        if isinstance(v, StructureEdit):
            self.short_name.setText(v.short_name or "")
            self.email.setText(v.email or "")
            self.phone.setText(_phone_text(v.phone))
            self.website.setText(v.website or "")
        else:
            self.targets.setPlainText(v.targets or "")
        self.phases.set_values(v.phases)
        self.supports.set_values(v.support_types)
        self.active.setChecked(v.active)
        self.error.clear()
        self.save_button.setEnabled(False)

    def _on_edited(self, *_args: Any) -> None:
        if self._initial is None:
            return
        changed = self.value() != self._initial
        valid = bool(self.name.text().strip())
        self.save_button.setEnabled(changed and valid)
        self.error.setStyleSheet("color: #B42318;")
        self.error.setText("" if valid else self.tr("Nom : ce champ est obligatoire."))

    def _on_save(self) -> None:
        if self.row_id is not None:
            self.error.clear()
            self.sig_save.emit(self.row_id, self.value())

