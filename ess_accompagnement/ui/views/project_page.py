"""One project's page: header, timeline of everything that happened, tabs, and the advisor's actions.

Built as ``ProjectPage(ctx, project_id, parent)``; ``refresh()`` reloads it through one ``Query``
(``domain.queries.project_records.project_page_data``) and it refreshes itself when ``sig_changed``
says something it shows changed. Actions open the dialogs of ``ui/dialogs`` through
``dialog_factory`` (replaceable in tests); they save themselves and announce it on ``sig_changed``.
The holders tab adds, re-roles and removes members (``ui/dialogs/member.py``), for the lead structure only.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement.domain import financing
from ess_accompagnement.domain.codes import AdvisorRole
from ess_accompagnement.domain.entities import utcnow
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.domain.queries.project_records import ProjectPageData, project_page_data
from ess_accompagnement.domain.referrals import RECEIVER_TRANSITIONS
from ess_accompagnement.reports.summary import Variant
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.financing_model import FinancingModel, FinancingTotalsModel
from ess_accompagnement.ui.models.holders_model import HoldersModel
from ess_accompagnement.ui.models.notes_model import NotesModel
from ess_accompagnement.ui.models.parcours_model import ParcoursModel
from ess_accompagnement.ui.models.project_appointments_model import ProjectAppointmentsModel
from ess_accompagnement.ui.models.referrals_model import ProjectReferralsTableModel
from ess_accompagnement.ui.models.rows_model import RowRole
from ess_accompagnement.ui.models.timeline_model import KIND_LABELS, TimelineModel, kind_label
from ess_accompagnement.ui.ops import Op, Query
from ess_accompagnement.ui.widgets.actions import screen_action
from ess_accompagnement.ui.widgets.dialog_launcher import DialogFactory, launch, load_dialog
from ess_accompagnement.ui.widgets.project_header import ProjectHeader
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher
from ess_accompagnement.ui.widgets.summary_printer import SummaryPrinter
from ess_accompagnement.ui.widgets.tables import current_row, fit_columns, make_table, wrap_rows
from ess_accompagnement.ui.widgets.timeline import TimelineView

logger = logging.getLogger(__name__)

SHOWN_CHANGES = ("projects", "persons", "phases", "appointments", "referrals", "financing", "notes")
ANSWERABLE = frozenset(RECEIVER_TRANSITIONS)


class Tab:
    HOLDERS, APPOINTMENTS, REFERRALS, FINANCING, NOTES = range(5)


class ProjectPage(QWidget):
    # ---- Signals

    sig_open_project = Signal(object)
    """Ask the window to open another project (its ``uuid.UUID``)."""
    sig_loaded = Signal()
    """The page shows fresh data (tests, screenshots)."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.project_id = project_id
        self.data: ProjectPageData | None = None
        self.dialog_factory: DialogFactory = load_dialog
        self.printer = SummaryPrinter(ctx, self)
        self._loading = self._reload_pending = False
        self._build()
        self._make_actions()
        self._connect()
        self._update_actions()
        self.refresh()

    # ---- Building

    def _build(self) -> None:
        self.header = ProjectHeader(self)
        self.toolbar = QToolBar(self.tr("Actions du projet"), self, objectName="project_toolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.timeline_model = TimelineModel(self)
        self.timeline = TimelineView(self)
        self.timeline.setObjectName("timeline")
        self.timeline.setModel(self.timeline_model)
        self.timeline.setAccessibleName(self.tr("Chronologie du projet"))
        self.kind_filter = QComboBox(self, objectName="timeline_filter")
        self.kind_filter.addItem(self.tr("Tous les événements"), None)
        for kind in KIND_LABELS:
            self.kind_filter.addItem(kind_label(kind), kind)
        self.tabs = QTabWidget(self, objectName="project_tabs", documentMode=True)
        self._build_tabs()
        splitter = QSplitter(Qt.Orientation.Horizontal, self, childrenCollapsible=False)
        splitter.addWidget(self._timeline_panel())
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([520, 920])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)

    def _timeline_panel(self) -> QWidget:
        panel = QWidget(self)
        title = QLabel(self.tr("<b>Chronologie</b>"), panel)
        shown = QLabel(self.tr("Affi&cher :"), panel)
        shown.setBuddy(self.kind_filter)
        row = QToolBar(panel)
        row.addWidget(title)
        spacer = QWidget(panel)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row.addWidget(spacer)
        row.addWidget(shown)
        row.addWidget(self.kind_filter)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(8, 4, 0, 8)
        layout.addWidget(row)
        layout.addWidget(self.timeline, 1)
        return panel

    def _build_tabs(self) -> None:
        self.holders_model, self.appointments_model = HoldersModel(self), ProjectAppointmentsModel(self)
        self.parcours_model, self.referrals_model = ParcoursModel(self), ProjectReferralsTableModel(self)
        self.financing_model, self.totals_model = FinancingModel(self), FinancingTotalsModel(self)
        self.notes_model = NotesModel(self)
        self.holders_table = make_table(self, self.holders_model, "holders_table")
        self.appointments_table = make_table(self, self.appointments_model, "appointments_table", sort_column=0,
                                             descending=True)
        self.parcours_table = make_table(self, self.parcours_model, "parcours_table", sort_column=0)
        self.referrals_table = make_table(self, self.referrals_model, "project_referrals_table", sort_column=3,
                                          descending=True)
        self.financing_table = make_table(self, self.financing_model, "financing_table")
        self.totals_table = make_table(self, self.totals_model, "totals_table")
        self.totals_table.setSortingEnabled(False)
        self.totals_table.model().sort(-1)  # the domain's order: statuses, then the total
        self.totals_table.horizontalHeader().setStretchLastSection(False)
        self.notes_table = make_table(self, self.notes_model, "notes_table", sort_column=0, descending=True)
        self.tabs.addTab(self._holders_panel(), "")
        self.tabs.addTab(self.appointments_table, "")
        self.tabs.addTab(self._stack(self.parcours_table, self.tr("<b>Parcours</b> – structures et dispositifs, "
                                                                   "dans l'ordre"),
                                     self.referrals_table, self.tr("<b>Orientations</b>")), "")
        self.tabs.addTab(self._stack(self.financing_table, self.tr("<b>Tour de table</b>"), self.totals_table,
                                     self.tr("<b>Totaux par statut</b>"), second_stretch=0), "")
        self.tabs.addTab(self.notes_table, "")
        self._name_tables()
        self._fit_tables()
        self._set_tab_titles()

    def _holders_panel(self) -> QWidget:
        """The holders' table under the buttons that change the project's members."""
        page = QWidget(self)
        buttons = QHBoxLayout()
        self.member_buttons: dict[str, QPushButton] = {}
        for name, text, slot in (("add_member", self.tr("Ajouter un &membre…"), self.add_member),
                                 ("change_role", self.tr("Chan&ger le rôle…"), self.change_member_role),
                                 ("remove_member", self.tr("Retirer du pro&jet…"), self.remove_member)):
            button = QPushButton(text, page, objectName=f"{name}_button", autoDefault=False)
            button.setAccessibleName(text.replace("&", "").rstrip("…"))
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.member_buttons[name] = button
        buttons.addStretch(1)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(buttons)
        layout.addWidget(self.holders_table, 1)
        return page

    def _stack(self, first: QWidget, first_title: str, second: QWidget, second_title: str, *,
               second_stretch: int = 1) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        for widget, title, stretch in ((first, first_title, 1), (second, second_title, second_stretch)):
            label = QLabel(title, page)
            label.setBuddy(widget)
            layout.addWidget(label)
            layout.addWidget(widget, stretch)
        return page

    def _name_tables(self) -> None:
        for table, name in ((self.holders_table, self.tr("Porteurs du projet")),
                            (self.appointments_table, self.tr("Rendez-vous du projet")),
                            (self.parcours_table, self.tr("Parcours du projet")),
                            (self.referrals_table, self.tr("Orientations du projet")),
                            (self.financing_table, self.tr("Tour de table des financements")),
                            (self.totals_table, self.tr("Totaux des financements par statut")),
                            (self.notes_table, self.tr("Notes du projet"))):
            table.setAccessibleName(name)

    def _fit_tables(self) -> None:
        fit_columns(self.holders_table, {0: 22, 1: 16, 2: 28, 3: 16, 4: 16})
        fit_columns(self.appointments_table, {0: 15, 1: 7, 2: 10, 3: 8, 4: 20, 5: 11, 6: 14, 7: 6})
        fit_columns(self.parcours_table, {0: 3, 1: 32, 2: 24, 3: 18})
        wrap_rows(self.parcours_table)
        fit_columns(self.referrals_table, {0: 14, 1: 26, 2: 20, 3: 10, 4: 9, 5: 10})
        fit_columns(self.financing_table, {0: 16, 1: 30, 2: 8, 3: 12, 4: 12, 5: 10})
        fit_columns(self.totals_table, {0: 16, 1: 7, 2: 14, 3: 14})
        fit_columns(self.notes_table, {0: 11, 1: 22, 2: 18, 3: 10})

    def _set_tab_titles(self) -> None:
        d = self.data
        counts = (len(d.holders), len(d.appointments), len(d.referrals), len(d.financing), len(d.notes)) if d \
            else (None,) * 5
        titles = (self.tr("Por&teurs"), self.tr("Rendez-&vous"), self.tr("Orientations et &parcours"),
                  self.tr("Fina&ncements"), self.tr("Not&es"))
        for index, (title, count) in enumerate(zip(titles, counts, strict=True)):
            self.tabs.setTabText(index, title if count is None else f"{title} ({count})")

    # ---- Actions

    def _make_actions(self) -> None:
        specs = (
            ("new_appointment", self.tr("Nouveau &rendez-vous…"), "Ctrl+Shift+R", self.new_appointment),
            ("refer", self.tr("&Orienter…"), "Ctrl+Shift+O", self.refer),
            ("answer", self.tr("Ré&pondre à l'orientation…"), "Ctrl+Shift+P", self.answer_referral),
            ("phase", self.tr("Changer de p&hase…"), "Ctrl+Shift+H", self.change_phase),
            ("financing", self.tr("&Financement…"), "Ctrl+Shift+F", self.add_financing),
            ("follow_financing", self.tr("Sui&vi du financement…"), "Ctrl+Shift+D", self.follow_financing),
            ("note", self.tr("&Note…"), "Ctrl+Shift+N", self.add_note),
            ("edit", self.tr("&Modifier…"), "Ctrl+E", self.edit_project),
            ("close", self.tr("C&lôturer…"), "Ctrl+Shift+L", self.close_project),
        )
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, keys, slot in specs:
            self.actions_by_name[name] = screen_action(self, name, text, keys, slot, self.toolbar)
        self.toolbar.addSeparator()
        self.toolbar.addWidget(self._print_button())

    def _print_button(self) -> QToolButton:
        menu = QMenu(self)
        for variant, text in ((Variant.INTERNE, self.tr("Synthèse &interne (avec les notes)…")),
                              (Variant.PARTENAIRE, self.tr("Synthèse pour un &partenaire ou un financeur…")),
                              (Variant.PORTEUR, self.tr("« Mon &parcours », copie du porteur…"))):
            action = menu.addAction(text)
            action.setObjectName(f"print_{variant.value}")
            action.triggered.connect(lambda _checked=False, v=variant: self.print_summary(v))
        button = QToolButton(self, objectName="print_button", text=self.tr("&Imprimer la synthèse…"))
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setMenu(menu)
        button.setToolTip(self.tr("Enregistrer la synthèse d'accompagnement en PDF (Ctrl+P)"))
        self.print_action = QAction(self, objectName="action_print", shortcut=QKeySequence.StandardKey.Print)
        self.print_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.print_action.triggered.connect(button.showMenu)
        self.addAction(self.print_action)
        return button

    def _connect(self) -> None:
        self.watcher = ChangeWatcher(self.ctx, self, SHOWN_CHANGES, self.refresh)
        self.kind_filter.currentIndexChanged.connect(self._on_kind_filter)
        self.appointments_table.doubleClicked.connect(self._open_appointment)
        self.appointments_table.activated.connect(self._open_appointment)
        self.referrals_table.selectionModel().currentChanged.connect(self._update_actions)
        self.holders_table.selectionModel().currentChanged.connect(self._update_actions)
        self.financing_table.selectionModel().currentChanged.connect(self._update_actions)
        self.financing_table.doubleClicked.connect(lambda _index: self.follow_financing())
        # a line's own actions, on a right click: follow it, or take back a line recorded by mistake (Delete,
        # while the focus is in the table only)
        self.financing_table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.financing_table.addAction(self.actions_by_name["follow_financing"])
        self.remove_financing_action = screen_action(self.financing_table, "remove_financing",
                                                     self.tr("Retirer la &ligne…"), QKeySequence.StandardKey.Delete,
                                                     self.remove_financing)
        self.financing_table.activated.connect(lambda _index: self.follow_financing())
        self.referrals_table.doubleClicked.connect(self._on_referral_activated)
        self.timeline.activated.connect(self._on_timeline_activated)

    def _update_actions(self, *_args: Any) -> None:
        loaded = self.data is not None
        for action in self.actions_by_name.values():
            action.setEnabled(loaded)
        self.actions_by_name["answer"].setEnabled(self.selected_answerable_referral() is not None)
        line_chosen = self.can_edit() and current_row(self.financing_table) is not None
        self.actions_by_name["follow_financing"].setEnabled(line_chosen)
        self.remove_financing_action.setEnabled(line_chosen)
        self._update_member_buttons()

    def _update_member_buttons(self) -> None:
        editable, selected = self.can_edit(), current_row(self.holders_table) is not None
        self.member_buttons["add_member"].setEnabled(editable)
        self.member_buttons["change_role"].setEnabled(editable and selected)
        self.member_buttons["remove_member"].setEnabled(editable and selected)
        why = ""
        if self.data is not None and not editable:
            why = (self.tr("Votre profil est en lecture seule.") if self.ctx.actor.role is AdvisorRole.LECTURE
                   else self.tr("Seule la structure qui mène le projet peut modifier ses membres."))
        elif editable and not selected:
            why = self.tr("Choisissez d'abord un membre dans la liste.")
        for button in self.member_buttons.values():
            button.setToolTip("" if button.isEnabled() else why)

    # ---- Public API

    def refresh(self) -> None:
        """Reload the whole page on the database worker."""
        if self._loading:
            self._reload_pending = True
            return
        self._loading, self._reload_pending = True, False
        ctx, project_id = self.ctx, self.project_id
        structure_id, today = ctx.structure_id, ctx.today
        Query(self, lambda s: project_page_data(s, project_id, reader_structure_id=structure_id, today=today),
              ctx=ctx).success(self._show).failure(self._show_failure).run()

    def can_edit(self) -> bool:
        """Whether the acting advisor may change the project (members, financing lines): a writer of its lead
        structure."""
        return (self.data is not None and self.data.detail.lead_structure_id == self.ctx.structure_id
                and self.ctx.actor.role is not AdvisorRole.LECTURE)

    def selected_holder(self) -> Any:
        """The ``HolderContact`` of the selected row of the holders' table, or None."""
        return current_row(self.holders_table)

    def selected_answerable_referral(self) -> Any:
        row = current_row(self.referrals_table)
        if row is None or not row.incoming or row.status not in ANSWERABLE:
            return None
        return row

    @property
    def title(self) -> str:
        return self.data.detail.title if self.data else self.tr("Projet")

    # ---- Slots: actions

    def new_appointment(self) -> None:
        launch(self.dialog_factory, "appointment", self.ctx, project_id=self.project_id, parent=self)

    def refer(self) -> None:
        launch(self.dialog_factory, "referral", self.ctx, self.project_id, parent=self)

    def answer_referral(self) -> None:
        row = self.selected_answerable_referral()
        if row is not None:
            launch(self.dialog_factory, "referral_answer", self.ctx, row.id, parent=self)

    def change_phase(self) -> None:
        launch(self.dialog_factory, "phase_change", self.ctx, self.project_id, parent=self)

    def add_financing(self) -> None:
        launch(self.dialog_factory, "financing", self.ctx, self.project_id, parent=self)

    def add_note(self) -> None:
        launch(self.dialog_factory, "note", self.ctx, self.project_id, parent=self)

    def edit_project(self) -> None:
        launch(self.dialog_factory, "project", self.ctx, project_id=self.project_id, parent=self)

    def close_project(self) -> None:
        launch(self.dialog_factory, "project_status", self.ctx, self.project_id, parent=self)

    def follow_financing(self) -> None:
        """The funder's decision, the payment or a correction of the selected line of the tour de table."""
        line = current_row(self.financing_table)
        if line is not None and self.can_edit():
            launch(self.dialog_factory, "financing_followup", self.ctx, line.id, parent=self)

    def remove_financing(self) -> None:
        """Take back the selected line of the tour de table (recorded by mistake), after confirmation."""
        line = current_row(self.financing_table)
        if line is None or not self.can_edit():
            return
        what = " — ".join(part for part in (capitalised(line.instrument), line.funder) if part)
        answer = QMessageBox.question(self, self.tr("Retirer la ligne de financement"), self.tr(
            "Retirer la ligne « {line} » du tour de table ? Elle ne comptera plus dans les totaux ni dans les "
            "indicateurs.").format(line=what))
        if answer == QMessageBox.StandardButton.Yes:
            line_id = line.id
            Op(self, lambda session, actor: financing.remove_financing(session, actor, line_id, now=utcnow()),
               ctx=self.ctx).run()

    def add_member(self) -> None:
        if self.can_edit():
            launch(self.dialog_factory, "member_add", self.ctx, self.project_id, parent=self)

    def change_member_role(self) -> None:
        holder = self.selected_holder()
        if holder is not None and self.can_edit():
            launch(self.dialog_factory, "member_role", self.ctx, self.project_id, holder.person_id, parent=self)

    def remove_member(self) -> None:
        holder = self.selected_holder()
        if holder is not None and self.can_edit():
            launch(self.dialog_factory, "member_remove", self.ctx, self.project_id, holder.person_id, parent=self)

    def print_summary(self, variant: Variant) -> None:
        self.printer.print_project(self.project_id, self.title, variant)

    # ---- Slots: data

    def _show(self, data: ProjectPageData) -> None:
        self._loading = False
        self.data = data
        self.header.show_detail(data.detail)
        self.timeline_model.set_entries(data.detail.timeline)
        self.holders_model.set_rows(data.holders)
        self.appointments_model.set_rows(data.appointments)
        self.parcours_model.set_rows(data.parcours)
        self.referrals_model.set_rows(data.referrals)
        self.financing_model.set_rows(data.financing)
        self.totals_model.set_rows(data.totals)
        rows = self.totals_table.verticalHeader().defaultSectionSize() * max(1, len(data.totals))
        self.totals_table.setFixedHeight(rows + self.totals_table.horizontalHeader().sizeHint().height() + 4)
        self.notes_model.set_rows(data.notes)
        self._set_tab_titles()
        self._update_actions()
        logger.debug("project page %s loaded", self.project_id.hex[:8])
        self.sig_loaded.emit()
        if self._reload_pending:
            self.refresh()

    def _show_failure(self, exc: UserFacingError) -> None:
        self._loading = False
        self.header.title.setText(exc.message)
        self._update_actions()
        self.sig_loaded.emit()

    def _on_kind_filter(self) -> None:
        kind = self.kind_filter.currentData()
        self.timeline_model.set_kinds(None if kind is None else frozenset({kind}))

    def _open_appointment(self, index: QModelIndex) -> None:
        row = index.data(RowRole)
        if row is not None:
            launch(self.dialog_factory, "appointment", self.ctx, project_id=self.project_id, appointment_id=row.id,
                   parent=self)

    def _on_referral_activated(self, _index: QModelIndex) -> None:
        if self.selected_answerable_referral() is not None:
            self.answer_referral()

    def _on_timeline_activated(self, index: QModelIndex) -> None:
        """Enter on an entry shows it in its tab."""
        kind = self.timeline_model.entry(index.row()).kind
        tab = {"appointment": Tab.APPOINTMENTS, "referral": Tab.REFERRALS, "financing": Tab.FINANCING,
               "note": Tab.NOTES}.get(kind)
        if tab is not None:
            self.tabs.setCurrentIndex(tab)
        if kind == "appointment":
            self._open_appointment_id(self.timeline_model.entry(index.row()).id)

    def _open_appointment_id(self, appointment_id: uuid.UUID) -> None:
        launch(self.dialog_factory, "appointment", self.ctx, project_id=self.project_id,
               appointment_id=appointment_id, parent=self)

