"""What the dialog tests share: typing any text (accents included), saving, reading the demo database."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain.entities import Advisor, Project, Referral
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.form import FormDialog


def type_text(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Type ``text`` into ``widget`` key by key. ``qtbot.keyClicks`` aborts the process on non-ASCII
    characters (Qt testlib's qasciikey), so accented ones are sent as text events (ecosystem.md)."""
    widget.setFocus()
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
        else:
            QTest.sendKeyEvent(QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, char, Qt.KeyboardModifier.NoModifier)


def replace_text(qtbot: QtBot, widget: QWidget, text: str) -> None:
    widget.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    type_text(qtbot, widget, text)


def opened(qtbot: QtBot, ctx: AppContext, dialog: FormDialog) -> FormDialog:
    """Show the dialog and wait until what it loads has arrived."""
    qtbot.addWidget(dialog)
    dialog.show()
    assert ctx.tasks.wait_idle()
    QApplication.processEvents()  # lay out what the load added before anything is clicked
    return dialog


def save(qtbot: QtBot, ctx: AppContext, dialog: FormDialog) -> uuid.UUID:
    """Click Save and wait for ``sig_saved``; the id saved."""
    assert dialog.save_button.isEnabled(), [r.error.text() for r in dialog._rows if r.error.text()]
    with qtbot.waitSignal(dialog.sig_saved, timeout=10_000) as blocker:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    ctx.tasks.wait_idle()
    return blocker.args[0]  # type: ignore[no-any-return]


def click_save_expecting_refusal(qtbot: QtBot, ctx: AppContext, dialog: FormDialog) -> None:
    assert dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert ctx.tasks.wait_idle()


def error_of(dialog: FormDialog, widget: QWidget) -> str:
    """The message shown under ``widget`` ('' when none is visible)."""
    row = next(row for row in dialog._rows if row.widget is widget)
    return row.error.text() if row.error.isVisibleTo(dialog) else ""


def my_project(ctx: AppContext) -> uuid.UUID:
    """A project the acting advisor's structure leads."""
    with ctx.db.read() as session:
        return session.scalars(select(Project.id).where(Project.lead_structure_id == ctx.structure_id,
                                                        Project.deleted_at.is_(None)).order_by(Project.id)).first()


def other_advisor(ctx: AppContext) -> uuid.UUID:
    """An active advisor of another structure (to act as a partner)."""
    with ctx.db.read() as session:
        return session.scalars(select(Advisor.id).where(Advisor.structure_id != ctx.structure_id,
                                                        Advisor.active.is_(True)).order_by(Advisor.id)).first()


def outgoing_referral(ctx: AppContext) -> uuid.UUID | None:
    with ctx.db.read() as session:
        return session.scalars(select(Referral.id).where(Referral.from_structure_id == ctx.structure_id)).first()
