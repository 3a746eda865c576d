"""The « Tableau de bord »: tiles equal to compute_indicators, « Voir les projets », the report written."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QEventLoop, QTimer
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.indicators import Scope, compute_indicators
from ess_accompagnement.reports.activity import key_figures
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.views import dashboard
from ess_accompagnement.ui.views.dashboard import DashboardView, period_bounds
from ess_accompagnement.ui.widgets.project_list import IdRole

LAST_YEAR = Scope(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def settle(ctx: AppContext, timeout_ms: int = 30_000) -> None:
    """Wait for the worker in ONE event loop run.

    PySide6 6.12.0 drops a reference to None on every Python call of ``processEvents``/``qWait`` (so
    ``TaskManager.wait_idle``, which loops on it, aborts the interpreter after a few thousand turns:
    « none_dealloc »). One ``QEventLoop.exec()`` call, quit by a timer, does not.
    """
    loop = QEventLoop()
    poll = QTimer(interval=10)
    poll.timeout.connect(lambda: None if ctx.tasks.busy else loop.quit())
    poll.start()
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    poll.stop()


@pytest.fixture
def view(ui_ctx: AppContext, qtbot: QtBot) -> DashboardView:
    widget = DashboardView(ui_ctx)
    qtbot.addWidget(widget)
    widget.period_combo.setCurrentIndex(widget.period_combo.findData("last_year"))
    widget.refresh()
    settle(ui_ctx)
    return widget


def test_period_presets() -> None:
    today = dt.date(2026, 3, 15)
    assert period_bounds("this_year", today) == (dt.date(2026, 1, 1), today)
    assert period_bounds("last_year", today) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert period_bounds("last_12_months", today) == (dt.date(2025, 3, 16), today)


def test_tiles_show_the_indicators_of_my_structure(view: DashboardView, ui_ctx: AppContext) -> None:
    scope = Scope(LAST_YEAR.start, LAST_YEAR.end, structure_id=ui_ctx.structure_id)
    assert view.scope() == scope
    with ui_ctx.db.read() as session:
        expected = key_figures(compute_indicators(session, scope))
    shown = {tile.figure.key: tile for tile in view.tiles if tile.figure is not None}
    assert len(shown) == len(expected)
    for figure in expected:
        tile = shown[figure.key]
        assert tile.headline.text() == figure.headline and tile.detail.text() == figure.detail
    accompanied = shown["projets_accompagnes"]
    assert accompanied.figure is not None and accompanied.figure.count > 0
    assert len(view.charts) == 7 and all(chart.accessibleName() for chart in view.charts)
    assert "31/12/2025" in view.status_label.text() and view.busy.isHidden()


def test_filters_change_the_scope(view: DashboardView, ui_ctx: AppContext) -> None:
    view.structure_combo.setCurrentIndex(view.structure_combo.findData(dashboard.ALL))
    view.departement_combo.setCurrentIndex(1)
    code = view.departement_combo.currentData()
    view.refresh()
    settle(ui_ctx)
    assert view.data is not None and view.data.indicators.scope == Scope(LAST_YEAR.start, LAST_YEAR.end,
                                                                         departement=code)


def test_see_projects_lists_the_figure_and_opens_one(view: DashboardView, ui_ctx: AppContext) -> None:
    tile = next(t for t in view.tiles if t.figure is not None and t.figure.key == "rendez_vous_realises")
    assert tile.figure is not None
    dialog = view.show_projects(tile)
    assert dialog is not None
    settle(ui_ctx)
    listed = [dialog.model.index(row, 0).data(IdRole) for row in range(dialog.model.rowCount())]
    assert sorted(listed) == sorted(tile.figure.project_ids)[:len(listed)] and listed
    opened: list[uuid.UUID] = []
    view.sig_open_project.connect(opened.append)
    dialog.table.activated.emit(dialog.model.index(0, 0))
    assert opened == [listed[0]]
    dialog.close()


@pytest.mark.parametrize("kind", ["pdf", "xlsx"])
def test_report_is_written_through_the_worker(view: DashboardView, ui_ctx: AppContext, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    target = tmp_path / "rapport"  # no extension typed: the view adds it
    monkeypatch.setattr(dashboard.QFileDialog, "getSaveFileName", lambda *_args: (str(target), ""))
    view.save_report(kind)
    assert not view.busy.isHidden() and not view.print_button.isEnabled()
    settle(ui_ctx)
    written = tmp_path / f"rapport.{kind}"
    assert view.last_written == written and written.stat().st_size > 1000
    assert written.name in view.status_label.text() and view.print_button.isEnabled()


def test_changes_elsewhere_refresh_the_view(view: DashboardView, ui_ctx: AppContext) -> None:
    from ess_accompagnement.domain.changes import Changes

    before = view.data
    ui_ctx.sig_changed.emit(Changes(appointments=True), None)
    view._refresh_timer.timeout.emit()
    settle(ui_ctx)
    assert view.data is not before
