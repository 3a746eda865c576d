"""The global search's results, grouped by kind under a header row (« Projets », « Personnes »…)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QFont, QPalette

from ess_accompagnement.domain.queries.search import KINDS, SearchHit
from ess_accompagnement.ui.models.paged import IdRole

ModelIndex = QModelIndex | QPersistentModelIndex

HitRole = Qt.ItemDataRole.UserRole + 3
"""The ``SearchHit`` of a result row (None on a header row)."""

_CONTEXT = "SearchResultsModel"
GROUP_TITLES = {
    "project": QT_TRANSLATE_NOOP("SearchResultsModel", "Projets"),
    "person": QT_TRANSLATE_NOOP("SearchResultsModel", "Personnes"),
    "structure": QT_TRANSLATE_NOOP("SearchResultsModel", "Structures"),
}


class SearchResultsModel(QAbstractListModel):
    """Header rows (not selectable) and hit rows, projects first, then persons, then structures."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[SearchHit | str] = []  # a str is a group header: the kind
        self._bold = QFont()
        self._bold.setBold(True)

    def set_hits(self, hits: Sequence[SearchHit]) -> None:
        self.beginResetModel()
        self._rows = []
        for kind in KINDS:
            of_kind = [hit for hit in hits if hit.kind == kind]
            if of_kind:
                self._rows.append(kind)
                self._rows.extend(of_kind)
        self.endResetModel()

    def hit(self, row: int) -> SearchHit | None:
        value = self._rows[row] if 0 <= row < len(self._rows) else None
        return value if isinstance(value, SearchHit) else None

    def first_hit_row(self, start: int = 0, step: int = 1) -> int | None:
        """The first hit row from ``start`` going by ``step`` (skipping headers), or None."""
        row = start
        while 0 <= row < len(self._rows):
            if isinstance(self._rows[row], SearchHit):
                return row
            row += step
        return None

    # ---- Qt overrides

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        value = self._rows[index.row()]
        if isinstance(value, str):
            return self._header_data(value, role)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{value.title} — {value.detail}" if value.detail else value.title
        if role == IdRole:
            return value.id
        if role == HitRole:
            return value
        return None

    def _header_data(self, kind: str, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            count = sum(1 for row in self._rows if isinstance(row, SearchHit) and row.kind == kind)
            return f"{QCoreApplication.translate(_CONTEXT, GROUP_TITLES[kind])} ({count})"
        if role == Qt.ItemDataRole.FontRole:
            return self._bold
        if role == Qt.ItemDataRole.ForegroundRole:
            return QPalette().color(QPalette.ColorRole.Text)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if isinstance(self._rows[index.row()], str):
            return Qt.ItemFlag.ItemNeverHasChildren
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
