"""The agenda on the demo database: the week, holidays, navigation, keyboard and mouse."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from ess_accompagnement.domain.entities import Advisor, Appointment
from ess_accompagnement.domain.queries.agenda import Scope
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.views.agenda import AgendaView
from ess_accompagnement.ui.widgets.agenda_grid import FIRST_HOUR, HEADER_H, TIME_W
from tests.ui.conftest import DEMO_TODAY
from tests.ui.fakes import DialogRecorder


@pytest.fixture
def view(qtbot: QtBot, ui_ctx: AppContext) -> AgendaView:
    view = AgendaView(ui_ctx)
    qtbot.addWidget(view)
    view.dialog_factory = DialogRecorder()
    view.resize(1440, 900)
    view.show()
    qtbot.waitUntil(lambda: view.week is not None)
    return view


def load(qtbot: QtBot, view: AgendaView, action) -> None:  # noqa: ANN001
    with qtbot.waitSignal(view.sig_loaded):
        action()


def test_shows_this_week_in_french(view: AgendaView) -> None:
    assert view.week is not None and view.week.monday == dt.date(2026, 3, 9)
    assert view.title.text().startswith("Semaine 11 · du lundi 9 mars 2026 au")


def test_navigation_and_holidays(qtbot: QtBot, view: AgendaView) -> None:
    # WHEN the advisor goes four weeks ahead, to Easter Monday's week
    for _ in range(4):
        load(qtbot, view, view.next_action.trigger)
    # THEN the holiday is marked
    assert view.week.monday == dt.date(2026, 4, 6)
    assert view.week.holidays == {dt.date(2026, 4, 6): "Lundi de Pâques"}
    # AND back, and back to this week
    load(qtbot, view, view.previous_action.trigger)
    assert view.week.monday == dt.date(2026, 3, 30)
    load(qtbot, view, view.today_action.trigger)
    assert view.week.monday == dt.date(2026, 3, 9)
    assert view.next_action.shortcut().toString() == "PgDown"


def colleagues_day(ctx: AppContext) -> dt.date:
    """The latest day before DEMO_TODAY on which the owner's colleagues held an appointment (the demo spreads
    ten years of them, so the current week may have none)."""
    with ctx.db.read() as session:
        starts = session.execute(
            select(func.max(Appointment.starts_at)).join(Advisor, Advisor.id == Appointment.advisor_id)
            .where(Advisor.structure_id == ctx.structure_id, Appointment.deleted_at.is_(None),
                   Appointment.starts_at < dt.datetime.combine(DEMO_TODAY, dt.time.min, tzinfo=PARIS))).scalar_one()
    assert starts is not None, "the demo gives the owner's structure colleagues with appointments"
    return starts.astimezone(PARIS).date()


def test_structure_scope_shows_colleagues_appointments(qtbot: QtBot, view: AgendaView, ui_ctx: AppContext) -> None:
    load(qtbot, view, lambda: view.go_to(colleagues_day(ui_ctx)))
    assert view.week.appointments == ()  # the owner advisor has none in the demo
    load(qtbot, view, lambda: view.set_scope_index(view.scope.findData(Scope.STRUCTURE)))
    assert view.week.appointments
    assert all(not a.mine for a in view.week.appointments)


def test_keyboard_creates_an_appointment_at_the_cursor(qtbot: QtBot, view: AgendaView) -> None:
    grid = view.grid
    grid.setFocus()
    grid.cursor_day, grid.cursor_slot = 0, 0
    # WHEN the advisor moves right twice and down three half-hours, then presses Enter
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Down):
        qtbot.keyClick(grid, key)
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    # THEN the appointment dialog opens on Wednesday 9:30
    dialog = view.dialog_factory.last
    assert dialog.key == "appointment"
    assert dialog.kwargs["start"] == dt.datetime(2026, 3, 11, 9, 30, tzinfo=PARIS)
    assert "mer. 11 mars 09:30" in grid.accessibleDescription()


def test_enter_or_double_click_on_an_appointment_opens_it(qtbot: QtBot, view: AgendaView, ui_ctx: AppContext) -> None:
    load(qtbot, view, lambda: view.go_to(colleagues_day(ui_ctx)))
    load(qtbot, view, lambda: view.set_scope_index(1))
    item = view.week.appointments[0]
    grid = view.grid
    grid.cursor_day = grid.days.index(item.starts_at.date())
    grid.cursor_slot = (item.starts_at.hour - FIRST_HOUR) * 2 + item.starts_at.minute // 30
    qtbot.keyClick(grid, Qt.Key.Key_Enter)
    assert view.dialog_factory.last.kwargs["appointment_id"] == item.id
    assert view.dialog_factory.last.kwargs["project_id"] == item.project_id


def test_double_click_on_an_empty_slot_creates(qtbot: QtBot, view: AgendaView) -> None:
    grid = view.grid
    x = TIME_W + int(grid._column_width() * 3.5)  # Thursday
    y = HEADER_H + int(grid._slot_height() * 12.5)  # 14:00–14:30
    qtbot.mouseDClick(grid, Qt.MouseButton.LeftButton, pos=QPoint(x, y))

    assert view.dialog_factory.last.kwargs["start"] == dt.datetime(2026, 3, 12, 14, 0, tzinfo=PARIS)
    assert DEMO_TODAY.weekday() == 6 and grid.day_count in (6, 7)
