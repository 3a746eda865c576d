"""The note dialog."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.entities import Note
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.note import NoteDialog
from tests.ui.dialogs.helpers import error_of, my_project, opened, replace_text, save, type_text


def test_write_a_shared_note(qtbot: QtBot, ui_ctx: AppContext) -> None:
    project_id = my_project(ui_ctx)
    dialog = opened(qtbot, ui_ctx, NoteDialog(ui_ctx, project_id))
    assert not dialog.save_button.isEnabled()
    type_text(qtbot, dialog.text, "Très motivée ; prévoir une visite à l'épicerie.")
    replace_text(qtbot, dialog.date, "14/03/2026")
    dialog.shared.setChecked(True)
    note_id = save(qtbot, ui_ctx, dialog)
    with ui_ctx.db.read() as session:
        note = session.get(Note, note_id)
    assert (note.project_id, note.text, note.shared, note.written_on.isoformat()) == (
        project_id, "Très motivée ; prévoir une visite à l'épicerie.", True, "2026-03-14")


def test_future_note_date_is_refused_inline(qtbot: QtBot, ui_ctx: AppContext) -> None:
    dialog = opened(qtbot, ui_ctx, NoteDialog(ui_ctx, my_project(ui_ctx)))
    type_text(qtbot, dialog.text, "Note")
    replace_text(qtbot, dialog.date, "20/03/2026")
    assert "futur" in error_of(dialog, dialog.date) and not dialog.save_button.isEnabled()
