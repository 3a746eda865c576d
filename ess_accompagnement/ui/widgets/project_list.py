"""« Voir les projets »: the projects behind a figure, in a small dialog; double-click opens one."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ess_accompagnement.domain.queries.projects import ProjectRow, project_rows
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.labels import label
from ess_accompagnement.ui.ops import Query

logger = logging.getLogger(__name__)

MAX_LISTED = 1000
"""Rows loaded in the dialog; a bigger figure says how many more there are (the CLI lists them all)."""
_CHUNK = 500  # ids per SQL statement (SQLite's bound parameters)
IdRole = Qt.ItemDataRole.UserRole + 1

_HEADERS = ("Titre", "Porteurs", "Commune", "Phase actuelle", "Statut", "Structure référente")


def load_rows(session: Session, ids: Sequence[uuid.UUID]) -> list[ProjectRow]:
    """The list rows of the first MAX_LISTED ids, in their order."""
    wanted = list(ids[:MAX_LISTED])
    rows: list[ProjectRow] = []
    for start in range(0, len(wanted), _CHUNK):
        rows += project_rows(session, wanted[start:start + _CHUNK])
    return rows


class ProjectRowsModel(QAbstractTableModel):
    """Read-only rows of a few projects (at most MAX_LISTED), with their ids under IdRole."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ProjectRow] = []

    def set_rows(self, rows: list[ProjectRow]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(_HEADERS):
            return super().headerData(section, orientation, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate("ProjectList", _HEADERS[section])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == IdRole:
            return row.id
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (row.title, row.holders, row.commune or "", label(row.phase), label(row.status),
                row.lead_structure)[index.column()]


class ProjectListDialog(QDialog):
    """The projects a figure counts; double-click (or Enter) on one emits ``sig_open_project``."""

    # ---- Signals

    sig_open_project = Signal(uuid.UUID)
    """A project of the list was activated, with its id."""

    def __init__(self, ctx: AppContext, title: str, ids: Sequence[uuid.UUID], parent: QWidget | None = None) -> None:
        super().__init__(parent, windowTitle=title)
        self._ctx, self._ids = ctx, ids
        self.model = ProjectRowsModel(self)
        self.table = QTableView(self, alternatingRowColors=True, showGrid=False, wordWrap=False)
        self.table.setModel(self.model)
        self.table.setAccessibleName(title)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.activated.connect(self._on_activated)
        self.count_label = QLabel(self._count_text(), self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.count_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(980, 520)
        Query(self, lambda session: load_rows(session, ids), ctx=ctx).success(self._on_loaded).run()

    def _count_text(self) -> str:
        total = self.locale().toString(len(self._ids))
        if len(self._ids) > MAX_LISTED:
            return self.tr("{total} projets ; les {n} premiers sont listés (la commande « ess-acc indicators "
                           "--explain » les donne tous).").format(total=total, n=self.locale().toString(MAX_LISTED))
        if len(self._ids) == 1:
            return self.tr("1 projet. Double-cliquez pour l'ouvrir.")
        return self.tr("{total} projets. Double-cliquez sur un projet pour l'ouvrir.").format(total=total)

    def _on_loaded(self, rows: list[ProjectRow]) -> None:
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        for column in range(self.model.columnCount()):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 260))

    def _on_activated(self, index: QModelIndex) -> None:
        project_id = index.data(IdRole)
        if project_id is not None:
            logger.debug("project %s opened from a figure", project_id.hex[:8])
            self.sig_open_project.emit(project_id)
