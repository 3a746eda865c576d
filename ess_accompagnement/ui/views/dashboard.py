"""« Tableau de bord »: the indicators of a period as tiles and charts, printable as a « rapport d'activité ».

Everything is computed on the database worker (``Query``): the indicators, the headline figures
(``reports.activity.key_figures``, the same as the report's first table) and the charts
(``reports.charts``, the very drawings the PDF prints, turned into SVG). The GUI thread only paints.
Each tile's « Voir les projets » lists the projects its figure counts. The report is written by the
worker too, to a file chosen by the user (PDF or XLSX).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QDate, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.domain.indicators import Indicators, Scope, compute_indicators
from ess_accompagnement.domain.queries.catalogue import StructureRow, list_structures
from ess_accompagnement.reports.activity import (
    KeyFigure,
    build_activity_report,
    key_figures,
    report_departements,
    write_activity_report,
)
from ess_accompagnement.reports.charts import build_charts, to_svg
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.errors import show_error
from ess_accompagnement.ui.ops import Query
from ess_accompagnement.ui.widgets.chart_view import ChartView
from ess_accompagnement.ui.widgets.project_list import ProjectListDialog
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher

logger = logging.getLogger(__name__)

TILE_COLUMNS = 6
CHART_COLUMNS = 2
REFRESH_DELAY_MS = 250  # several changes in a row (a filter typed, a burst of saves) refresh once
PERIODS = ("this_year", "last_year", "last_12_months", "custom")
ALL = "__all__"

_STYLE = """
#dashboard_tile, #dashboard_chart { background: palette(base); border: 1px solid palette(mid); border-radius: 6px; }
#tile_caption { color: palette(placeholder-text); }
#tile_headline { font-weight: 600; }
"""


@dataclass(frozen=True)
class DashboardData:
    """What the worker computed for one scope: figures, headline numbers and charts as SVG."""

    indicators: Indicators
    tiles: tuple[KeyFigure, ...]
    charts: tuple[tuple[str, bytes], ...]  # (title, svg)


def load_dashboard(session: Session, scope: Scope) -> DashboardData:
    """The dashboard of ``scope`` (runs on the worker: SQL, then the drawings)."""
    figures = compute_indicators(session, scope)
    charts = tuple((chart.title, to_svg(chart.drawing, chart.title)) for chart in build_charts(figures))
    return DashboardData(figures, tuple(key_figures(figures)), charts)


def load_choices(session: Session) -> tuple[list[StructureRow], list[str]]:
    """The structures and départements the filters offer (runs on the worker: never a widget's method there)."""
    return list_structures(session, include_inactive=True), report_departements(session)


def period_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last days of a preset period (« custom » keeps the year to date)."""
    if period == "last_year":
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    if period == "last_12_months":
        start = today.replace(year=today.year - 1) if not (today.month == 2 and today.day == 29) \
            else dt.date(today.year - 1, 2, 28)
        return start + dt.timedelta(days=1), today
    return dt.date(today.year, 1, 1), today


class Tile(QFrame):
    """A headline number, its caption and what it counts, with « Voir les projets »."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="dashboard_tile")
        self.caption = QLabel(self, objectName="tile_caption", wordWrap=True)
        self.headline = QLabel(self, objectName="tile_headline")
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.9)
        self.headline.setFont(font)
        self.detail = QLabel(self, objectName="tile_detail", wordWrap=True)
        self.button = QPushButton(self.tr("Voir les projets"), self, flat=True)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.setSpacing(2)
        for widget in (self.caption, self.headline, self.detail):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        self.figure: KeyFigure | None = None

    def show_figure(self, figure: KeyFigure) -> None:
        self.figure = figure
        caption = QCoreApplication.translate("Activity", figure.label)
        self.caption.setText(caption)
        self.headline.setText(figure.headline)
        self.detail.setText(QCoreApplication.translate("Activity", figure.detail))
        self.button.setEnabled(len(figure.project_ids) > 0)
        self.button.setAccessibleName(self.tr("Voir les projets : {figure}").format(figure=caption))
        self.setAccessibleName(f"{caption} : {figure.headline} {figure.detail}")


