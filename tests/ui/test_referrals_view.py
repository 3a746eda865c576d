"""Orientations on the demo database: inbox and outbox, status filter, reminder, answer, open the project."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.codes import ReferralStatus
from ess_accompagnement.domain.queries.referrals import Box, ReferralRow, referral_rows
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.views.referrals import ReferralLists, ReferralsView
from tests.ui.conftest import DEMO_TODAY
from tests.ui.fakes import DialogRecorder


@pytest.fixture
def view(qtbot: QtBot, ui_ctx: AppContext) -> ReferralsView:
    view = ReferralsView(ui_ctx)
    qtbot.addWidget(view)
    view.dialog_factory = DialogRecorder()
    view.resize(1440, 900)
    qtbot.waitUntil(lambda: view.lists is not None)
    return view


def sample(status: ReferralStatus = ReferralStatus.PROPOSEE, *, incoming: bool) -> ReferralRow:
    return ReferralRow(
        id=uuid.uuid4(), project_id=uuid.uuid4(), project_title="Épicerie « La Cagette »", from_structure="URSCOP",
        to_structure="France Active", dispositif=None, motive="Besoin d'un prêt d'honneur", status=status,
        proposed_on=dt.date(2026, 2, 18), answered_on=None, expires_on=dt.date(2026, 3, 20), age_days=25,
        refusal_reason=None, outcome=None, incoming=incoming, days_left=5)


def show(view: ReferralsView, inbox: list[ReferralRow], outbox: list[ReferralRow]) -> None:
    view._show(ReferralLists(inbox, outbox, "Camille Martin", "URSCOP Centre-Val de Loire"))


def test_lists_match_the_query(view: ReferralsView, ui_ctx: AppContext) -> None:
    with ui_ctx.db.read() as session:
        sent = referral_rows(session, ui_ctx.structure_id, box=Box.OUTBOX, today=DEMO_TODAY)
    assert view.outbox_model.rowCount() == len(sent) > 0
    assert view.tabs.tabText(2) == f"&Envoyées ({len(sent)})"
    assert view.tabs.tabText(0) == "À &traiter (0)"


def test_status_filter(view: ReferralsView) -> None:
    view.tabs.setCurrentIndex(2)
    table = view.outbox_table
    total = table.model().rowCount()

    view.status_filter.setCurrentIndex(view.status_filter.findData(ReferralStatus.EN_COURS))

    shown = [table.model().index(r, 2).data() for r in range(table.model().rowCount())]
    assert 0 < len(shown) < total
    assert set(shown) == {"En cours"}


def test_waiting_tab_answer_and_open(qtbot: QtBot, view: ReferralsView) -> None:
    # GIVEN one referral waiting for our answer and one already accepted
    waiting, accepted = sample(incoming=True), sample(ReferralStatus.ACCEPTEE, incoming=True)
    show(view, [waiting, accepted], [])
    assert view.tabs.tabText(0) == "À &traiter (1)" and view.tabs.tabText(1) == "Re&çues (2)"
    # WHEN the advisor selects it and answers
    view.tabs.setCurrentIndex(0)
    view.waiting_table.selectRow(0)
    assert "Besoin d&#x27;un prêt" in view.detail.text()
    view.answer_action.trigger()
    # THEN the answer dialog opens on it
    assert view.dialog_factory.last.key == "referral_answer"
    assert view.dialog_factory.last.args[1] == waiting.id
    assert not view.remind_action.isEnabled()
    # AND a double-click opens the project
    with qtbot.waitSignal(view.sig_open_project) as blocker:
        view.waiting_table.doubleClicked.emit(view.waiting_table.model().index(0, 0))
    assert blocker.args == [waiting.project_id]


def test_remind_copies_a_french_email(view: ReferralsView) -> None:
    sent = sample(incoming=False)
    show(view, [], [sent, dataclasses.replace(sent, id=uuid.uuid4(), status=ReferralStatus.ACCEPTEE)])
    view.tabs.setCurrentIndex(2)
    view.outbox_table.selectRow(0)

    view.remind_action.trigger()

    text = QGuiApplication.clipboard().text()
    assert text.startswith("Objet : Relance – orientation du projet « Épicerie « La Cagette » »")
    assert "mercredi 18 février 2026" in text and "vendredi 20 mars 2026" in text
    assert text.rstrip().endswith("Camille Martin\nURSCOP Centre-Val de Loire")
    assert "presse-papiers" in view.message.text()
    view.outbox_table.selectRow(1)
    assert not view.remind_action.isEnabled()
