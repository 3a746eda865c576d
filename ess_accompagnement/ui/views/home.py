"""Accueil: the advisor's day — appointments, what is late, referrals waiting, quiet projects.

Everything comes from ``domain.queries.home.home_data`` in one ``Query`` on the worker. Each
section is a compact table with its count in its title; Enter or a double-click opens the project.
An overdue step is marked done where it is listed: Ctrl+Entrée, or the table's context menu.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from ess_accompagnement.domain import steps
from ess_accompagnement.domain.codes import AppointmentMode
from ess_accompagnement.domain.queries.home import (
    NO_CONTACT_DAYS,
    AppointmentItem,
    HomeData,
    QuietProjectItem,
    ReferralItem,
    Section,
    StepItem,
    home_data,
)
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.list_model import RecordsTableModel
from ess_accompagnement.ui.models.paged import IdRole
from ess_accompagnement.ui.ops import Op, Query
from ess_accompagnement.ui.widgets.actions import screen_action
from ess_accompagnement.ui.widgets.french import long_date, reminders_text, short_date
from ess_accompagnement.ui.widgets.lists import dense_table, time_of_day
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher

logger = logging.getLogger(__name__)

_CONTEXT = "HomeView"
MAX_COLUMN_WIDTH = 230
MIN_ROWS_SHOWN = 4
MAX_STRETCH = 12
WATCHED_CHANGES = ("projects", "appointments", "referrals", "phases", "notes", "financing")


def tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def days_text(days: int | None) -> str:
    """« 1 jour », « 12 jours », « jamais » for None."""
    if days is None:
        return tr("jamais")
    return tr("{n} jour").format(n=days) if abs(days) <= 1 else tr("{n} jours").format(n=days)


def place_text(item: AppointmentItem) -> str:
    mode = capitalised(item.mode)
    if item.place and item.mode in (AppointmentMode.PERMANENCE, AppointmentMode.PRESENTIEL):
        return f"{mode} — {item.place}"
    return mode


def appointment_cells(item: AppointmentItem) -> tuple[str, str, str]:
    return time_of_day(item.starts_at), item.project_title, place_text(item)


def unrecorded_cells(item: AppointmentItem) -> tuple[str, str, str]:
    return short_date(item.starts_at.date()), time_of_day(item.starts_at), item.project_title


def step_cells(item: StepItem) -> tuple[str, str, str, str]:
    return short_date(item.due_date), days_text(item.days_late), item.project_title, item.text


def referral_cells(item: ReferralItem) -> tuple[str, str, str, str, str]:
    reminded = reminders_text(item.reminded_on, item.reminder_count)
    return short_date(item.proposed_on), days_text(item.age_days), reminded, item.project_title, item.other_structure


def quiet_cells(item: QuietProjectItem) -> tuple[str, str, str]:
    return item.project_title, short_date(item.last_contact) or tr("aucun"), days_text(item.days)


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str  # with {n}
    headers: tuple[str, ...]
    cells: Callable[[Any], Sequence[str]]
    empty: str


def section_specs() -> tuple[SectionSpec, ...]:
    return (
        SectionSpec("today_appointments", tr("Rendez-vous aujourd'hui ({n})"),
                    (tr("Heure"), tr("Projet"), tr("Lieu")), appointment_cells, tr("Aucun rendez-vous aujourd'hui.")),
        SectionSpec("tomorrow_appointments", tr("Rendez-vous demain ({n})"),
                    (tr("Heure"), tr("Projet"), tr("Lieu")), appointment_cells, tr("Aucun rendez-vous demain.")),
        SectionSpec("unrecorded", tr("Comptes rendus à saisir ({n})"),
                    (tr("Date"), tr("Heure"), tr("Projet")), unrecorded_cells,
                    tr("Tous les rendez-vous passés ont leur compte rendu.")),
        SectionSpec("overdue_steps", tr("Prochaines étapes en retard ({n})"),
                    (tr("Échéance"), tr("Retard"), tr("Projet"), tr("Étape")), step_cells,
                    tr("Aucune étape en retard.")),
        SectionSpec("inbox", tr("Orientations reçues à traiter ({n})"),
                    (tr("Reçue le"), tr("Attente"), tr("Relancée le"), tr("Projet"), tr("De")), referral_cells,
                    tr("Aucune orientation en attente de votre réponse.")),
        SectionSpec("outbox", tr("Orientations envoyées sans réponse ({n})"),
                    (tr("Envoyée le"), tr("Attente"), tr("Relancée le"), tr("Projet"), tr("Vers")), referral_cells,
                    tr("Toutes vos orientations ont reçu une réponse.")),
        SectionSpec("quiet_projects",
                    tr("Projets sans rendez-vous depuis plus de {days} jours ({n})").replace(
                        "{days}", str(NO_CONTACT_DAYS)),
                    (tr("Projet"), tr("Dernier rendez-vous"), tr("Depuis")), quiet_cells,
                    tr("Tous vos projets actifs ont eu un rendez-vous récent.")),
    )


class SectionBox(QFrame):
    """One section: a title with its count, and a compact table (or a line saying there is nothing)."""

    def __init__(self, spec: SectionSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent, frameShape=QFrame.Shape.StyledPanel)
        self.spec = spec
        self.setObjectName(f"section_{spec.key}")
        self.title = QLabel(self)
        self.title.setStyleSheet("font-weight: 600; font-size: 11pt;")
        self.model: RecordsTableModel[Any] = RecordsTableModel(spec.headers, spec.cells, lambda i: i.project_id, self)
        self.table = dense_table(self, spec.title.replace(" ({n})", ""))
        self.table.setModel(self.model)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setMinimumHeight(self.table.verticalHeader().defaultSectionSize() * MIN_ROWS_SHOWN + 26)
        self.title.setBuddy(self.table)
        self.empty = QLabel(spec.empty, self)
        self.empty.setStyleSheet("color: palette(placeholder-text); padding: 6px 2px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addStretch(0)
        self.set_section(Section(0, ()))

    @property
    def total(self) -> int:
        return self._total

    def set_section(self, section: Section[Any]) -> None:
        self._total = section.total
        self.title.setText(self.spec.title.format(n=section.total))
        self.model.set_items(section.rows)
        self.table.setVisible(section.total > 0)
        self.empty.setVisible(section.total == 0)
        vertical = QSizePolicy.Policy.Expanding if section.total else QSizePolicy.Policy.Maximum
        self.setSizePolicy(QSizePolicy.Policy.Preferred, vertical)
        if section.total:
            self._fit_columns()

    def _fit_columns(self) -> None:
        """Columns as wide as their content (at most MAX_COLUMN_WIDTH); the last one takes what is left."""
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount() - 1):
            self.table.resizeColumnToContents(column)
            header.resizeSection(column, min(header.sectionSize(column) + 12, MAX_COLUMN_WIDTH))


class HomeView(QWidget):
    """The advisor's day."""

    # ---- Signals

    sig_open_project = Signal(object)
    """A row was activated (Enter, double-click): the project's id."""
    sig_loaded = Signal()
    """The sections show fresh data."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._loading = False
        self.heading = QLabel(self)
        self.heading.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.subheading = QLabel(self)
        self.subheading.setStyleSheet("color: palette(placeholder-text);")
        self.sections = {spec.key: SectionBox(spec, self) for spec in section_specs()}
        self._column_of: dict[str, QVBoxLayout] = {}
        self._build_layout()
        for box in self.sections.values():
            box.table.activated.connect(self._on_activated)
        steps_table = self.sections["overdue_steps"].table
        self.step_done_action = screen_action(steps_table, "step_done", self.tr("Marquer l'étape comme faite"),
                                              "Ctrl+Return", self.mark_step_done)
        steps_table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        steps_table.setAccessibleDescription(self.tr("Entrée : ouvrir le projet. Ctrl+Entrée : marquer l'étape "
                                                     "comme faite aujourd'hui."))
        self.watcher = ChangeWatcher(ctx, self, WATCHED_CHANGES, self.refresh)
        self.refresh()

    def _build_layout(self) -> None:
        """Two columns of sections; an empty section shrinks to its title and one line."""
        content = QWidget(self)
        outer = QVBoxLayout(content)
        outer.setContentsMargins(16, 12, 16, 16)
        outer.setSpacing(4)
        outer.addWidget(self.heading)
        outer.addWidget(self.subheading)
        columns = QHBoxLayout()
        columns.setSpacing(14)
        for keys in (("today_appointments", "tomorrow_appointments", "unrecorded", "quiet_projects"),
                     ("inbox", "outbox", "overdue_steps")):
            column = QVBoxLayout()
            column.setSpacing(12)
            for key in keys:
                column.addWidget(self.sections[key])
                self._column_of[key] = column
            column.addStretch(0)
            columns.addLayout(column, 1)
        outer.addSpacing(8)
        outer.addLayout(columns, 1)
        scroll = QScrollArea(self, widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    # ---- Public API

    @property
    def is_loading(self) -> bool:
        return self._loading

    def refresh(self) -> None:
        ctx = self._ctx
        advisor_id, structure_id, today = ctx.advisor_id, ctx.structure_id, ctx.today
        self._loading = True
        Query(self, lambda session: home_data(session, advisor_id, structure_id, today), ctx=ctx) \
            .success(self._show).run()

    def section(self, key: str) -> SectionBox:
        return self.sections[key]

    def mark_step_done(self) -> None:
        """Mark the overdue step under the cursor done today; the home then refreshes without it."""
        box = self.sections["overdue_steps"]
        index = box.table.currentIndex()
        step = box.model.item(index.row()) if index.isValid() else None
        if not isinstance(step, StepItem):
            return
        step_id, today = step.id, self._ctx.today
        Op(self, lambda session, actor: steps.mark_step_done(session, actor, step_id, done_on=today, today=today),
           ctx=self._ctx).run()

    # ---- Slots

    def _show(self, data: HomeData) -> None:
        self._loading = False
        self.heading.setText(self.tr("Bonjour, {name}").format(name=data.advisor_name))
        day = long_date(data.today)
        self.subheading.setText(f"{day[:1].upper()}{day[1:]} · {data.structure_name}")
        for key, box in self.sections.items():
            section = getattr(data, key)
            box.set_section(section)
            # Taller lists get more of the column's height; an empty section keeps its one line.
            self._column_of[key].setStretchFactor(box, min(len(section.rows), MAX_STRETCH))
        logger.debug("home loaded")
        self.sig_loaded.emit()

    def _on_activated(self, index: QModelIndex) -> None:
        project_id = index.data(IdRole)
        if isinstance(project_id, uuid.UUID):
            self.sig_open_project.emit(project_id)

    def focus_first_list(self) -> None:
        for box in self.sections.values():
            if box.table.isVisible():
                box.table.setFocus(Qt.FocusReason.OtherFocusReason)
                return
