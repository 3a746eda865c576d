"""HomeView: the advisor's day on the demo database (DEMO_TODAY), loaded through one Query."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.appointments import AppointmentDraft, add_appointment
from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus
from ess_accompagnement.domain.entities import NextStep, Project
from ess_accompagnement.domain.queries.home import AppointmentItem, ReferralItem, StepItem, home_data
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.models.paged import IdRole
from ess_accompagnement.ui.views.home import HomeView, appointment_cells, days_text, referral_cells, step_cells
from tests.ui.conftest import DEMO_TODAY


@pytest.fixture
def home(qtbot: QtBot, busy_ctx: AppContext) -> Iterator[HomeView]:
    view = HomeView(busy_ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.sig_loaded, timeout=5000):
        view.show()
    yield view


def expected(ctx: AppContext):  # noqa: ANN201 - HomeData
    with ctx.db.read() as session:
        return home_data(session, ctx.advisor_id, ctx.structure_id, DEMO_TODAY)


def test_sections_show_the_advisors_day_with_counts(home: HomeView, busy_ctx: AppContext) -> None:
    data = expected(busy_ctx)
    for key, box in home.sections.items():
        section = getattr(data, key)
        assert box.total == section.total
        assert f"({section.total})" in box.title.text()
        assert box.model.rowCount() == len(section.rows)
        assert box.table.isVisibleTo(home) == (section.total > 0)
        assert box.empty.isVisibleTo(home) == (section.total == 0)
    # the demo advisor has work (projects without contact are covered by tests/domain/test_home_queries.py)
    assert data.overdue_steps.total > 0


def test_heading_greets_the_advisor_with_the_french_date(home: HomeView, busy_ctx: AppContext) -> None:
    name = expected(busy_ctx).advisor_name
    assert home.heading.text() == f"Bonjour, {name}"
    assert home.subheading.text().startswith("Dimanche 15 mars 2026 · ")


def test_activating_a_row_emits_its_project(qtbot: QtBot, home: HomeView) -> None:
    table = home.section("overdue_steps").table
    index = table.model().index(0, 2)
    with qtbot.waitSignal(home.sig_open_project) as blocker:
        table.activated.emit(index)
    assert blocker.args == [index.data(IdRole)]
    assert isinstance(blocker.args[0], uuid.UUID)


def test_enter_on_a_row_opens_its_project(qtbot: QtBot, home: HomeView) -> None:
    table = home.section("overdue_steps").table
    table.setFocus()
    table.setCurrentIndex(table.model().index(0, 0))
    with qtbot.waitSignal(home.sig_open_project, timeout=2000):
        qtbot.keyClick(table, Qt.Key.Key_Return)


def test_ctrl_enter_marks_an_overdue_step_done(qtbot: QtBot, home: HomeView, busy_ctx: AppContext) -> None:
    # GIVEN the first overdue step of the list, set by the advisor's structure
    box = home.section("overdue_steps")
    before = box.total
    step = box.model.item(0)
    with busy_ctx.db.read() as session:
        assert session.get(NextStep, step.id).owner_structure_id == busy_ctx.structure_id
    assert "Marquer l'étape comme faite" in [a.text() for a in box.table.actions()]
    # WHEN the advisor presses Ctrl+Enter on it
    box.table.setFocus()
    box.table.setCurrentIndex(box.model.index(0, 0))
    with qtbot.waitSignal(home.sig_loaded, timeout=5000):
        qtbot.keyClick(box.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    # THEN it is done today and the list no longer has it
    with busy_ctx.db.read() as session:
        assert session.get(NextStep, step.id).done_date == DEMO_TODAY
    assert box.total == before - 1
    assert step.id not in [box.model.item(row).id for row in range(box.model.rowCount())]


def test_an_appointment_added_today_appears_after_refresh(qtbot: QtBot, home: HomeView, busy_ctx: AppContext) -> None:
    # GIVEN an appointment at 14:30 today for one of the advisor's projects
    with busy_ctx.db.transaction() as session:
        from sqlalchemy import select

        from ess_accompagnement.domain.actors import load_actor

        project_id = session.execute(select(Project.id).where(Project.lead_advisor_id == busy_ctx.advisor_id)
                                     .limit(1)).scalar_one()
        draft = AppointmentDraft(project_id=project_id, starts_at=dt.datetime(2026, 3, 15, 14, 30, tzinfo=PARIS),
                                 duration_minutes=60, mode=AppointmentMode.VISIO, status=AppointmentStatus.PLANIFIE)
        add_appointment(session, load_actor(session, busy_ctx.advisor_id), draft,
                        now=dt.datetime(2026, 3, 15, 8, tzinfo=PARIS))
    # WHEN the view refreshes
    with qtbot.waitSignal(home.sig_loaded, timeout=5000):
        home.refresh()
    # THEN today's section lists it with its time and mode
    box = home.section("today_appointments")
    assert box.title.text() == "Rendez-vous aujourd'hui (1)"
    assert [box.model.index(0, c).data() for c in range(3)][::2] == ["14:30", "Visio"]


@pytest.mark.parametrize(("days", "text"), [(0, "0 jour"), (1, "1 jour"), (12, "12 jours"), (None, "jamais")])
def test_days_text(days: int | None, text: str) -> None:
    assert days_text(days) == text


def test_cells_formatting() -> None:
    project = uuid.uuid4()
    step = StepItem(uuid.uuid4(), project, "Épicerie", "Envoyer le budget", dt.date(2026, 3, 2), 13)
    assert step_cells(step) == ("02/03/2026", "13 jours", "Épicerie", "Envoyer le budget")
    appointment = AppointmentItem(uuid.uuid4(), project, "Épicerie", dt.datetime(2026, 3, 15, 9, 5, tzinfo=PARIS),
                                  60, AppointmentMode.PERMANENCE, "Mairie de Vierzon")
    assert appointment_cells(appointment) == ("09:05", "Épicerie", "Permanence — Mairie de Vierzon")
    phone = dataclasses.replace(appointment, mode=AppointmentMode.TELEPHONE)
    assert appointment_cells(phone)[2] == "Téléphone"
    referral = ReferralItem(uuid.uuid4(), project, "Épicerie", "France Active", dt.date(2026, 3, 1), 14)
    assert referral_cells(referral) == ("01/03/2026", "14 jours", "", "Épicerie", "France Active")
    once = dataclasses.replace(referral, reminded_on=dt.date(2026, 3, 10), reminder_count=1)
    assert referral_cells(once)[2] == "10/03/2026"
    assert referral_cells(dataclasses.replace(once, reminder_count=3))[2] == "10/03/2026 (3 relances)"
