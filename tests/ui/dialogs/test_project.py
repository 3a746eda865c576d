"""The project dialog: create with holders (existing persons first, duplicates warned), edit, refusals."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain.entities import Person, Project, ProjectMember
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.project import ProjectDialog
from tests.ui.dialogs.helpers import error_of, my_project, opened, replace_text, save, type_text


def _commune(qtbot: QtBot, ctx: AppContext, dialog: ProjectDialog, text: str) -> None:
    type_text(qtbot, dialog.commune, text)
    qtbot.waitUntil(lambda: not dialog.commune.busy)
    ctx.tasks.wait_idle()


def test_create_a_project_with_a_new_holder(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN the new-project dialog
    dialog = opened(qtbot, ui_ctx, ProjectDialog(ui_ctx))
    assert not dialog.save_button.isEnabled()
    # WHEN the advisor types the title, the commune and a new holder, then saves
    type_text(qtbot, dialog.title, "Épicerie coopérative « Le Panier »")
    _commune(qtbot, ui_ctx, dialog, "Châteauroux")
    picker = dialog.holders
    assert picker is not None
    type_text(qtbot, picker.first_name, "Anaïs")
    type_text(qtbot, picker.last_name, "Zébulon-Tétard")
    type_text(qtbot, picker.email, "anais.zt@exemple.fr")
    qtbot.mouseClick(picker.create, Qt.MouseButton.LeftButton)
    ui_ctx.tasks.wait_idle()
    project_id = save(qtbot, ui_ctx, dialog)
    # THEN the project, its commune and its holder are in the database
    with ui_ctx.db.read() as session:
        project = session.get(Project, project_id)
        person = session.scalars(select(Person).join(ProjectMember, ProjectMember.person_id == Person.id)
                                 .where(ProjectMember.project_id == project_id)).one()
    assert (project.title, project.commune_code) == ("Épicerie coopérative « Le Panier »", "36044")
    assert (person.first_name, person.last_name, person.email, person.commune_code) == (
        "Anaïs", "Zébulon-Tétard", "anais.zt@exemple.fr", "36044")


def test_a_probable_duplicate_is_offered_instead_of_a_new_person(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN an existing person with a commune
    with ui_ctx.db.read() as session:
        existing = session.scalars(select(Person).where(Person.commune_code.is_not(None)).order_by(Person.id)).first()
        commune = session.get(Person, existing.id).commune_code
        count = len(session.scalars(select(Person.id)).all())
    dialog = opened(qtbot, ui_ctx, ProjectDialog(ui_ctx))
    dialog.commune.set_commune(commune)
    ui_ctx.tasks.wait_idle()
    type_text(qtbot, dialog.title, "Tiers-lieu")
    picker = dialog.holders
    assert picker is not None
    # WHEN the same name is typed as a new holder in that commune
    type_text(qtbot, picker.first_name, existing.first_name.upper())
    type_text(qtbot, picker.last_name, existing.last_name)
    qtbot.mouseClick(picker.create, Qt.MouseButton.LeftButton)
    ui_ctx.tasks.wait_idle()
    # THEN a warning lists the existing person, and adding it links that person, creating nobody
    assert picker.warning.isVisibleTo(dialog) and picker.results.count() >= 1
    assert "nom proche dans la même commune" in picker.results.item(0).text()
    assert picker.chosen.count() == 0
    qtbot.mouseClick(picker.add_found, Qt.MouseButton.LeftButton)
    assert picker.holders()[0].person_id == existing.id
    project_id = save(qtbot, ui_ctx, dialog)
    with ui_ctx.db.read() as session:
        member = session.scalars(select(ProjectMember).where(ProjectMember.project_id == project_id)).one()
        assert member.person_id == existing.id
        assert len(session.scalars(select(Person.id)).all()) == count


def test_search_finds_existing_persons(qtbot: QtBot, ui_ctx: AppContext) -> None:
    with ui_ctx.db.read() as session:
        existing = session.scalars(select(Person).order_by(Person.id)).first()
    dialog = opened(qtbot, ui_ctx, ProjectDialog(ui_ctx))
    picker = dialog.holders
    assert picker is not None
    type_text(qtbot, picker.search, existing.last_name)
    qtbot.waitUntil(lambda: picker.results.count() > 0)
    texts = [picker.results.item(i).text() for i in range(picker.results.count())]
    assert any(f"{existing.first_name} {existing.last_name}" in text for text in texts)


def test_invalid_siret_keeps_save_disabled(qtbot: QtBot, ui_ctx: AppContext) -> None:
    dialog = opened(qtbot, ui_ctx, ProjectDialog(ui_ctx, my_project(ui_ctx)))
    assert dialog.save_button.isEnabled()
    replace_text(qtbot, dialog.siret, "123 456")
    assert not dialog.save_button.isEnabled()
    assert "14 chiffres" in error_of(dialog, dialog.siret)
    replace_text(qtbot, dialog.siret, "73282932000074")
    assert dialog.save_button.isEnabled() and error_of(dialog, dialog.siret) == ""


def test_edit_a_project(qtbot: QtBot, ui_ctx: AppContext) -> None:
    project_id = my_project(ui_ctx)
    dialog = opened(qtbot, ui_ctx, ProjectDialog(ui_ctx, project_id))
    replace_text(qtbot, dialog.title, "Café associatif « L'Écluse »")
    replace_text(qtbot, dialog.filiere, "Restauration")
    dialog.esus.setChecked(True)
    assert save(qtbot, ui_ctx, dialog) == project_id
    with ui_ctx.db.read() as session:
        project = session.get(Project, project_id)
    assert (project.title, project.filiere, project.esus) == ("Café associatif « L'Écluse »", "Restauration", True)


def test_refusal_without_a_field_is_shown_in_the_banner(qtbot: QtBot, ui_ctx: AppContext) -> None:
    # GIVEN a project led by another structure
    with ui_ctx.db.read() as session:
        other = session.scalars(select(Project.id).where(Project.lead_structure_id != ui_ctx.structure_id)).first()
    dialog = opened(qtbot, ui_ctx, ProjectDialog(ui_ctx, other))
    # WHEN it is saved
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    ui_ctx.tasks.wait_idle()
    # THEN the domain's refusal is shown at the top and the dialog stays open
    assert dialog.banner.isVisibleTo(dialog) and "structure qui mène" in dialog.banner.text()
    assert dialog.isVisible()
