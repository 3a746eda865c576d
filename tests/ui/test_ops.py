"""The database worker: use cases and loads off the GUI thread, results and errors back on it."""

from __future__ import annotations

import threading

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from ess_accompagnement.domain import settings
from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.domain.entities import Project
from ess_accompagnement.domain.errors import RuleError, UserFacingError
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.ops import Op, Query, changes_of


def test_query_runs_on_the_worker_and_answers_on_the_gui_thread(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a query recording the thread it ran on
    threads: list[str] = []
    results: list[int] = []

    def count(session: object) -> int:
        threads.append(threading.current_thread().name)
        return session.scalar(select(func.count()).select_from(Project))  # type: ignore[attr-defined]

    # WHEN it runs
    Query(None, count, ctx=ui_ctx).success(results.append).run()
    qtbot.waitUntil(lambda: bool(results))

    # THEN it ran on the database thread and its result reached the GUI thread
    assert threads[0].startswith("ess-db")
    assert results == [120]


def test_op_commits_and_announces_what_changed(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a use case changing a setting
    def change(session: object, _actor: object) -> Changes:
        settings.set_referral_expiry_days(session, 45)  # type: ignore[arg-type]
        return Changes(referrals=True)

    # WHEN it runs
    with qtbot.waitSignal(ui_ctx.sig_changed) as blocker:
        Op(None, change, ctx=ui_ctx).run()

    # THEN the change is committed and announced
    assert blocker.args[0] == Changes(referrals=True)
    with ui_ctx.db.read() as session:
        assert settings.referral_expiry_days(session) == 45


def test_op_refused_writes_nothing_and_reports_to_failure(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a use case that writes, then breaks a rule
    errors: list[UserFacingError] = []

    def refuse(session: object, _actor: object) -> Changes:
        settings.set_referral_expiry_days(session, 45)  # type: ignore[arg-type]
        raise RuleError("Règle enfreinte.", field="phase")

    # WHEN it runs
    Op(None, refuse, ctx=ui_ctx).failure(errors.append).run()
    qtbot.waitUntil(lambda: bool(errors))

    # THEN the error reached the caller and nothing was written
    assert errors[0].field == "phase"
    with ui_ctx.db.read() as session:
        assert settings.referral_expiry_days(session) == 30


def test_refused_op_without_failure_handler_shows_the_message(qtbot: QtBot, ui_ctx: AppContext) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    def refuse(_session: object, _actor: object) -> Changes:
        raise RuleError("Règle enfreinte.")

    Op(None, refuse, ctx=ui_ctx).run()
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()))
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert box.text() == "Règle enfreinte."
    box.close()


@pytest.mark.parametrize(("result", "expected"), [(Changes(notes=True), Changes(notes=True)), (None, None)])
def test_changes_of(result: object, expected: Changes | None) -> None:
    changes = changes_of(result)
    if expected is None:
        assert all(getattr(changes, name) for name in Changes.__dataclass_fields__)
    else:
        assert changes == expected