class DashboardView(QWidget):
    """The indicators of a period, for my structure by default, as tiles and charts."""

    # ---- Signals

    sig_open_project = Signal(uuid.UUID)
    """A project listed behind a figure was activated, with its id."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._generation = 0  # results of a superseded refresh are dropped
        self._pending = 0
        self.data: DashboardData | None = None
        self.last_written: Path | None = None
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self.setStyleSheet(_STYLE)
        self._build_filters()
        self._build_body()
        self._build_layout()
        self._connect()
        self._apply_period()
        Query(self, load_choices, ctx=ctx).success(self._on_choices).run()
        self.refresh()

    # ---- Building

    def _build_filters(self) -> None:
        self.period_combo = QComboBox(self)
        for key, text in zip(PERIODS, (self.tr("Cette année"), self.tr("L'année dernière"),
                                       self.tr("Les 12 derniers mois"), self.tr("Période choisie")), strict=True):
            self.period_combo.addItem(text, key)
        self.start_edit, self.end_edit = self._date_edit(), self._date_edit()
        self.structure_combo = QComboBox(self, sizeAdjustPolicy=QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.structure_combo.addItem(self.tr("Ma structure"), str(self._ctx.structure_id))
        self.structure_combo.addItem(self.tr("Toutes les structures"), ALL)
        self.departement_combo = QComboBox(self)
        self.departement_combo.addItem(self.tr("Tous"), ALL)
        self.print_button = QPushButton(self.tr("&Imprimer le rapport d'activité…"), self)
        self.export_button = QPushButton(self.tr("E&xporter (XLSX)…"), self)
        self.busy = QProgressBar(self, minimum=0, maximum=0, textVisible=False, maximumWidth=120, maximumHeight=10)
        self.busy.setAccessibleName(self.tr("Calcul en cours"))
        self.busy.hide()
        self.status_label = QLabel(self, wordWrap=True)

    def _date_edit(self) -> QDateEdit:
        edit = QDateEdit(self, calendarPopup=True, displayFormat="dd/MM/yyyy")
        edit.setMinimumDate(QDate(2000, 1, 1))
        return edit

    def _build_body(self) -> None:
        self.tiles = [Tile(self) for _ in range(11)]
        self.charts: list[ChartView] = []
        self._tile_grid, self._chart_grid = QGridLayout(), QGridLayout()
        self._tile_grid.setSpacing(10)
        self._chart_grid.setSpacing(12)
        for index, tile in enumerate(self.tiles):
            self._tile_grid.addWidget(tile, index // TILE_COLUMNS, index % TILE_COLUMNS)
            tile.button.clicked.connect(lambda _checked=False, t=tile: self.show_projects(t))
        for column in range(TILE_COLUMNS):
            self._tile_grid.setColumnStretch(column, 1)

    def _labelled(self, row: QHBoxLayout, text: str, widget: QWidget) -> None:
        label = QLabel(text, self)
        label.setBuddy(widget)
        row.addWidget(label)
        row.addWidget(widget)
        row.addSpacing(10)

    def _build_layout(self) -> None:
        filters = QHBoxLayout()
        self._labelled(filters, self.tr("&Période :"), self.period_combo)
        self._labelled(filters, self.tr("&Du"), self.start_edit)
        self._labelled(filters, self.tr("&au"), self.end_edit)
        self._labelled(filters, self.tr("&Structure :"), self.structure_combo)
        self._labelled(filters, self.tr("Dé&partement :"), self.departement_combo)
        filters.addStretch(1)
        filters.addWidget(self.print_button)
        filters.addWidget(self.export_button)
        status = QHBoxLayout()
        status.addWidget(self.status_label, 1)
        status.addWidget(self.busy)
        content = QWidget(self)
        body = QVBoxLayout(content)
        body.setContentsMargins(0, 0, 6, 0)
        body.addLayout(self._tile_grid)
        body.addSpacing(8)
        body.addLayout(self._chart_grid)
        body.addStretch(1)
        scroll = QScrollArea(self, widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(status)
        layout.addWidget(scroll, 1)

    def _connect(self) -> None:
        self.period_combo.currentIndexChanged.connect(self._apply_period)
        for edit in (self.start_edit, self.end_edit):
            edit.dateChanged.connect(self._on_dates_edited)
        self.structure_combo.currentIndexChanged.connect(self._schedule_refresh)
        self.departement_combo.currentIndexChanged.connect(self._schedule_refresh)
        self.print_button.clicked.connect(lambda: self.save_report("pdf"))
        self.export_button.clicked.connect(lambda: self.save_report("xlsx"))
        self.watcher = ChangeWatcher(self._ctx, self, None, self._schedule_refresh)

    # ---- Scope

    def scope(self) -> Scope:
        start, end = self.start_edit.date().toPython(), self.end_edit.date().toPython()
        structure = self.structure_combo.currentData()
        departement = self.departement_combo.currentData()
        return Scope(start, max(start, end), structure_id=None if structure == ALL else uuid.UUID(structure),
                     departement=None if departement == ALL else departement)

    def _apply_period(self) -> None:
        period = self.period_combo.currentData()
        custom = period == "custom"
        for edit in (self.start_edit, self.end_edit):
            edit.setEnabled(custom)
        if not custom:
            start, end = period_bounds(period, self._ctx.today)
            for edit, day in ((self.start_edit, start), (self.end_edit, end)):
                blocked = edit.blockSignals(True)
                edit.setDate(QDate(day.year, day.month, day.day))
                edit.blockSignals(blocked)
        self._schedule_refresh()

    def _on_dates_edited(self) -> None:
        if self.end_edit.date() < self.start_edit.date():
            self.status_label.setText(self.tr("La fin de la période précède son début."))
            return
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        self._refresh_timer.start()

    # ---- Loading

    def refresh(self) -> None:
        """Compute the dashboard of the current scope on the worker."""
        self._refresh_timer.stop()
        self._generation += 1
        generation, scope = self._generation, self.scope()
        self._set_busy(+1)
        Query(self, lambda session: load_dashboard(session, scope), ctx=self._ctx) \
            .success(lambda data: self._on_loaded(generation, data)).run()

    def _on_choices(self, choices: tuple[list[StructureRow], list[str]]) -> None:
        structures, departements = choices
        for combo in (self.structure_combo, self.departement_combo):
            combo.blockSignals(True)
        mine = next((s for s in structures if s.id == self._ctx.structure_id), None)
        if mine is not None:
            self.structure_combo.setItemText(0, self.tr("Ma structure ({name})").format(name=mine.short_name
                                                                                        or mine.name))
        for row in structures:
            if row.id != self._ctx.structure_id:
                self.structure_combo.addItem(row.short_name or row.name, str(row.id))
        for code in departements:
            self.departement_combo.addItem(code, code)
        for combo in (self.structure_combo, self.departement_combo):
            combo.blockSignals(False)

    def _on_loaded(self, generation: int, data: DashboardData) -> None:
        self._set_busy(-1)
        if generation != self._generation:
            return  # a newer scope was asked for meanwhile
        self.data = data
        for tile, figure in zip(self.tiles, data.tiles, strict=True):
            tile.show_figure(figure)
        self._show_charts(data.charts)
        scope = data.indicators.scope
        self.status_label.setText(self.tr(
            "Du {start} au {end} : chiffres comptés pour la structure qui a fait le travail, tels qu'ils étaient "
            "au {end}.").format(start=f"{scope.start:%d/%m/%Y}", end=f"{scope.end:%d/%m/%Y}"))
        logger.debug("dashboard shown: %d figures", len(data.indicators.figures))

    def _show_charts(self, charts: tuple[tuple[str, bytes], ...]) -> None:
        while len(self.charts) < len(charts):
            frame = QFrame(self, objectName="dashboard_chart")
            view = ChartView(frame)
            box = QVBoxLayout(frame)
            box.setContentsMargins(10, 10, 10, 10)
            box.addWidget(view)
            index = len(self.charts)
            self._chart_grid.addWidget(frame, index // CHART_COLUMNS, index % CHART_COLUMNS,
                                       Qt.AlignmentFlag.AlignTop)
            self.charts.append(view)
        for view, (title, svg) in zip(self.charts, charts, strict=False):
            view.set_svg(svg, QCoreApplication.translate("Charts", title))

    def _set_busy(self, delta: int) -> None:
        self._pending += delta
        self.busy.setVisible(self._pending > 0)
        for button in (self.print_button, self.export_button):
            button.setEnabled(self._pending == 0)

    # ---- Actions

    def show_projects(self, tile: Tile) -> ProjectListDialog | None:
        """« Voir les projets »: the projects behind a tile's figure, in a dialog."""
        if tile.figure is None:
            return None
        title = self.tr("Projets derrière « {figure} »").format(
            figure=QCoreApplication.translate("Activity", tile.figure.label))
        dialog = ProjectListDialog(self._ctx, title, tile.figure.project_ids, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_open_project.connect(self.sig_open_project)
        dialog.open()
        return dialog

    def save_report(self, kind: str) -> None:
        """Ask where to write the rapport d'activité (PDF or XLSX), then write it on the worker."""
        scope = self.scope()
        name = f"rapport-activite-{scope.start:%Y-%m-%d}-{scope.end:%Y-%m-%d}.{kind}"
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        filters = self.tr("Document PDF (*.pdf)") if kind == "pdf" else self.tr("Classeur Excel (*.xlsx)")
        title = self.tr("Imprimer le rapport d'activité") if kind == "pdf" else self.tr("Exporter le rapport (XLSX)")
        path, _selected = QFileDialog.getSaveFileName(self, title, str(Path(folder) / name), filters)
        if not path:
            return
        if not path.lower().endswith(f".{kind}"):
            path += f".{kind}"
        structure_id, today = self._ctx.structure_id, self._ctx.today  # read here: the worker touches no QObject
        self._set_busy(+1)
        self.status_label.setText(self.tr("Écriture du rapport…"))
        Query(self, lambda session: write_activity_report(
            build_activity_report(session, scope, printing_structure_id=structure_id, today=today), path),
            ctx=self._ctx).success(self._on_written).failure(self._on_write_failed).run()

    def _on_written(self, path: Path) -> None:
        self._set_busy(-1)
        self.last_written = path
        self.status_label.setText(self.tr("Rapport écrit : {name}").format(name=path.name))

    def _on_write_failed(self, exc: UserFacingError) -> None:
        self._set_busy(-1)
        self.status_label.setText("")
        show_error(self, exc)
