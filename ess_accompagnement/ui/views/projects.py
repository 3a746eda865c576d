"""Projets: every project, filtered (phase, status, structure, advisor, département, EPCI, text) and sorted in SQL.

The table is a ``ProjectsTableModel`` (ids first, rows a page at a time), so 100 000 projects scroll
smoothly. Filters and selection survive a refresh. Selected projects can be printed as summaries for
a committee; the list can be exported (XLSX or CSV).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement.domain.codes import Phase, ProjectStatus
from ess_accompagnement.domain.queries.choices import FilterChoices, filter_choices, parse_uuid
from ess_accompagnement.domain.queries.projects import ProjectFilter
from ess_accompagnement.reports.exports import ExportKind
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.projects_model import Column, IdRole, ProjectsTableModel
from ess_accompagnement.ui.ops import Query
from ess_accompagnement.ui.widgets.dialog_launcher import DialogFactory, launch, load_dialog
from ess_accompagnement.ui.widgets.export import export_to_file
from ess_accompagnement.ui.widgets.filters import FilterCombo, labelled
from ess_accompagnement.ui.widgets.lists import dense_table
from ess_accompagnement.ui.widgets.long_task import LongTask
from ess_accompagnement.ui.widgets.print_summaries import print_summaries
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher
from ess_accompagnement.ui.widgets.tables import keep_sort_indicator_on_sql_columns

logger = logging.getLogger(__name__)

SEARCH_DEBOUNCE_MS = 150
COLUMN_CHARS: dict[Column, int] = {
    Column.TITLE: 34, Column.HOLDERS: 26, Column.COMMUNE: 18, Column.PHASE: 21, Column.STATUS: 17,
    Column.STRUCTURE: 30, Column.LAST_ACTIVITY: 15,
}
"""Initial widths, in average characters; on first show the table's width is shared in these proportions."""
HEADER_KEY = "ui_state/projects/header"
WATCHED_CHANGES = ("projects", "persons", "phases", "appointments", "referrals", "financing", "notes", "advisors")


