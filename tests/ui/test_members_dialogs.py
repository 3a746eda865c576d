"""The project page's holders tab: add a member, change a role, remove one, clicked through on the demo database."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from ess_accompagnement.domain.codes import AdvisorRole, MemberRole
from ess_accompagnement.domain.entities import Person, Project, ProjectMember
from ess_accompagnement.domain.queries.project_records import HolderContact
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.form import FormDialog
from ess_accompagnement.ui.dialogs.member import AddMemberDialog, MemberRoleDialog, RemoveMemberDialog
from ess_accompagnement.ui.models.rows_model import RowRole
from ess_accompagnement.ui.views.project_page import ProjectPage, Tab
from tests.ui.dialogs.helpers import error_of, opened, save, type_text
from tests.ui.fakes import DialogRecorder


@pytest.fixture
def project_id(ui_ctx: AppContext) -> uuid.UUID:
    """A project the owner structure leads, with one porteur and at least one other member."""
    with ui_ctx.db.read() as session:
        porteurs = func.sum(ProjectMember.role == MemberRole.PORTEUR)
        return session.execute(
            select(Project.id).join(ProjectMember, ProjectMember.project_id == Project.id)
            .where(Project.lead_structure_id == ui_ctx.structure_id, Project.deleted_at.is_(None),
                   ProjectMember.deleted_at.is_(None))
            .group_by(Project.id).having(func.count() >= 2, porteurs == 1).order_by(Project.id).limit(1)
        ).scalar_one()


def _page(qtbot: QtBot, ctx: AppContext, project_id: uuid.UUID) -> ProjectPage:
    page = ProjectPage(ctx, project_id)
    qtbot.addWidget(page)
    page.resize(1440, 900)
    page.show()
    qtbot.waitUntil(lambda: page.data is not None)
    page.tabs.setCurrentIndex(Tab.HOLDERS)
    return page


@pytest.fixture
def page(qtbot: QtBot, ui_ctx: AppContext, project_id: uuid.UUID) -> ProjectPage:
    return _page(qtbot, ui_ctx, project_id)


def _holders(page: ProjectPage) -> list[HolderContact]:
    model = page.holders_table.model()
    return [model.index(row, 0).data(RowRole) for row in range(model.rowCount())]


def _select(page: ProjectPage, porteur: bool) -> HolderContact:
    """Select the first holder who is (or is not) a porteur."""
    for row, holder in enumerate(_holders(page)):
        if (holder.role is MemberRole.PORTEUR) == porteur:
            page.holders_table.selectRow(row)
            return holder
    raise AssertionError("no such holder")


def _click(qtbot: QtBot, page: ProjectPage, button: str, cls: type[FormDialog]) -> FormDialog:
    """Click a holders-tab button; the dialog it opened, once loaded."""
    assert page.member_buttons[button].isEnabled()
    qtbot.mouseClick(page.member_buttons[button], Qt.MouseButton.LeftButton)
    dialog = page.findChild(cls)
    assert dialog is not None and dialog.isVisible()
    assert page.ctx.tasks.wait_idle()
    QApplication.processEvents()
    return dialog


def _saved(qtbot: QtBot, page: ProjectPage, dialog: FormDialog) -> uuid.UUID:
    """Save, then wait until the page has reloaded what the dialog changed."""
    with qtbot.waitSignal(page.sig_loaded, timeout=10_000):
        saved = save(qtbot, page.ctx, dialog)
    return saved


def _history(page: ProjectPage) -> list[str]:
    model = page.timeline_model
    return [model.entry(row).detail or "" for row in range(model.rowCount()) if model.entry(row).kind == "note"]


def _link(ctx: AppContext, project_id: uuid.UUID, person_id: uuid.UUID) -> ProjectMember | None:
    with ctx.db.read() as session:
        link = session.scalars(select(ProjectMember).where(ProjectMember.project_id == project_id,
                                                           ProjectMember.person_id == person_id)).first()
        if link is not None:
            session.expunge(link)
        return link


# ---- Adding -------------------------------------------------------------------------------------


def test_add_an_existing_person(qtbot: QtBot, ui_ctx: AppContext, page: ProjectPage, project_id: uuid.UUID) -> None:
    # GIVEN a person recorded by the structure, who is not a member of the project
    with ui_ctx.db.read() as session:
        members = select(ProjectMember.person_id).where(ProjectMember.project_id == project_id)
        person = session.scalars(select(Person).where(Person.owner_structure_id == ui_ctx.structure_id,
                                                      Person.deleted_at.is_(None), Person.id.not_in(members))
                                 .order_by(Person.id)).first()
        name = f"{person.first_name} {person.last_name}"
    before = len(_holders(page))
    # WHEN the advisor clicks « Ajouter un membre… », finds the person and adds her as a volunteer
    dialog = _click(qtbot, page, "add_member", AddMemberDialog)
    assert isinstance(dialog, AddMemberDialog)
    picker = dialog.picker
    assert picker.role.value() is MemberRole.CO_PORTEUR  # the project has its porteur
    assert not dialog.save_button.isEnabled()
    type_text(qtbot, picker.search, name)
    qtbot.waitUntil(lambda: any(picker.results.item(i).data(Qt.ItemDataRole.UserRole).person_id == person.id
                                for i in range(picker.results.count())))
    picker.results.setCurrentRow(next(i for i in range(picker.results.count())
                                      if picker.results.item(i).data(Qt.ItemDataRole.UserRole).person_id == person.id))
    qtbot.mouseClick(picker.add_found, Qt.MouseButton.LeftButton)
    picker.role.set_value(MemberRole.BENEVOLE)
    assert _saved(qtbot, page, dialog) == person.id
    # THEN she is a member with that role, the page lists her, and the timeline says she joined
    link = _link(ui_ctx, project_id, person.id)
    assert link is not None and (link.deleted_at, link.role) == (None, MemberRole.BENEVOLE)
    assert len(_holders(page)) == before + 1
    assert f"{name} a rejoint le projet (bénévole)." in _history(page)


def test_add_a_new_person(qtbot: QtBot, ui_ctx: AppContext, page: ProjectPage, project_id: uuid.UUID) -> None:
    # GIVEN the add-member dialog
    dialog = _click(qtbot, page, "add_member", AddMemberDialog)
    assert isinstance(dialog, AddMemberDialog)
    picker = dialog.picker
    # WHEN a new person is typed, checked for duplicates, and saved as co-porteur
    type_text(qtbot, picker.first_name, "Zéphyrine")
    type_text(qtbot, picker.last_name, "Quenouillère")
    qtbot.mouseClick(picker.create, Qt.MouseButton.LeftButton)
    assert ui_ctx.tasks.wait_idle()
    assert picker.chosen.count() == 1 and not picker.warning.isVisibleTo(dialog)
    person_id = _saved(qtbot, page, dialog)
    # THEN the person exists, in the project's commune, and is a co-porteur
    with ui_ctx.db.read() as session:
        person = session.get(Person, person_id)
        project = session.get(Project, project_id)
        assert (person.first_name, person.last_name, person.commune_code) == (
            "Zéphyrine", "Quenouillère", project.commune_code)
    link = _link(ui_ctx, project_id, person_id)
    assert link is not None and link.role is MemberRole.CO_PORTEUR
    assert "Zéphyrine Quenouillère a rejoint le projet (co-porteur)." in _history(page)


def test_adding_a_member_twice_is_refused_next_to_the_person(qtbot: QtBot, ui_ctx: AppContext, page: ProjectPage,
                                                             project_id: uuid.UUID) -> None:
    # GIVEN a person already a member, chosen again
    holder = _holders(page)[0]
    dialog = _click(qtbot, page, "add_member", AddMemberDialog)
    assert isinstance(dialog, AddMemberDialog)
    type_text(qtbot, dialog.picker.search, f"{holder.first_name} {holder.last_name}")
    qtbot.waitUntil(lambda: dialog.picker.results.count() > 0)
    rows = range(dialog.picker.results.count())
    dialog.picker.results.setCurrentRow(next(i for i in rows if dialog.picker.results.item(i).data(
        Qt.ItemDataRole.UserRole).person_id == holder.person_id))
    qtbot.mouseClick(dialog.picker.add_found, Qt.MouseButton.LeftButton)
    # WHEN it is saved
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert ui_ctx.tasks.wait_idle()
    # THEN the refusal is shown under « Personne à ajouter », the dialog stays open, nothing changed
    assert error_of(dialog, dialog.picker.chosen).startswith("Personne à ajouter : elle fait déjà partie du projet")
    assert dialog.isVisible() and not dialog.save_button.isEnabled()
    with ui_ctx.db.read() as session:
        links = session.scalars(select(ProjectMember).where(ProjectMember.project_id == project_id,
                                                            ProjectMember.person_id == holder.person_id)).all()
    assert len(links) == 1


# ---- Changing a role ----------------------------------------------------------------------------


def test_change_a_role(qtbot: QtBot, ui_ctx: AppContext, page: ProjectPage, project_id: uuid.UUID) -> None:
    # GIVEN a member who is not the porteur, selected
    holder = _select(page, porteur=False)
    new_role = MemberRole.ASSOCIE_SALARIE if holder.role is not MemberRole.ASSOCIE_SALARIE else MemberRole.SALARIE
    # WHEN the advisor gives him another role
    dialog = _click(qtbot, page, "change_role", MemberRoleDialog)
    assert isinstance(dialog, MemberRoleDialog)
    assert dialog.member.field.text() == f"{holder.first_name} {holder.last_name}"
    dialog.role.set_value(new_role)
    assert _saved(qtbot, page, dialog) == holder.person_id
    # THEN the role is stored, shown, and traced
    link = _link(ui_ctx, project_id, holder.person_id)
    assert link is not None and link.role is new_role
    assert next(h for h in _holders(page) if h.person_id == holder.person_id).role is new_role
    assert (f"Rôle de {holder.first_name} {holder.last_name} : {holder.role.label} → {new_role.label}."
            in _history(page))


def test_the_only_porteur_keeps_the_role(qtbot: QtBot, page: ProjectPage) -> None:
    _select(page, porteur=True)
    dialog = _click(qtbot, page, "change_role", MemberRoleDialog)
    assert isinstance(dialog, MemberRoleDialog)

    dialog.role.set_value(MemberRole.CO_PORTEUR)

    assert error_of(dialog, dialog.role).startswith("Rôle : le projet doit garder au moins un porteur.")
    assert not dialog.save_button.isEnabled()
    assert dialog.role.findData(MemberRole.PORTEUR.value) == -1  # the current role is not offered


# ---- Removing -----------------------------------------------------------------------------------


def test_remove_a_member(qtbot: QtBot, ui_ctx: AppContext, page: ProjectPage, project_id: uuid.UUID) -> None:
    # GIVEN a member who is not the porteur, selected
    holder = _select(page, porteur=False)
    name = f"{holder.first_name} {holder.last_name}"
    before = len(_holders(page))
    # WHEN the advisor clicks « Retirer du projet… », reads the confirmation naming him, and confirms
    dialog = _click(qtbot, page, "remove_member", RemoveMemberDialog)
    assert isinstance(dialog, RemoveMemberDialog)
    assert name in dialog.question.text() and "reste enregistrée" in dialog.question.text()
    assert dialog.save_button.text().replace("&", "") == "Retirer du projet"
    type_text(qtbot, dialog.reason, "Il a quitté la région.")
    assert _saved(qtbot, page, dialog) == holder.person_id
    # THEN the link is soft-deleted, the person is kept, the page and the timeline follow
    link = _link(ui_ctx, project_id, holder.person_id)
    assert link is not None and link.deleted_at is not None
    with ui_ctx.db.read() as session:
        person = session.get(Person, holder.person_id)
        assert person is not None and person.deleted_at is None
    assert len(_holders(page)) == before - 1
    assert f"{name} a quitté le projet. Il a quitté la région." in _history(page)


def test_the_last_porteur_cannot_be_removed(qtbot: QtBot, page: ProjectPage) -> None:
    _select(page, porteur=True)

    dialog = _click(qtbot, page, "remove_member", RemoveMemberDialog)
    assert isinstance(dialog, RemoveMemberDialog)

    assert "doit garder au moins un porteur" in error_of(dialog, dialog.member.field)
    assert not dialog.save_button.isEnabled()


def test_a_person_no_longer_member_is_said_so(qtbot: QtBot, ui_ctx: AppContext, project_id: uuid.UUID) -> None:
    for cls in (MemberRoleDialog, RemoveMemberDialog):
        dialog = opened(qtbot, ui_ctx, cls(ui_ctx, project_id, uuid.uuid4()))
        assert dialog.banner.isVisibleTo(dialog)
        assert dialog.banner.text() == "Cette personne ne fait pas (ou plus) partie du projet."
        assert not dialog.save_button.isEnabled()


# ---- Who may use the buttons --------------------------------------------------------------------


def test_buttons_open_the_member_dialogs(page: ProjectPage, project_id: uuid.UUID) -> None:
    page.dialog_factory = DialogRecorder()
    holder = _select(page, porteur=False)
    for button, key in (("add_member", "member_add"), ("change_role", "member_role"),
                        ("remove_member", "member_remove")):
        page.member_buttons[button].click()
        dialog = page.dialog_factory.last
        assert (dialog.key, dialog.opened, dialog.args[:2]) == (key, True, (page.ctx, project_id))
        assert key == "member_add" or dialog.args[2] == holder.person_id


def test_buttons_need_a_selected_member(page: ProjectPage) -> None:
    page.holders_table.clearSelection()
    page.holders_table.setCurrentIndex(page.holders_table.model().index(-1, -1))
    assert page.member_buttons["add_member"].isEnabled()
    assert not page.member_buttons["change_role"].isEnabled()
    assert not page.member_buttons["remove_member"].isEnabled()
    assert page.member_buttons["remove_member"].toolTip() == "Choisissez d'abord un membre dans la liste."


def test_buttons_disabled_for_another_structures_project(qtbot: QtBot, ui_ctx: AppContext) -> None:
    with ui_ctx.db.read() as session:
        other = session.scalars(select(Project.id).where(Project.lead_structure_id != ui_ctx.structure_id,
                                                         Project.deleted_at.is_(None)).order_by(Project.id)).first()
    page = _page(qtbot, ui_ctx, other)
    page.holders_table.selectRow(0)
    buttons = page.member_buttons.values()
    assert not any(button.isEnabled() for button in buttons)
    assert {button.toolTip() for button in buttons} == {
        "Seule la structure qui mène le projet peut modifier ses membres."}


def test_buttons_disabled_for_a_read_only_advisor(qtbot: QtBot, ui_ctx: AppContext, project_id: uuid.UUID) -> None:
    ui_ctx.actor = dataclasses.replace(ui_ctx.actor, role=AdvisorRole.LECTURE)
    page = _page(qtbot, ui_ctx, project_id)
    page.holders_table.selectRow(0)
    assert not any(button.isEnabled() for button in page.member_buttons.values())
    assert page.member_buttons["add_member"].toolTip() == "Votre profil est en lecture seule."


def test_buttons_are_named_for_assistive_technologies(page: ProjectPage) -> None:
    names = [button.accessibleName() for button in page.member_buttons.values()]
    assert names == ["Ajouter un membre", "Changer le rôle", "Retirer du projet"]
    holders_tab = page.tabs.widget(Tab.HOLDERS)
    assert isinstance(holders_tab, QWidget) and holders_tab.isAncestorOf(page.holders_table)
