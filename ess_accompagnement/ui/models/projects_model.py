"""The projects list: a table model over ``domain.queries.projects``, filtered and sorted in SQL.

The model keeps the ordered ids of the projects matching the current filter and sort, and builds
``ProjectRow`` values only for the rows the view reaches, a page at a time (``fetchMore``). Ids are
themselves loaded in chunks, so a 100 000-project database costs one count and a few thousand ids up
front, not the whole list. Built rows sit in a bounded cache; an evicted page is rebuilt when shown.

The queries run here, on the GUI thread, in short ``Database.read()`` sessions. A later issue moves
them to the single database worker thread (STYLE.md §3, ``Query(...)``); the model's public methods
(``set_filter``, ``sort``, ``refresh``) stay the same.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import OrderedDict
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from ess_accompagnement.domain.codes import Phase, ProjectStatus
from ess_accompagnement.domain.queries.projects import (
    ProjectFilter,
    ProjectRow,
    ProjectSort,
    count_projects,
    project_ids,
    project_rows,
)
from ess_accompagnement.store.db import Database

logger = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex

PAGE_SIZE = 200
"""Rows built and shown by one ``fetchMore``."""
ID_CHUNK = 5000
"""Ids read by one query (a multiple of PAGE_SIZE)."""
MAX_CACHED_PAGES = 50
"""Built rows kept in memory (50 pages = 10 000 rows); older pages are rebuilt when shown again."""
DATE_FORMAT = "%d/%m/%Y"

IdRole = Qt.ItemDataRole.UserRole + 1
"""The row's project id (``uuid.UUID``), so a selection maps back to the project through any proxy."""
SortRole = Qt.ItemDataRole.UserRole + 2
"""The cell's native value (folded text, enum rank, ``datetime.date``), not its display text."""


class Column(IntEnum):
    TITLE = 0
    HOLDERS = 1
    COMMUNE = 2
    PHASE = 3
    STATUS = 4
    STRUCTURE = 5
    LAST_ACTIVITY = 6


_CONTEXT = "ProjectsTableModel"
HEADERS: dict[Column, str] = {
    Column.TITLE: QT_TRANSLATE_NOOP("ProjectsTableModel", "Titre"),
    Column.HOLDERS: QT_TRANSLATE_NOOP("ProjectsTableModel", "Porteurs"),
    Column.COMMUNE: QT_TRANSLATE_NOOP("ProjectsTableModel", "Commune"),
    Column.PHASE: QT_TRANSLATE_NOOP("ProjectsTableModel", "Phase"),
    Column.STATUS: QT_TRANSLATE_NOOP("ProjectsTableModel", "Statut"),
    Column.STRUCTURE: QT_TRANSLATE_NOOP("ProjectsTableModel", "Structure"),
    Column.LAST_ACTIVITY: QT_TRANSLATE_NOOP("ProjectsTableModel", "Dernière activité"),
}
SORTS: dict[Column, ProjectSort] = {
    Column.TITLE: ProjectSort.TITLE,
    Column.COMMUNE: ProjectSort.COMMUNE,
    Column.PHASE: ProjectSort.PHASE,
    Column.STATUS: ProjectSort.STATUS,
    Column.STRUCTURE: ProjectSort.STRUCTURE,
    Column.LAST_ACTIVITY: ProjectSort.LAST_ACTIVITY,
}
"""The columns SQL can sort on (not the holders: a project has several)."""
_PHASE_RANK = {phase: rank for rank, phase in enumerate(Phase)}
_STATUS_RANK = {status: rank for rank, status in enumerate(ProjectStatus)}


def cell_label(label: str) -> str:
    """A domain label as a table cell shows it: « changement d'échelle » → « Changement d'échelle »."""
    return label[:1].upper() + label[1:]


def display_text(row: ProjectRow, column: Column) -> str:
    """The French text of one cell."""
    match column:
        case Column.TITLE:
            return row.title
        case Column.HOLDERS:
            return row.holders
        case Column.COMMUNE:
            return row.commune or ""
        case Column.PHASE:
            return cell_label(row.phase.label) if row.phase is not None else ""
        case Column.STATUS:
            return cell_label(row.status.label)
        case Column.STRUCTURE:
            return row.lead_structure
        case Column.LAST_ACTIVITY:
            return row.last_activity.strftime(DATE_FORMAT) if row.last_activity is not None else ""


def sort_value(row: ProjectRow, column: Column) -> str | int | dt.date | None:
    """The native value of one cell, for ``SortRole``."""
    match column:
        case Column.PHASE:
            return _PHASE_RANK[row.phase] if row.phase is not None else None
        case Column.STATUS:
            return _STATUS_RANK[row.status]
        case Column.LAST_ACTIVITY:
            return row.last_activity
        case _:
            return display_text(row, column).casefold()


