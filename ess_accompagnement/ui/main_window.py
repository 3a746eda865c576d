"""The main window: for now, the list of projects with a search field.

The full desktop (project file, agenda, referrals…) grows from here; the list already follows the
architecture it will keep: a ``ProjectsTableModel`` fed by the query service, filtered and sorted
in SQL, never through a proxy (STYLE.md §4).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement.store.db import Database
from ess_accompagnement.ui.models.projects_model import Column, IdRole, ProjectsTableModel

logger = logging.getLogger(__name__)

SEARCH_DEBOUNCE_MS = 150
DEFAULT_SIZE = (1200, 760)
COLUMN_CHARS: dict[Column, int] = {
    Column.TITLE: 40,
    Column.HOLDERS: 32,
    Column.COMMUNE: 22,
    Column.PHASE: 20,
    Column.STATUS: 17,
    Column.STRUCTURE: 34,
    Column.LAST_ACTIVITY: 15,
}
"""Initial widths, in average characters; on first run the table's width is shared in these proportions."""

# Per-machine UI state (QSettings, INI). The typed settings module will declare these keys.
GEOMETRY_KEY = "ui_state/main_window/geometry"
HEADER_KEY = "ui_state/main_window/projects_header"


class MainWindow(QMainWindow):
    """The projects of one database, searchable and sortable."""

    # ---- Signals

    sig_project_activated = Signal(uuid.UUID)
    """A project row was activated (double-click or Enter), with the project's id."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._model = ProjectsTableModel(db, self)
        self._current_id: uuid.UUID | None = None
        self.setWindowTitle(self.tr("ESS Accompagnement — {name}").format(name=db.path.name))
        self._columns_fitted = False
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self.search_field = self._make_search_field()
        self.table = self._make_table()
        self.count_label = QLabel(self)
        self._build_layout()
        self._build_menus()
        self.statusBar().addWidget(self.count_label)
        self._connect()
        self._restore_state()
        self._update_count()
        logger.debug("main window opened")

    @property
    def model(self) -> ProjectsTableModel:
        return self._model

    # ---- Building

    def _make_search_field(self) -> QLineEdit:
        field = QLineEdit(self, clearButtonEnabled=True)
        field.setPlaceholderText(self.tr("Rechercher un projet, un porteur, une commune…"))
        field.setAccessibleName(self.tr("Rechercher un projet"))
        shortcut = QKeySequence(QKeySequence.StandardKey.Find).toString(QKeySequence.SequenceFormat.NativeText)
        field.setAccessibleDescription(
            self.tr("Filtre la liste à chaque frappe ; {shortcut} place le curseur ici.").format(shortcut=shortcut))
        return field

    def _make_table(self) -> QTableView:
        table = QTableView(self, alternatingRowColors=True, wordWrap=False, showGrid=False)
        table.setAccessibleName(self.tr("Liste des projets"))
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        rows = table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # one height for all rows: cheap on long lists
        rows.setDefaultSectionSize(table.fontMetrics().height() + 10)
        table.setModel(self._model)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)
        # Set the indicator first: enabling sorting sorts by it (and Qt 6 defaults to descending).
        header.setSortIndicator(self._model.sort_column, self._model.sort_order)
        table.setSortingEnabled(True)
        return table

    def _build_layout(self) -> None:
        label = QLabel(self.tr("&Rechercher :"), self)
        label.setBuddy(self.search_field)
        search_row = QHBoxLayout()
        search_row.addWidget(label)
        search_row.addWidget(self.search_field, 1)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addLayout(search_row)
        layout.addWidget(self.table, 1)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&Fichier"))
        quit_action = QAction(self.tr("&Quitter"), self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu(self.tr("É&dition"))
        self.find_action = QAction(self.tr("&Rechercher…"), self, shortcut=QKeySequence.StandardKey.Find)
        self.find_action.setStatusTip(self.tr("Placer le curseur dans le champ de recherche"))
        self.find_action.triggered.connect(self.focus_search)
        edit_menu.addAction(self.find_action)

    def _connect(self) -> None:
        self.search_field.textChanged.connect(self._search_timer.start)
        self.search_field.returnPressed.connect(self._on_search_return)
        self._search_timer.timeout.connect(self.apply_search)
        self._model.modelAboutToBeReset.connect(self._remember_current)
        self._model.modelReset.connect(self._on_model_reset)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._on_sort_indicator_changed)
        self.table.activated.connect(self._on_activated)

    # ---- Slots

    def focus_search(self) -> None:
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    def apply_search(self) -> None:
        """Filter the list by the search field's text (called after the debounce)."""
        self._search_timer.stop()
        text = self.search_field.text().strip()
        self._model.set_filter(dataclasses.replace(self._model.filter, search=text or None))

    def _on_search_return(self) -> None:
        self.apply_search()
        if self._model.rowCount() > 0:
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
            if not self.table.currentIndex().isValid():
                self.table.selectRow(0)

    def _on_sort_indicator_changed(self, column: int, _order: Qt.SortOrder) -> None:
        """Put the indicator back on the sorted column when a column SQL cannot sort is clicked."""
        if self._model.is_sortable(column):
            return
        header = self.table.horizontalHeader()
        blocked = header.blockSignals(True)
        header.setSortIndicator(self._model.sort_column, self._model.sort_order)
        header.blockSignals(blocked)

    def _on_activated(self, index: QModelIndex) -> None:
        project_id = index.data(IdRole)
        if project_id is not None:
            self.sig_project_activated.emit(project_id)

    def _remember_current(self) -> None:
        current = self.table.currentIndex()
        self._current_id = current.data(IdRole) if current.isValid() else None

    def _on_model_reset(self) -> None:
        self._update_count()
        row = self._model.row_of(self._current_id) if self._current_id is not None else None
        if row is not None:
            self.table.selectRow(row)
            self.table.scrollTo(self._model.index(row, 0))

    def _update_count(self) -> None:
        total = self._model.total
        number = self.locale().toString(total)
        text = self.tr("{n} projet").format(n=number) if total <= 1 else self.tr("{n} projets").format(n=number)
        self.count_label.setText(text)

    # ---- UI state

    def _restore_state(self) -> None:
        settings = QSettings()
        geometry = settings.value(GEOMETRY_KEY)
        if not isinstance(geometry, QByteArray) or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        header_state = settings.value(HEADER_KEY)
        header = self.table.horizontalHeader()
        # Restoring the header also restores its sort indicator, which re-sorts the model (in SQL).
        if isinstance(header_state, QByteArray) and header.restoreState(header_state):
            self._columns_fitted = True  # the user's widths win over the default proportions
            self._on_sort_indicator_changed(header.sortIndicatorSection(), header.sortIndicatorOrder())
        else:
            self._fit_columns()

    def _save_state(self) -> None:
        settings = QSettings()
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(HEADER_KEY, self.table.horizontalHeader().saveState())

    def _fit_columns(self) -> None:
        """Share the table's width between the columns in the proportions of COLUMN_CHARS."""
        char = self.table.fontMetrics().averageCharWidth()
        scale = max(float(char), self.table.viewport().width() / sum(COLUMN_CHARS.values()))
        header = self.table.horizontalHeader()
        for column, chars in COLUMN_CHARS.items():
            header.resizeSection(column, int(chars * scale))

    # ---- Qt overrides

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._columns_fitted:
            self._columns_fitted = True
            self._fit_columns()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_state()
        logger.debug("main window closed")
        super().closeEvent(event)
