"""The projects list: a table model over ``domain.queries.projects``, filtered and sorted in SQL.

Ids first, rows built a page at a time (``PagedTableModel``): 100 000 projects scroll smoothly.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from sqlalchemy.orm import Session

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
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.paged import IdRole, PagedTableModel, SortRole

logger = logging.getLogger(__name__)

__all__ = ["Column", "IdRole", "ProjectsTableModel", "SortRole"]

DATE_FORMAT = "%d/%m/%Y"


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
            return capitalised(row.phase)
        case Column.STATUS:
            return capitalised(row.status)
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


class ProjectsTableModel(PagedTableModel[ProjectFilter, ProjectRow]):
    """The projects matching a ``ProjectFilter``, in the order of a ``ProjectSort``."""

    def __init__(self, db: Database, parent: Any = None) -> None:
        super().__init__(db, ProjectFilter(), Column.TITLE, parent)
        self.refresh()

    @property
    def sort_column(self) -> Column:
        return Column(self._sort_column)

    def project_id(self, row: int) -> uuid.UUID | None:
        return self.id_at(row)

    # ---- PagedTableModel

    def count(self, session: Session, criteria: ProjectFilter) -> int:
        return count_projects(session, criteria)

    def ids(self, session: Session, criteria: ProjectFilter, column: int, descending: bool, limit: int,
            offset: int) -> list[uuid.UUID]:
        return project_ids(session, criteria, sort=SORTS[Column(column)], descending=descending, limit=limit,
                           offset=offset)

    def rows(self, session: Session, ids: list[uuid.UUID]) -> list[ProjectRow]:
        return project_rows(session, ids)

    def is_sortable(self, column: int) -> bool:
        return column in SORTS

    def cell(self, row: ProjectRow, column: int, role: int) -> Any:
        if role == SortRole:
            return sort_value(row, Column(column))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return None
        return display_text(row, Column(column))

    # ---- Qt overrides

    def columnCount(self, parent: Any = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return super().headerData(section, orientation, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate(_CONTEXT, HEADERS[Column(section)])
        return None
