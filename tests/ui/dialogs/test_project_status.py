"""The project status dialog: closing as abandoned needs a reason."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain.codes import ProjectStatus
from ess_accompagnement.domain.entities import Note, Project
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.project_status import ProjectStatusDialog
from tests.ui.dialogs.helpers import error_of, opened, save, type_text


def test_abandon_a_project_with_a_reason(qtbot: QtBot, ui_ctx: AppContext) -> None:
    with ui_ctx.db.read() as session:
        project_id = session.scalars(select(Project.id).where(Project.lead_structure_id == ui_ctx.structure_id,
                                                              Project.status == ProjectStatus.ACTIF)).first()
    dialog = opened(qtbot, ui_ctx, ProjectStatusDialog(ui_ctx, project_id))
    assert dialog.status.findText("Actif") == -1  # the current status is not offered
    dialog.status.set_value(ProjectStatus.ABANDONNE)
    assert dialog.reason_row.label.text().endswith("*") and not dialog.save_button.isEnabled()
    type_text(qtbot, dialog.reason, "Le porteur a retrouvé un emploi salarié.")
    assert error_of(dialog, dialog.reason) == ""
    save(qtbot, ui_ctx, dialog)
    with ui_ctx.db.read() as session:
        project = session.get(Project, project_id)
        note = session.scalars(select(Note).where(Note.project_id == project_id)
                               .order_by(Note.created_at.desc())).first()
    assert project.status is ProjectStatus.ABANDONNE
    assert note.text == "Statut : actif → abandonné. Le porteur a retrouvé un emploi salarié."
