"""Labelled filter combos: « Tous » first, then choices carrying their key (a code, a uuid hex…)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget


class FilterCombo(QComboBox):
    """A combo whose first entry means « no filter » (key None)."""

    def __init__(self, all_text: str, accessible_name: str, parent: QWidget | None = None,
                 min_chars: int = 12) -> None:
        super().__init__(parent)
        self._all_text = all_text
        self.setAccessibleName(accessible_name)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(min_chars)
        self.set_choices([])

    def set_choices(self, choices: Iterable[tuple[str, str]]) -> None:
        """Replace the entries by ``(key, label)`` pairs, keeping the current key when it is still offered."""
        current = self.key()
        blocked = self.blockSignals(True)
        self.clear()
        self.addItem(self._all_text, None)
        for key, label in choices:
            self.addItem(label, key)
            self.setItemData(self.count() - 1, label, role=3)  # ToolTipRole: long names
        index = self.findData(current) if current is not None else 0
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(blocked)
        if self.key() != current:
            self.currentIndexChanged.emit(self.currentIndex())

    def key(self) -> str | None:
        value = self.currentData()
        return value if isinstance(value, str) else None

    def set_key(self, key: str | None) -> None:
        index = self.findData(key) if key is not None else 0
        self.setCurrentIndex(max(index, 0))


def labelled(parent: QWidget, text: str, field: QWidget) -> QHBoxLayout:
    """« &Phase : [combo] » with the label as the field's buddy (mnemonic and accessible name)."""
    label = QLabel(text, parent)
    label.setBuddy(field)
    row = QHBoxLayout()
    row.setSpacing(4)
    row.addWidget(label)
    row.addWidget(field)
    return row
