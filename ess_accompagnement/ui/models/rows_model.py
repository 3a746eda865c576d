"""A table model over a short list of frozen rows (a project's appointments, the catalogue, referrals).

These lists hold tens or hundreds of rows, read whole by a query service; sorting and filtering go
through a ``QSortFilterProxyModel`` reading ``SortRole`` (ecosystem.md §1 row 9). Each subclass
declares its columns as ``Column`` specs: header (marked with QT_TRANSLATE_NOOP in the subclass's
context), display text, native sort value, alignment, tooltip. ``IdRole`` gives the row's id and
``RowRole`` the row itself, so a selection maps back through any proxy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

R = TypeVar("R")
ModelIndex = QModelIndex | QPersistentModelIndex

IdRole = Qt.ItemDataRole.UserRole + 1
"""The row's id (``uuid.UUID``)."""
SortRole = Qt.ItemDataRole.UserRole + 2
"""The cell's native value (date, amount, folded text), for the proxy's sorting."""
RowRole = Qt.ItemDataRole.UserRole + 3
"""The whole frozen row."""

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str
    display: Callable[[R], str]
    sort: Callable[[R], Any] | None = None
    right: bool = False
    tooltip: Callable[[R], str | None] | None = None


class RowsTableModel(QAbstractTableModel, Generic[R]):
    """Rows set whole with ``set_rows``; subclasses define CONTEXT, COLUMNS and may style rows."""

    CONTEXT: ClassVar[str] = "RowsTableModel"
    COLUMNS: ClassVar[Sequence[Column[Any]]] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []

    # ---- Public API

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    @property
    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def row_of(self, row_id: Any) -> int | None:
        for number, row in enumerate(self._rows):
            if getattr(row, "id", None) == row_id:
                return number
        return None

    # ---- Styling hooks (subclasses)

    def background(self, row: R) -> QColor | None:  # noqa: ARG002 - hook
        return None

    def foreground(self, row: R) -> QColor | None:  # noqa: ARG002 - hook
        return None

    def bold(self, row: R) -> bool:  # noqa: ARG002 - hook
        return False

    # ---- Qt overrides

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate(self.CONTEXT, self.COLUMNS[section].header)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if self.COLUMNS[section].right else LEFT
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(row)
        return self._other_role(row, column, role)

    def _other_role(self, row: R, column: Column[Any], role: int) -> Any:
        if role == SortRole:
            return column.sort(row) if column.sort is not None else column.display(row)
        if role == IdRole:
            return getattr(row, "id", None)
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(row) if column.tooltip is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column.right else LEFT
        if role == Qt.ItemDataRole.BackgroundRole:
            color = self.background(row)
            return QBrush(color) if color is not None else None
        if role == Qt.ItemDataRole.ForegroundRole:
            color = self.foreground(row)
            return QBrush(color) if color is not None else None
        if role == Qt.ItemDataRole.FontRole and self.bold(row):
            font = QFont()
            font.setBold(True)
            return font
        return None


def tr(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)
