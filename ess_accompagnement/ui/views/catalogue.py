"""Structures et dispositifs: the catalogue, filterable by phase, support type and text, and editable.

Both lists are read whole in one ``Query`` (tens of rows) and filtered in a proxy; the selected row's
editable values are read with a second ``Query`` and saved through ``domain.catalogue_edit`` in an ``Op``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement.domain import catalogue_edit
from ess_accompagnement.domain.catalogue_edit import DispositifEdit, StructureEdit
from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.domain.codes import Phase, SupportType
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.domain.queries.catalogue import DispositifRow, StructureRow, list_dispositifs, list_structures
from ess_accompagnement.domain.text import tokens
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.catalogue_model import DispositifsModel, StructuresModel
from ess_accompagnement.ui.ops import Op, Query
from ess_accompagnement.ui.widgets.catalogue_form import CatalogueForm
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher
from ess_accompagnement.ui.widgets.tables import current_row, fit_columns, make_table, proxy_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Catalogue:
    structures: list[StructureRow]
    dispositifs: list[DispositifRow]


def compact(text: str) -> str:
    """Folded words run together: accents, case, apostrophes and spaces never matter (« alter incub »)."""
    return "".join(tokens(text))


def load_catalogue(session: Any) -> Catalogue:
    return Catalogue(list_structures(session, include_inactive=True), list_dispositifs(session, include_inactive=True))


class CatalogueView(QWidget):
    # ---- Signals

    sig_loaded = Signal()
    """The lists show fresh data."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._wanted: uuid.UUID | None = None
        self.structures_model, self.dispositifs_model = StructuresModel(self), DispositifsModel(self)
        self._build()
        self._connect()
        self.refresh()

    # ---- Building

    def _build(self) -> None:
        self.search = QLineEdit(self, objectName="catalogue_search", clearButtonEnabled=True)
        self.search.setPlaceholderText(self.tr("Nom, sigle, ancien nom…"))
        self.phase = QComboBox(self, objectName="phase_filter")
        self.phase.addItem(self.tr("Toutes les phases"), None)
        for phase in Phase:
            self.phase.addItem(capitalised(phase), phase)
        self.support = QComboBox(self, objectName="support_filter")
        self.support.addItem(self.tr("Tous les types d'appui"), None)
        for support in SupportType:
            self.support.addItem(capitalised(support), support)
        self.inactive = QCheckBox(self.tr("&Inclure les inactifs"), self, objectName="inactive_filter")
        self.toolbar = QToolBar(self.tr("Filtres du catalogue"), self)
        for text, widget in ((self.tr("&Rechercher :"), self.search), (self.tr("P&hase :"), self.phase),
                             (self.tr("&Type d'appui :"), self.support)):
            label = QLabel(text, self)
            label.setBuddy(widget)
            label.setContentsMargins(8, 0, 4, 0)
            self.toolbar.addWidget(label)
            self.toolbar.addWidget(widget)
        self.toolbar.addWidget(self.inactive)
        self.search.setMinimumWidth(240)
        self.structures_table = make_table(self, self.structures_model, "structures_table", sort_column=0)
        self.dispositifs_table = make_table(self, self.dispositifs_model, "dispositifs_table", sort_column=0)
        self.structures_table.setAccessibleName(self.tr("Structures"))
        self.dispositifs_table.setAccessibleName(self.tr("Dispositifs"))
        fit_columns(self.structures_table, {0: 36, 1: 12, 2: 13, 3: 8, 4: 5, 5: 30})
        fit_columns(self.dispositifs_table, {0: 30, 1: 28, 2: 14, 3: 8, 4: 5, 5: 30})
        self.tabs = QTabWidget(self, objectName="catalogue_tabs", documentMode=True)
        self.tabs.addTab(self.structures_table, "")
        self.tabs.addTab(self.dispositifs_table, "")
        self.form = CatalogueForm(self)
        self.form.setObjectName("catalogue_form")
        splitter = QSplitter(Qt.Orientation.Horizontal, self, childrenCollapsible=False)
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.form)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([1000, 440])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)
        find = QAction(self, shortcut=QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(lambda: self.search.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.addAction(find)
        self._set_tab_titles()

    def _connect(self) -> None:
        self.watcher = ChangeWatcher(self.ctx, self, ("catalogue",), self.refresh)
        self.search.textChanged.connect(self._apply_filters)
        self.phase.currentIndexChanged.connect(self._apply_filters)
        self.support.currentIndexChanged.connect(self._apply_filters)
        self.inactive.toggled.connect(self._apply_filters)
        self.tabs.currentChanged.connect(self._load_selected)
        for table in self.tables:
            table.selectionModel().currentChanged.connect(self._load_selected)
        self.form.sig_save.connect(self.save)
        self._apply_filters()

    # ---- Public API

    @property
    def tables(self) -> tuple[QTableView, QTableView]:
        return (self.structures_table, self.dispositifs_table)

    def refresh(self) -> None:
        Query(self, load_catalogue, ctx=self.ctx).success(self._show).run()

    def show_structure(self, structure_id: uuid.UUID) -> None:
        """Show one structure (a global search hit): filters cleared, its row selected and its form open."""
        self._wanted = structure_id
        self.search.clear()
        self.tabs.setCurrentIndex(0)
        if self.structures_model.row_of(structure_id) is not None:
            self._select(self.structures_table, structure_id)
            self._wanted = None

    def save(self, row_id: uuid.UUID, edit: StructureEdit | DispositifEdit) -> None:
        if isinstance(edit, StructureEdit):
            def use_case(session: Any, actor: Any) -> Changes:
                return catalogue_edit.edit_structure(session, actor, row_id, edit)
        else:
            def use_case(session: Any, actor: Any) -> Changes:
                return catalogue_edit.edit_dispositif(session, actor, row_id, edit)
        Op(self, use_case, ctx=self.ctx).success(lambda _changes: self.form.saved()).failure(self._refused).run()

    # ---- Slots

    def _show(self, catalogue: Catalogue) -> None:
        current = [getattr(current_row(table), "id", None) for table in self.tables]
        if self._wanted is not None:
            current[0], self._wanted = self._wanted, None
        self.structures_model.set_rows(catalogue.structures)
        self.dispositifs_model.set_rows(catalogue.dispositifs)
        for table, row_id in zip(self.tables, current, strict=True):
            self._select(table, row_id)
        self._set_tab_titles()
        self.sig_loaded.emit()

    def _select(self, table: QTableView, row_id: uuid.UUID | None) -> None:
        model = proxy_of(table).sourceModel()
        row = model.row_of(row_id) if row_id is not None else None
        index = proxy_of(table).mapFromSource(model.index(row, 0)) if row is not None else proxy_of(table).index(0, 0)
        if index.isValid():
            table.setCurrentIndex(index)

    def _set_tab_titles(self) -> None:
        counts = [proxy_of(table).rowCount() for table in self.tables]
        self.tabs.setTabText(0, self.tr("&Structures ({n})").format(n=counts[0]))
        self.tabs.setTabText(1, self.tr("&Dispositifs ({n})").format(n=counts[1]))

    def _apply_filters(self) -> None:
        text, phase, support = compact(self.search.text()), self.phase.currentData(), self.support.currentData()
        inactive = self.inactive.isChecked()

        def accepts(row: StructureRow | DispositifRow) -> bool:
            return ((inactive or row.active) and (phase is None or phase in row.phases)
                    and (support is None or support in row.support_types)
                    and (not text or any(text in compact(name) for name in row.names)))

        for table in self.tables:
            proxy_of(table).set_accepts(accepts)
        self._set_tab_titles()

    def _load_selected(self, *_args: Any) -> None:
        row = current_row(self.tables[self.tabs.currentIndex()])
        if row is None:
            return
        if isinstance(row, StructureRow):
            Query(self, lambda s: catalogue_edit.structure_values(s, row.id), ctx=self.ctx).success(
                lambda values: self.form.show_structure(row.id, values, self._facts(row))).run()
        else:
            Query(self, lambda s: catalogue_edit.dispositif_values(s, row.id), ctx=self.ctx).success(
                lambda values: self.form.show_dispositif(row.id, values, self._facts(row))).run()

    def _facts(self, row: StructureRow | DispositifRow) -> str:
        key = row.key or self.tr("ajoutée par un utilisateur")
        if isinstance(row, StructureRow):
            return self.tr("{kind} · territoire {territory} · clé {key}").format(
                kind=capitalised(row.kind), territory=row.departement or row.territory or "—", key=key)
        return self.tr("Porté par {operator} · {instrument} · clé {key}").format(
            operator=row.operator_name, instrument=capitalised(row.instrument, empty="—"), key=key)

    def _refused(self, exc: UserFacingError) -> None:
        self.form.show_error(exc.message)
