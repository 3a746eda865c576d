"""Orientations on the demo database: inbox and outbox, status filter, reminder, answer, open the project."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain import referrals
from ess_accompagnement.domain.actors import load_actor
from ess_accompagnement.domain.codes import ReferralStatus
from ess_accompagnement.domain.entities import Project, Referral, Structure
from ess_accompagnement.domain.queries.referrals import Box, ReferralRow, referral_rows
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.models.rows_model import IdRole
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


def sent_awaiting_referral(ui_ctx: AppContext) -> uuid.UUID:
    """A referral our structure sent today to another structure, still awaiting its answer."""
    with ui_ctx.db.transaction() as session:
        actor = load_actor(session, ui_ctx.advisor_id)
        project = session.execute(select(Project.id).where(
            Project.lead_structure_id == actor.structure_id, Project.deleted_at.is_(None)).limit(1)).scalar_one()
        target = session.execute(select(Structure.id).where(
            Structure.id != actor.structure_id, Structure.active, Structure.deleted_at.is_(None)).limit(1)).scalar_one()
        draft = referrals.ReferralDraft(project, target, "Besoin d'un prêt d'honneur")
        return referrals.propose(session, actor, draft, today=DEMO_TODAY - dt.timedelta(days=25)).id


def test_remind_records_the_reminder_and_copies_a_french_email(qtbot: QtBot, view: ReferralsView,
                                                               ui_ctx: AppContext) -> None:
    # GIVEN a referral we sent 25 days ago, unanswered, shown in the outbox
    referral_id = sent_awaiting_referral(ui_ctx)
    view.show()  # a shown screen refreshes as soon as a change is announced
    with qtbot.waitSignal(view.sig_loaded):
        view.refresh()
    view.tabs.setCurrentIndex(2)
    model = view.outbox_table.model()
    (index,) = [model.index(r, 0) for r in range(model.rowCount()) if model.index(r, 0).data(IdRole) == referral_id]
    view.outbox_table.setCurrentIndex(index)
    assert view.remind_action.isEnabled()
    reminded_column = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index(
        "Relancée")
    assert index.siblingAtColumn(reminded_column).data() == "—"

    # WHEN the advisor clicks « Relancer » twice
    for _ in range(2):
        with qtbot.waitSignal(view.sig_loaded):
            view.remind_action.trigger()

    # THEN the reminders are recorded in the database
    with ui_ctx.db.read() as session:
        referral = session.get(Referral, referral_id)
        assert (referral.reminded_on, referral.reminder_count) == (DEMO_TODAY, 2)
    # AND the French e-mail is in the clipboard, the confirmation shown, the outbox column filled
    text = QGuiApplication.clipboard().text()
    assert text.startswith("Objet : Relance – orientation du projet « ")
    assert "mercredi 18 février 2026" in text and "Besoin d'un prêt d'honneur" in text
    assert "déjà adressé une relance le dimanche 15 mars 2026" in text
    assert view.message.text() == ("Relance enregistrée le 15/03/2026 ; texte copié dans le presse-papiers : "
                                   "collez-le dans votre messagerie (Ctrl+V).")
    (index,) = [model.index(r, 0) for r in range(model.rowCount()) if model.index(r, 0).data(IdRole) == referral_id]
    assert index.siblingAtColumn(reminded_column).data() == "15/03/2026 (2 relances)"
    assert "Relancée 2 fois" in view.detail.text()


def test_remind_is_only_for_our_unanswered_referrals(view: ReferralsView) -> None:
    sent = sample(incoming=False)
    show(view, [], [sent, dataclasses.replace(sent, id=uuid.uuid4(), status=ReferralStatus.ACCEPTEE)])
    view.tabs.setCurrentIndex(2)
    view.outbox_table.selectRow(0)
    assert view.remind_action.isEnabled()
    assert view.reminder_text(sent).rstrip().endswith("Camille Martin\nURSCOP Centre-Val de Loire")
    assert "mercredi 18 février 2026" in view.reminder_text(sent)
    view.outbox_table.selectRow(1)
    assert not view.remind_action.isEnabled()