class ProjectsView(QWidget):
    """The projects list with its filter bar and actions."""

    # ---- Signals

    sig_open_project = Signal(object)
    """A project row was activated (double-click or Enter)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._selected: list[uuid.UUID] = []
        self._current: uuid.UUID | None = None
        self._choices: FilterChoices | None = None
        self._columns_fitted = False
        self.dialog_factory: DialogFactory = load_dialog
        self.model = ProjectsTableModel(ctx.db, self)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self._make_filters()
        self.table = self._make_table()
        self.count_label = QLabel(self)
        self._make_actions()
        self._build_layout()
        self._connect()
        self._restore_header()
        self._update_count()
        self._load_choices()
        self.watcher = ChangeWatcher(ctx, self, WATCHED_CHANGES, self.refresh)

    # ---- Building

    def _make_filters(self) -> None:
        self.search_field = QLineEdit(self, clearButtonEnabled=True)
        self.search_field.setPlaceholderText(self.tr("Titre, porteur, commune, structure…"))
        self.search_field.setAccessibleName(self.tr("Rechercher dans les projets"))
        self.phase_combo = FilterCombo(self.tr("Toutes les phases"), self.tr("Phase"), self, 8)
        self.phase_combo.set_choices((p.value, capitalised(p)) for p in Phase)
        self.status_combo = FilterCombo(self.tr("Tous les statuts"), self.tr("Statut"), self, 8)
        self.status_combo.set_choices((s.value, capitalised(s)) for s in ProjectStatus)
        self.structure_combo = FilterCombo(self.tr("Toutes les structures"), self.tr("Structure"), self, 10)
        self.advisor_combo = FilterCombo(self.tr("Tous les conseillers"), self.tr("Conseiller"), self, 8)
        self.departement_combo = FilterCombo(self.tr("Tous les départements"), self.tr("Département"), self, 6)
        self.epci_combo = FilterCombo(self.tr("Tous les EPCI"), self.tr("EPCI (intercommunalité)"), self, 8)
        self.combos = (self.phase_combo, self.status_combo, self.structure_combo, self.advisor_combo,
                       self.departement_combo, self.epci_combo)
        self.reset_button = QPushButton(self.tr("Réinitialiser les fil&tres"), self)
        self.reset_button.setToolTip(self.tr("Effacer tous les filtres"))

    def _make_table(self) -> object:
        table = dense_table(self, self.tr("Liste des projets"), multi=True)
        table.setModel(self.model)
        header = table.horizontalHeader()
        # Set the indicator first: enabling sorting sorts by it (and Qt 6 defaults to descending).
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)
        table.setSortingEnabled(True)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        return table

    def _make_actions(self) -> None:
        self.open_action = QAction(self.tr("&Ouvrir le projet"), self)
        self.print_action = QAction(self.tr("&Imprimer les synthèses…"), self,
                                    shortcut=QKeySequence(QKeySequence.StandardKey.Print))
        self.print_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.export_action = QAction(self.tr("E&xporter la liste…"), self)
        self.new_action = QAction(self.tr("&Nouveau projet…"), self)
        for action in (self.print_action, self.export_action):
            self.addAction(action)
        self.new_button = QPushButton(self.tr("&Nouveau projet…"), self)
        self.print_button = QPushButton(self.tr("Im&primer les synthèses…"), self)
        self.export_button = QPushButton(self.tr("E&xporter la liste…"), self)

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addLayout(labelled(self, self.tr("&Rechercher :"), self.search_field), 1)
        top.addSpacing(12)
        top.addWidget(self.count_label)
        top.addSpacing(12)
        for button in (self.reset_button, self.new_button, self.print_button, self.export_button):
            top.addWidget(button)
        filters = QHBoxLayout()
        filters.setSpacing(8)
        filters.addWidget(QLabel(self.tr("Filtres :"), self))
        stretches = (2, 2, 3, 3, 3, 3)
        for combo, stretch in zip(self.combos, stretches, strict=True):
            filters.addWidget(combo, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)

    def _connect(self) -> None:
        self.search_field.textChanged.connect(self._search_timer.start)
        self.search_field.returnPressed.connect(self._on_search_return)
        self._search_timer.timeout.connect(self.apply_filters)
        for combo in self.combos:
            combo.currentIndexChanged.connect(self.apply_filters)
        self.structure_combo.currentIndexChanged.connect(self._narrow_advisors)
        self.departement_combo.currentIndexChanged.connect(self._narrow_epcis)
        self.reset_button.clicked.connect(self.reset_filters)
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._on_model_reset)
        self._check_sort_indicator = keep_sort_indicator_on_sql_columns(self.table, self.model)
        self.table.activated.connect(self._on_activated)
        self.table.customContextMenuRequested.connect(self._show_context_menu)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.open_action.triggered.connect(self._open_current)
        self.print_action.triggered.connect(self.print_selected)
        self.export_action.triggered.connect(self.export_list)
        self.new_action.triggered.connect(self.new_project)
        self.new_button.clicked.connect(self.new_project)
        self.print_button.clicked.connect(self.print_selected)
        self.export_button.clicked.connect(self.export_list)
        self._update_actions()

    # ---- Public API

    def refresh(self) -> None:
        """Re-read the list (after ``sig_changed``), keeping filters, sort, scroll and selection."""
        self.model.refresh()
        self._load_choices()

    def selected_ids(self) -> list[uuid.UUID]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [pid for pid in (self.model.project_id(row) for row in rows) if pid is not None]

    def current_filter(self) -> ProjectFilter:
        text = self.search_field.text().strip()
        return dataclasses.replace(
            self.model.filter,
            phase=Phase(key) if (key := self.phase_combo.key()) else None,
            status=ProjectStatus(key) if (key := self.status_combo.key()) else None,
            structure_id=parse_uuid(self.structure_combo.key()),
            advisor_id=parse_uuid(self.advisor_combo.key()),
            departement=self.departement_combo.key(),
            epci_siren=self.epci_combo.key(),
            search=text or None,
        )

    def apply_filters(self) -> None:
        self._search_timer.stop()
        criteria = self.current_filter()
        if criteria != self.model.filter:
            logger.debug("projects filter changed")
            self.model.set_filter(criteria)

    def reset_filters(self) -> None:
        for combo in self.combos:
            blocked = combo.blockSignals(True)
            combo.set_key(None)
            combo.blockSignals(blocked)
        self.search_field.blockSignals(True)
        self.search_field.clear()
        self.search_field.blockSignals(False)
        self._narrow_advisors()
        self._narrow_epcis()
        self.apply_filters()

    def focus_search(self) -> None:
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    def new_project(self) -> None:
        dialog = launch(self.dialog_factory, "project", self._ctx, parent=self)
        saved = getattr(dialog, "sig_saved", None)
        if saved is not None:
            saved.connect(self.sig_open_project.emit)

    def print_selected(self) -> LongTask | None:
        ids = self.selected_ids()
        if not ids:
            return None
        return print_summaries(self._ctx, self, ids)

    def export_list(self) -> LongTask | None:
        """« Exporter la liste… »: exactly the projects the filters pick, XLSX or CSV."""
        return export_to_file(self._ctx, self, ExportKind.PROJECTS, project_filter=self.model.filter)

    # ---- Filter choices

    def _load_choices(self) -> None:
        Query(self, filter_choices, ctx=self._ctx).success(self._set_choices).run()

    def _set_choices(self, choices: FilterChoices) -> None:
        self._choices = choices
        self.structure_combo.set_choices((c.key, c.label) for c in choices.structures)
        self.departement_combo.set_choices((c.key, c.label) for c in choices.departements)
        self._narrow_advisors()
        self._narrow_epcis()

    def _narrow_advisors(self) -> None:
        """Offer the advisors of the chosen structure only."""
        if self._choices is None:
            return
        structure = self.structure_combo.key()
        self.advisor_combo.set_choices((c.key, c.label) for c in self._choices.advisors
                                       if structure is None or c.group == structure)

    def _narrow_epcis(self) -> None:
        """Offer the EPCI of the chosen département only."""
        if self._choices is None:
            return
        departement = self.departement_combo.key()
        self.epci_combo.set_choices((c.key, c.label) for c in self._choices.epcis
                                    if departement is None or c.group == departement)

    # ---- Slots

    def _on_search_return(self) -> None:
        self.apply_filters()
        if self.model.rowCount() > 0:
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
            if not self.table.currentIndex().isValid():
                self.table.selectRow(0)


    def _on_activated(self, index: QModelIndex) -> None:
        project_id = index.data(IdRole)
        if project_id is not None:
            self.sig_open_project.emit(project_id)

    def _open_current(self) -> None:
        self._on_activated(self.table.currentIndex())

    def _show_context_menu(self, position: object) -> None:
        menu = QMenu(self)
        for action in (self.open_action, self.print_action, self.export_action):
            menu.addAction(action)
        menu.popup(self.table.viewport().mapToGlobal(position))

    def _update_actions(self) -> None:
        count = len(self.table.selectionModel().selectedRows())
        self.print_action.setEnabled(count > 0)
        self.print_button.setEnabled(count > 0)
        self.open_action.setEnabled(count == 1)
        self.print_button.setToolTip(self.tr("Imprimer les synthèses des {n} projets sélectionnés").format(n=count))

    def _remember_selection(self) -> None:
        self._selected = self.selected_ids()
        current = self.table.currentIndex()
        self._current = current.data(IdRole) if current.isValid() else None

    def _on_model_reset(self) -> None:
        self._update_count()
        selection = self.table.selectionModel()
        for project_id in self._selected:
            row = self.model.row_of(project_id)
            if row is not None:
                selection.select(self.model.index(row, 0), selection.SelectionFlag.Select
                                 | selection.SelectionFlag.Rows)
        row = self.model.row_of(self._current) if self._current is not None else None
        if row is not None:
            selection.setCurrentIndex(self.model.index(row, 0), selection.SelectionFlag.NoUpdate)
            self.table.scrollTo(self.model.index(row, 0))
        self._update_actions()

    def _update_count(self) -> None:
        total = self.model.total
        number = self.locale().toString(total)
        text = self.tr("{n} projet").format(n=number) if total <= 1 else self.tr("{n} projets").format(n=number)
        self.count_label.setText(text)

    # ---- UI state

    def _restore_header(self) -> None:
        state = QSettings().value(HEADER_KEY)
        header = self.table.horizontalHeader()
        if isinstance(state, QByteArray) and header.restoreState(state):
            self._columns_fitted = True
            self._check_sort_indicator(header.sortIndicatorSection(), header.sortIndicatorOrder())

    def save_state(self) -> None:
        QSettings().setValue(HEADER_KEY, self.table.horizontalHeader().saveState())

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
            QTimer.singleShot(0, self._fit_columns)  # once the layout gave the table its width
