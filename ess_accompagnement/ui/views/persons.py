"""Personnes: the project holders, searched (accent-insensitive) and sorted in SQL.

A ``PersonsTableModel`` (ids first, rows on demand); New person and Edit open ``PersonDialog``;
« Ouvrir le projet » opens the person's project (or lets the user pick one when there are several).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QMenu, QPushButton, QVBoxLayout, QWidget

from ess_accompagnement.domain.queries.persons import PersonFilter, PersonProject, person_projects
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.models.paged import IdRole
from ess_accompagnement.ui.models.persons_model import PersonColumn, PersonsTableModel
from ess_accompagnement.ui.ops import Query
from ess_accompagnement.ui.widgets.dialog_launcher import DialogFactory, launch, load_dialog
from ess_accompagnement.ui.widgets.filters import labelled
from ess_accompagnement.ui.widgets.lists import dense_table
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher
from ess_accompagnement.ui.widgets.tables import keep_sort_indicator_on_sql_columns

logger = logging.getLogger(__name__)

SEARCH_DEBOUNCE_MS = 150
COLUMN_CHARS = {PersonColumn.NAME: 30, PersonColumn.COMMUNE: 24, PersonColumn.EMAIL: 34, PersonColumn.PHONE: 16,
                PersonColumn.PROJECTS: 9, PersonColumn.CONSENT: 12}


class PersonsView(QWidget):
    """The persons list with its search field and actions."""

    # ---- Signals

    sig_open_project = Signal(object)
    """Open this project (« Ouvrir le projet »)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._columns_fitted = False
        self._current: uuid.UUID | None = None
        self.dialog_factory: DialogFactory = load_dialog
        self.model = PersonsTableModel(ctx.db, self)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self.search_field = QLineEdit(self, clearButtonEnabled=True)
        self.search_field.setPlaceholderText(self.tr("Nom, commune, courriel…"))
        self.search_field.setAccessibleName(self.tr("Rechercher une personne"))
        self.count_label = QLabel(self)
        self.table = dense_table(self, self.tr("Liste des personnes"))
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSortIndicator(self.model.sort_column, self.model.sort_order)
        self.table.setSortingEnabled(True)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.new_button = QPushButton(self.tr("&Nouvelle personne…"), self)
        self.edit_button = QPushButton(self.tr("&Modifier…"), self)
        self.project_button = QPushButton(self.tr("&Ouvrir le projet"), self)
        self.show_all_button = QPushButton(self.tr("&Toutes les personnes"), self, visible=False)
        self._build_layout()
        self._connect()
        self._update_count()
        self.watcher = ChangeWatcher(ctx, self, ("persons", "projects"), self.refresh)

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addLayout(labelled(self, self.tr("&Rechercher :"), self.search_field), 1)
        top.addSpacing(12)
        top.addWidget(self.count_label)
        top.addSpacing(12)
        for button in (self.show_all_button, self.new_button, self.edit_button, self.project_button):
            top.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def _connect(self) -> None:
        self.search_field.textChanged.connect(self._timer.start)
        self._timer.timeout.connect(self.apply_search)
        self.model.modelAboutToBeReset.connect(self._remember_current)
        self.model.modelReset.connect(self._on_model_reset)
        keep_sort_indicator_on_sql_columns(self.table, self.model)
        self.table.activated.connect(self._on_activated)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.new_button.clicked.connect(self.new_person)
        self.edit_button.clicked.connect(self.edit_current)
        self.project_button.clicked.connect(self.open_current_project)
        self.show_all_button.clicked.connect(self.show_all)
        self._update_buttons()

    # ---- Public API

    def refresh(self) -> None:
        self.model.refresh()

    def apply_search(self) -> None:
        self._timer.stop()
        text = self.search_field.text().strip()
        self.model.set_filter(dataclasses.replace(self.model.filter, search=text or None))

    def show_person(self, person_id: uuid.UUID) -> None:
        """Show only this person (from the global search), selected."""
        self.search_field.blockSignals(True)
        self.search_field.clear()
        self.search_field.blockSignals(False)
        self.model.set_filter(PersonFilter(person_id=person_id))
        self.show_all_button.setVisible(True)
        if self.model.rowCount():
            self.table.selectRow(0)
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_all(self) -> None:
        self.show_all_button.setVisible(False)
        self.model.set_filter(PersonFilter(search=self.search_field.text().strip() or None))

    def current_person_id(self) -> uuid.UUID | None:
        index = self.table.currentIndex()
        value = index.data(IdRole) if index.isValid() else None
        return value if isinstance(value, uuid.UUID) else None

    def new_person(self) -> None:
        launch(self.dialog_factory, "person", self._ctx, parent=self)

    def edit_current(self) -> None:
        person_id = self.current_person_id()
        if person_id is not None:
            launch(self.dialog_factory, "person", self._ctx, person_id, parent=self)

    def open_current_project(self) -> None:
        person_id = self.current_person_id()
        if person_id is None:
            return
        Query(self, lambda session: person_projects(session, person_id), ctx=self._ctx) \
            .success(self._open_one_of).run()

    # ---- Slots

    def _open_one_of(self, projects: list[PersonProject]) -> None:
        if len(projects) == 1:
            self.sig_open_project.emit(projects[0].id)
            return
        if not projects:
            self._status(self.tr("Cette personne ne participe à aucun projet."))
            return
        menu = QMenu(self)
        menu.setAccessibleName(self.tr("Projets de la personne"))
        for project in projects:
            action = QAction(project.title, menu)
            action.triggered.connect(lambda _checked=False, pid=project.id: self.sig_open_project.emit(pid))
            menu.addAction(action)
        menu.popup(QCursor.pos())

    def _on_activated(self, _index: QModelIndex) -> None:
        self.edit_current()

    def _context_menu(self, position: object) -> None:
        menu = QMenu(self)
        menu.addAction(self.tr("&Modifier…"), self.edit_current)
        menu.addAction(self.tr("&Ouvrir le projet"), self.open_current_project)
        menu.popup(self.table.viewport().mapToGlobal(position))

    def _update_buttons(self) -> None:
        has_current = self.current_person_id() is not None
        self.edit_button.setEnabled(has_current)
        self.project_button.setEnabled(has_current)


    def _remember_current(self) -> None:
        self._current = self.current_person_id()

    def _on_model_reset(self) -> None:
        self._update_count()
        row = self.model.row_of(self._current) if self._current is not None else None
        if row is not None:
            self.table.selectRow(row)
        self._update_buttons()

    def _update_count(self) -> None:
        total = self.model.total
        number = self.locale().toString(total)
        text = self.tr("{n} personne").format(n=number) if total <= 1 else self.tr("{n} personnes").format(n=number)
        self.count_label.setText(text)

    def _status(self, text: str) -> None:
        status = getattr(self.window(), "statusBar", None)
        if callable(status):
            status().showMessage(text, 8000)

    # ---- Qt overrides

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if not self._columns_fitted:
            self._columns_fitted = True
            QTimer.singleShot(0, self._fit_columns)  # once the layout gave the table its width

    def _fit_columns(self) -> None:
        char = self.table.fontMetrics().averageCharWidth()
        scale = max(float(char), self.table.viewport().width() / sum(COLUMN_CHARS.values()))
        for column, chars in COLUMN_CHARS.items():
            self.table.horizontalHeader().resizeSection(column, int(chars * scale))
