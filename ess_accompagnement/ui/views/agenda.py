"""Agenda: my week (or my structure's), with the permanences' sessions and public holidays.

``domain.queries.agenda.week_agenda`` reads the week through a ``Query``; ``AgendaGrid`` draws it.
Page Up / Page Down change week, Ctrl+Home comes back to this week; in the grid the arrow keys
move the slot cursor and Enter opens the appointment there or creates one at that time.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QToolBar, QVBoxLayout, QWidget

from ess_accompagnement.domain.queries.agenda import AgendaAppointment, AgendaWeek, Scope, week_agenda, week_start
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.ops import Query
from ess_accompagnement.ui.widgets.actions import screen_action
from ess_accompagnement.ui.widgets.agenda_grid import PERMANENCE, STATUS_COLOURS, AgendaGrid
from ess_accompagnement.ui.widgets.dialog_launcher import DialogFactory, launch, load_dialog
from ess_accompagnement.ui.widgets.french import FRENCH, long_date
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher

logger = logging.getLogger(__name__)


class AgendaView(QWidget):
    # ---- Signals

    sig_open_project = Signal(object)
    """Ask the window to open a project (its ``uuid.UUID``)."""
    sig_loaded = Signal()
    """The grid shows the week asked for."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dialog_factory: DialogFactory = load_dialog
        self.monday = week_start(ctx.today)
        self.week: AgendaWeek | None = None
        self.grid = AgendaGrid(self)
        self.grid.setObjectName("agenda_grid")
        self._build()
        self._connect()
        self.refresh()

    # ---- Building

    def _build(self) -> None:
        self.toolbar = QToolBar(self.tr("Navigation de l'agenda"), self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.previous_action = self._action("previous", self.tr("◀ Semaine &précédente"), "PgUp", self.previous_week)
        self.today_action = self._action("today", self.tr("Cette &semaine"), "Ctrl+Home", self.this_week)
        self.next_action = self._action("next", self.tr("Semaine s&uivante ▶"), "PgDown", self.next_week)
        self.toolbar.addSeparator()
        self.new_action = self._action("new", self.tr("&Nouveau rendez-vous…"), "Ctrl+Shift+R", self.new_appointment)
        self.title = QLabel(self, objectName="agenda_title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.scope = QComboBox(self, objectName="agenda_scope")
        self.scope.addItem(self.tr("Mes rendez-vous"), Scope.MINE)
        self.scope.addItem(self.tr("Toute ma structure"), Scope.STRUCTURE)
        scope_label = QLabel(self.tr("&Afficher :"), self)
        scope_label.setBuddy(self.scope)
        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.toolbar.addWidget(spacer)
        self.toolbar.addWidget(scope_label)
        self.toolbar.addWidget(self.scope)
        head = QWidget(self)
        head_layout = QVBoxLayout(head)
        head_layout.setContentsMargins(12, 6, 12, 4)
        head_layout.addWidget(self.title)
        head_layout.addWidget(self._legend())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(head)
        layout.addWidget(self.grid, 1)

    def _legend(self) -> QLabel:
        from ess_accompagnement.domain.codes import AppointmentStatus as S
        from ess_accompagnement.ui.labels import capitalised

        items = [(STATUS_COLOURS[s][1], capitalised(s)) for s in (S.PLANIFIE, S.REALISE, S.ANNULE, S.ABSENT)]
        items += [(PERMANENCE[1], self.tr("Permanence")), ("#B42318", self.tr("Jour férié"))]
        html = " &nbsp; ".join(f'<span style="color:{colour}">■</span> {text}' for colour, text in items)
        legend = QLabel(html, self, objectName="agenda_legend")
        legend.setStyleSheet("color: #475467;")
        return legend

    def _action(self, name: str, text: str, keys: Any, slot: Any) -> QAction:
        return screen_action(self, name, text, keys, slot, self.toolbar)

    def _connect(self) -> None:
        self.watcher = ChangeWatcher(self.ctx, self, ("appointments", "projects"), self.refresh)
        self.scope.currentIndexChanged.connect(self.refresh)
        self.grid.sig_create_at.connect(self.create_at)
        self.grid.sig_open_appointment.connect(self.open_appointment)

    # ---- Public API

    def refresh(self) -> None:
        ctx, monday, scope = self.ctx, self.monday, Scope(self.scope.currentData())
        advisor_id, structure_id = ctx.advisor_id, ctx.structure_id
        Query(self, lambda s: week_agenda(s, advisor_id=advisor_id, structure_id=structure_id, day=monday,
                                          scope=scope), ctx=ctx).success(self._show).run()

    def set_scope_index(self, index: int) -> None:
        self.scope.setCurrentIndex(index)

    def go_to(self, day: dt.date) -> None:
        self.monday = week_start(day)
        self.refresh()

    def previous_week(self) -> None:
        self.go_to(self.monday - dt.timedelta(days=7))

    def next_week(self) -> None:
        self.go_to(self.monday + dt.timedelta(days=7))

    def this_week(self) -> None:
        self.go_to(self.ctx.today)

    def new_appointment(self) -> None:
        self.create_at(self.grid.cursor_time())

    def create_at(self, start: dt.datetime) -> None:
        launch(self.dialog_factory, "appointment", self.ctx, start=start, parent=self)

    def open_appointment(self, item: AgendaAppointment) -> None:
        launch(self.dialog_factory, "appointment", self.ctx, project_id=item.project_id, appointment_id=item.id,
               parent=self)

    # ---- Slots

    def _show(self, week: AgendaWeek) -> None:
        if week.monday != self.monday:  # an older request answered late
            return
        self.week = week
        self.grid.set_week(week, self.ctx.today)
        self.title.setText(self._title(week))
        logger.debug("agenda week %s shown", week.monday)
        self.sig_loaded.emit()

    def _title(self, week: AgendaWeek) -> str:
        last = week.days[self.grid.day_count - 1]
        number = week.monday.isocalendar().week
        count = len(week.appointments)
        rdv = self.tr("aucun rendez-vous") if not count else self.tr("{n} rendez-vous").format(n=FRENCH.toString(count))
        return self.tr("Semaine {number} · du {first} au {last} · {rdv}").format(
            number=number, first=long_date(week.monday), last=long_date(last), rdv=rdv)
