"""A table model over a long SQL list: ordered ids first, rows built a page at a time (``fetchMore``).

A subclass says how to count, order and build its rows (``count``, ``ids``, ``rows``, from a domain
query service) and how to show a cell; this base keeps the ordered ids of the rows matching the
current filter and sort, loads ids in chunks and builds rows only for the pages the view reaches,
keeping a bounded cache of built pages (an evicted page is rebuilt when shown again). A 100 000-row
list costs one count and a few thousand ids up front.

The queries run on the GUI thread, in short ``Database.read()`` sessions: each one is an indexed
count or a keyed page of ids, measured in milliseconds on the 100 000-project benchmark database
(benchmarks/bench_desktop.py). Loads that can take longer go through ``Query`` on the worker.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from sqlalchemy.orm import Session

from ess_accompagnement.store.db import Database

logger = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex
F = TypeVar("F")  # the filter
R = TypeVar("R")  # the built row

PAGE_SIZE = 200
"""Rows built and shown by one ``fetchMore``."""
ID_CHUNK = 5000
"""Ids read by one query while scrolling (a multiple of PAGE_SIZE)."""
FIRST_IDS = 1000
"""Ids read with the count after a filter or sort change: enough for the first screens, cheap per keystroke."""
MAX_CACHED_PAGES = 50
"""Built pages kept in memory (50 pages = 10 000 rows); older pages are rebuilt when shown again."""

IdRole = Qt.ItemDataRole.UserRole + 1
"""The row's id (``uuid.UUID``), so a selection maps back to the record through any proxy."""
SortRole = Qt.ItemDataRole.UserRole + 2
"""The cell's native value (folded text, enum rank, ``datetime.date``), not its display text."""


class PagedTableModel(QAbstractTableModel, Generic[F, R]):
    """Rows matching a filter ``F``, sorted in SQL, built as ``R`` values on demand."""

    def __init__(self, db: Database, criteria: F, sort_column: int, parent: Any = None) -> None:
        super().__init__(parent)
        self._db = db
        self._filter = criteria
        self._sort_column = sort_column
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._total = 0
        self._ids: list[uuid.UUID] = []
        self._shown = 0
        self._pages: OrderedDict[int, list[R | None]] = OrderedDict()
        self._fetching = False  # a view (or Qt's model tester) may ask for more from inside rowsAboutToBeInserted

    # ---- To implement

    def count(self, session: Session, criteria: F) -> int:
        raise NotImplementedError

    def ids(self, session: Session, criteria: F, column: int, descending: bool, limit: int,
            offset: int) -> list[uuid.UUID]:
        raise NotImplementedError

    def rows(self, session: Session, ids: list[uuid.UUID]) -> list[R]:
        raise NotImplementedError

    def row_id(self, row: R) -> uuid.UUID:
        return row.id  # type: ignore[attr-defined, no-any-return]

    def cell(self, row: R, column: int, role: int) -> Any:
        raise NotImplementedError

    def is_sortable(self, column: int) -> bool:
        raise NotImplementedError

    # ---- Public API

    @property
    def filter(self) -> F:
        return self._filter

    @property
    def total(self) -> int:
        """How many rows match the filter (``rowCount`` only counts the rows fetched so far)."""
        return self._total

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    def set_filter(self, criteria: F) -> None:
        """Show the rows matching ``criteria``, keeping the sort."""
        if criteria == self._filter:
            return
        self._filter = criteria
        self._reload(PAGE_SIZE)

    def refresh(self) -> None:
        """Re-read the database, keeping the filter, the sort and how far the list was fetched."""
        self._reload(max(self._shown, PAGE_SIZE))

    def id_at(self, row: int) -> uuid.UUID | None:
        return self._ids[row] if 0 <= row < self._shown else None

    def row_of(self, row_id: uuid.UUID) -> int | None:
        """The row showing ``row_id``, if it is among the rows fetched so far."""
        try:
            return self._ids.index(row_id, 0, self._shown)
        except ValueError:
            return None

    def built_row(self, row: int) -> R | None:
        return self._row(row) if 0 <= row < self._shown else None

    # ---- Qt overrides

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._shown

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._shown:
            return None
        if role == IdRole:
            return self._ids[index.row()]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, SortRole,
                        Qt.ItemDataRole.TextAlignmentRole):
            return None
        row = self._row(index.row())
        return None if row is None else self.cell(row, index.column(), role)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def canFetchMore(self, parent: ModelIndex) -> bool:
        return not parent.isValid() and self._shown < self._total

    def fetchMore(self, parent: ModelIndex) -> None:
        if self._fetching or not self.canFetchMore(parent):
            return
        wanted = min(self._shown + PAGE_SIZE, self._total)
        self._load_ids(wanted)
        wanted = min(wanted, len(self._ids))
        if wanted <= self._shown:
            return
        self._fetching = True
        try:
            self.beginInsertRows(QModelIndex(), self._shown, wanted - 1)
            self._shown = wanted
            self.endInsertRows()
        finally:
            self._fetching = False

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not self.is_sortable(column):
            logger.debug("%s: column %d is not sortable, sort kept", type(self).__name__, column)
            return
        if (column, order) == (self._sort_column, self._sort_order):
            return
        self._sort_column = column
        self._sort_order = order
        self._reload(max(self._shown, PAGE_SIZE))

    # ---- Loading

    def _reload(self, rows: int) -> None:
        """Re-read the count and the first ids (in one read, so they agree), and show up to ``rows`` rows."""
        self.beginResetModel()
        try:
            with self._db.read() as session:
                total = self.count(session, self._filter)
                ids = self._query_ids(session, 0, max(FIRST_IDS, min(rows, total)))
            self._total, self._ids, self._shown = total, ids, 0
            self._pages.clear()
            self._load_ids(min(rows, total))
            self._shown = min(rows, len(self._ids))
        finally:
            self.endResetModel()
        logger.debug("%s: %d matching, sorted by column %d", type(self).__name__, self._total, self._sort_column)

    def _query_ids(self, session: Session, offset: int, limit: int) -> list[uuid.UUID]:
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        return self.ids(session, self._filter, self._sort_column, descending, limit, offset)

    def _load_ids(self, wanted: int) -> None:
        """Read more ids until ``wanted`` are known (or the list is exhausted)."""
        while len(self._ids) < min(wanted, self._total):
            with self._db.read() as session:
                chunk = self._query_ids(session, len(self._ids), ID_CHUNK)
            known = set(self._ids)
            fresh = [i for i in chunk if i not in known]  # rows inserted meanwhile can shift the offsets
            if not fresh:
                self._total = len(self._ids)  # rows deleted meanwhile: stop here until the next refresh
                return
            self._ids.extend(fresh)

    def _row(self, row: int) -> R | None:
        """The built row at ``row``, building its whole page when it is not cached."""
        page = row // PAGE_SIZE
        rows = self._pages.get(page)
        if rows is None:
            rows = self._build_page(page)
        else:
            self._pages.move_to_end(page)
        return rows[row - page * PAGE_SIZE]

    def _build_page(self, page: int) -> list[R | None]:
        ids = self._ids[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        with self._db.read() as session:
            by_id = {self.row_id(built): built for built in self.rows(session, ids)}
        rows: list[R | None] = [by_id.get(i) for i in ids]  # None: deleted since the ids were read
        self._pages[page] = rows
        while len(self._pages) > MAX_CACHED_PAGES:
            self._pages.popitem(last=False)
        return rows

