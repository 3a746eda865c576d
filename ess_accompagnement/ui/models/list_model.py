"""Small in-memory table models: a few hundred rows already loaded by one ``Query``.

``RecordsTableModel`` shows a list of frozen rows (the home screen's sections) through a formatter
that turns one row into its French cells; ``IdRole`` gives the project the row belongs to.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ess_accompagnement.ui.models.paged import IdRole

ModelIndex = QModelIndex | QPersistentModelIndex
T = TypeVar("T")


class RecordsTableModel(QAbstractTableModel, Generic[T]):
    """Rows of ``T`` shown as text cells; ``project_of(row)`` is the id behind ``IdRole``."""

    def __init__(self, headers: Sequence[str], cells: Callable[[T], Sequence[str]],
                 project_of: Callable[[T], uuid.UUID], parent: Any = None) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._cells = cells
        self._project_of = project_of
        self._items: list[T] = []
        self._texts: list[Sequence[str]] = []

    def set_items(self, items: Sequence[T]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self._texts = [self._cells(item) for item in self._items]
        self.endResetModel()

    def item(self, row: int) -> T | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    # ---- Qt overrides

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._headers) \
                and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return super().headerData(section, orientation, role)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._texts[index.row()][index.column()]
        if role == IdRole:
            return self._project_of(self._items[index.row()])
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