class ProjectsTableModel(QAbstractTableModel):
    """The projects matching a ``ProjectFilter``, in the order of a ``ProjectSort``."""

    def __init__(self, db: Database, parent: Any = None) -> None:
        super().__init__(parent)
        self._db = db
        self._filter = ProjectFilter()
        self._sort_column = Column.TITLE
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._total = 0
        self._ids: list[uuid.UUID] = []
        self._shown = 0
        self._pages: OrderedDict[int, list[ProjectRow | None]] = OrderedDict()
        self._reload(PAGE_SIZE)

    # ---- Public API

    @property
    def filter(self) -> ProjectFilter:
        return self._filter

    @property
    def total(self) -> int:
        """How many projects match the filter (``rowCount`` only counts the rows fetched so far)."""
        return self._total

    @property
    def sort_column(self) -> Column:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    def set_filter(self, criteria: ProjectFilter) -> None:
        """Show the projects matching ``criteria``, keeping the sort."""
        if criteria == self._filter:
            return
        self._filter = criteria
        self._reload(PAGE_SIZE)

    def refresh(self) -> None:
        """Re-read the database, keeping the filter, the sort and how far the list was fetched."""
        self._reload(max(self._shown, PAGE_SIZE))

    @staticmethod
    def is_sortable(column: int) -> bool:
        return column in SORTS

    def project_id(self, row: int) -> uuid.UUID | None:
        return self._ids[row] if 0 <= row < self._shown else None

    def row_of(self, project_id: uuid.UUID) -> int | None:
        """The row showing ``project_id``, if it is among the rows fetched so far."""
        try:
            row = self._ids.index(project_id, 0, self._shown)
        except ValueError:
            return None
        return row

    # ---- Qt overrides

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return super().headerData(section, orientation, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate(_CONTEXT, HEADERS[Column(section)])
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._shown:
            return None
        row = self._row(index.row())
        if row is None:
            return None
        column = Column(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return display_text(row, column)
        if role == IdRole:
            return row.id
        if role == SortRole:
            return sort_value(row, column)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def canFetchMore(self, parent: ModelIndex) -> bool:
        return not parent.isValid() and self._shown < self._total

    def fetchMore(self, parent: ModelIndex) -> None:
        if not self.canFetchMore(parent):
            return
        wanted = min(self._shown + PAGE_SIZE, self._total)
        self._load_ids(wanted)
        wanted = min(wanted, len(self._ids))
        if wanted <= self._shown:
            return
        self.beginInsertRows(QModelIndex(), self._shown, wanted - 1)
        self._shown = wanted
        self.endInsertRows()
        logger.debug("projects: %d of %d rows fetched", self._shown, self._total)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not self.is_sortable(column):
            logger.debug("projects: column %d is not sortable, sort kept", column)
            return
        if (column, order) == (self._sort_column, self._sort_order):
            return
        self._sort_column = Column(column)
        self._sort_order = order
        self._reload(max(self._shown, PAGE_SIZE))

    # ---- Loading

    def _reload(self, rows: int) -> None:
        """Re-read the count and the first ids, and show up to ``rows`` rows.

        The count and the first chunk of ids come from one read, so they agree with each other.
        """
        self.beginResetModel()
        try:
            with self._db.read() as session:
                total = count_projects(session, self._filter)
                ids = self._query_ids(session, 0, _chunked(min(rows, total)))
            self._total, self._ids, self._shown = total, ids, 0
            self._pages.clear()
            self._load_ids(min(rows, total))
            self._shown = min(rows, len(self._ids))
        finally:
            self.endResetModel()
        logger.debug("projects: %d matching, sorted by %s %s", self._total, SORTS[self._sort_column].value,
                      "desc" if self._descending else "asc")

    @property
    def _descending(self) -> bool:
        return self._sort_order == Qt.SortOrder.DescendingOrder

    def _query_ids(self, session: Any, offset: int, limit: int) -> list[uuid.UUID]:
        return project_ids(session, self._filter, sort=SORTS[self._sort_column], descending=self._descending,
                           limit=limit, offset=offset)

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

    def _row(self, row: int) -> ProjectRow | None:
        """The built row at ``row``, building its whole page when it is not cached."""
        page = row // PAGE_SIZE
        rows = self._pages.get(page)
        if rows is None:
            rows = self._build_page(page)
        else:
            self._pages.move_to_end(page)
        return rows[row - page * PAGE_SIZE]

    def _build_page(self, page: int) -> list[ProjectRow | None]:
        ids = self._ids[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        with self._db.read() as session:
            by_id = {built.id: built for built in project_rows(session, ids)}
        rows: list[ProjectRow | None] = [by_id.get(i) for i in ids]  # None: deleted since the ids were read
        self._pages[page] = rows
        while len(self._pages) > MAX_CACHED_PAGES:
            self._pages.popitem(last=False)
        logger.debug("projects: page %d built (%d rows)", page, len(ids))
        return rows


def _chunked(rows: int) -> int:
    """The number of ids to read for ``rows`` rows: whole chunks, so later reads stay aligned."""
    return max(ID_CHUNK, -(-rows // ID_CHUNK) * ID_CHUNK)
