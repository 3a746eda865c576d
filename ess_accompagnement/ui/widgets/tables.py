"""Dense read-only tables over ``RowsTableModel``s, sorted by ``SortRole`` through a proxy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from ess_accompagnement.ui.models.rows_model import RowRole, SortRole


class SortProxy(QSortFilterProxyModel):
    """Sorts on native values; an optional ``accepts(row) -> bool`` filters rows (small lists only)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SortRole)
        self.setSortLocaleAware(True)
        self._accepts: Any = None

    def set_accepts(self, accepts: Any) -> None:
        self.beginFilterChange()
        self._accepts = accepts
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:  # type: ignore[override]
        if self._accepts is None:
            return True
        row = self.sourceModel().index(source_row, 0, source_parent).data(RowRole)
        return bool(self._accepts(row))

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:  # type: ignore[override]
        a, b = left.data(SortRole), right.data(SortRole)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


def make_table(parent: QWidget, model: Any, name: str, *, sort_column: int | None = None,
               descending: bool = False) -> QTableView:
    """A row-selecting, sortable table showing ``model`` through a ``SortProxy``."""
    proxy = SortProxy(parent)
    proxy.setSourceModel(model)
    table = QTableView(parent, alternatingRowColors=True, wordWrap=False, showGrid=False, objectName=name)
    table.setModel(proxy)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    rows = table.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(table.fontMetrics().height() + 8)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    if sort_column is not None:
        header.setSortIndicator(sort_column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
    table.setSortingEnabled(True)
    return table


def proxy_of(table: QTableView) -> SortProxy:
    return table.model()  # type: ignore[return-value]


def current_row(table: QTableView) -> Any:
    """The frozen row under the table's current index, or None."""
    index = table.currentIndex()
    return index.data(RowRole) if index.isValid() else None


def fit_columns(table: QTableView, widths: dict[int, int]) -> None:
    """Column widths in average characters (the last column stretches)."""
    metrics = table.fontMetrics()
    char = max(metrics.averageCharWidth(), metrics.horizontalAdvance("0")) * 1.1
    for column, chars in widths.items():
        table.horizontalHeader().resizeSection(column, int(chars * char))


def wrap_rows(table: QTableView) -> None:
    """Multi-line cells: rows as tall as their content (short tables only)."""
    table.setWordWrap(True)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)


def keep_sort_indicator_on_sql_columns(table: QTableView, model: Any) -> Callable[[int, Qt.SortOrder], None]:
    """A paged model sorts in SQL, on some columns only (``model.is_sortable``): clicking another column's header
    leaves the rows as they are, so the indicator goes back to the column the rows are sorted by. Returns the
    check, for an indicator set without the signal (a restored header state)."""
    header = table.horizontalHeader()

    def restore(column: int, _order: Qt.SortOrder) -> None:
        if model.is_sortable(column):
            return
        blocked = header.blockSignals(True)
        header.setSortIndicator(model.sort_column, model.sort_order)
        header.blockSignals(blocked)

    header.sortIndicatorChanged.connect(restore)
    return restore
