"""A project's members after its creation: add one who joins, change a role, remove one who left.

Each dialog runs one use case of ``domain.members`` through the form's ``Op``. The porteur rule is checked as
the advisor types, with the domain's own words (``members.check_*``), and again by the use case on Save.
"""

from __future__ import annotations

import html
import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import members
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import MemberRole
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError
from ess_accompagnement.domain.projects import ProjectValues, project_values
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import CodedCombo, DateEdit
from ess_accompagnement.ui.dialogs.form import FormDialog
from ess_accompagnement.ui.dialogs.holder_picker import HolderPicker
from ess_accompagnement.ui.dialogs.note import not_future
from ess_accompagnement.ui.labels import capitalised

logger = logging.getLogger(__name__)


def _t(text: str) -> str:
    return QCoreApplication.translate("MemberDialogs", text)


class AddMemberDialog(FormDialog):
    """« Ajouter un membre »: an existing person found by the search, or a new one checked for duplicates."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Ajouter un membre au projet"))
        self.project_id = project_id
        self._project: ProjectValues | None = None
        self._roles: tuple[MemberRole, ...] = ()
        self.setMinimumWidth(560)
        body = QVBoxLayout()
        self.picker = HolderPicker(self, self._commune_code, single=True)
        self.picker.role_row.check = self._check_role
        body.addWidget(self.picker)
        form = self.new_form()
        self.date = DateEdit(field="date")
        self.date.set_date(ctx.today)
        self.add_field(form, self.tr("Date d'arri&vée"), self.date, names=("date",), required=True,
                       check=self._check_date)
        body.addLayout(form)
        self.save_button.setText(self.tr("Ajouter au proj&et"))
        self.finish(body)
        self.load(self._read, self._fill)

    def _read(self, session: Session) -> tuple[ProjectValues, list[MemberRole]] | None:
        try:
            return project_values(session, self.project_id), members.member_roles(session, self.project_id)
        except NotFoundError:
            return None

    def _fill(self, loaded: tuple[ProjectValues, list[MemberRole]] | None) -> None:
        if loaded is None:
            self.banner.setText(self.tr("Projet introuvable (supprimé ?)."))
            self.banner.show()
            return
        self._project, roles = loaded[0], tuple(loaded[1])
        self._roles = roles
        self.setWindowTitle(self.tr("Ajouter un membre – {0}").format(self._project.title))
        # a project without porteur needs one first; otherwise the newcomer most often joins as co-porteur
        self.picker.role.set_value(MemberRole.CO_PORTEUR if MemberRole.PORTEUR in roles else MemberRole.PORTEUR)

    def _commune_code(self) -> str | None:
        return self._project.commune_code if self._project else None

    def _check_role(self) -> None:
        role = self.picker.role.value()
        if role is not None and self._project is not None:
            members.check_new_member(self._roles, role)

    def _check_date(self) -> None:
        not_future(self.date, self.ctx.today, self.tr("Date d'arrivée : elle ne peut pas être dans le futur."))

    def form_valid(self) -> bool:
        return self._project is not None and self.picker.member() is not None

    def operation(self) -> Callable[[Session, Actor], Any]:
        holder, on, project_id, today = self.picker.member(), self.date.parse(), self.project_id, self.ctx.today
        if holder is None:
            raise ValidationError(self.tr("Personne à ajouter : choisissez une personne trouvée ou une nouvelle "
                                          "personne."), field="holder")
        return lambda session, actor: members.add_member(session, actor, project_id, holder, on=on, today=today)


class _Member:
    """The member a dialog acts on: a read-only « Membre » row, its load, and a banner when the person is no
    longer a member (a part of the dialog, not a dialog: the accessibility walk builds every dialog class)."""

    def __init__(self, dialog: FormDialog, form: QFormLayout, project_id: uuid.UUID, person_id: uuid.UUID,
                 fill: Callable[[members.MemberValues], None]) -> None:
        self._dialog, self._fill = dialog, fill
        self.project_id, self.person_id = project_id, person_id
        self.values: members.MemberValues | None = None
        self.field = QLineEdit(readOnly=True)
        self.row = dialog.add_field(form, _t("&Membre"), self.field, names=("member",))

    def load(self) -> None:
        project_id, person_id = self.project_id, self.person_id
        self._dialog.load(lambda session: members.member_values(session, project_id, person_id), self._loaded)

    def _loaded(self, values: members.MemberValues | None) -> None:
        self.values = values
        if values is None:
            self._dialog.banner.setText(_t("Cette personne ne fait pas (ou plus) partie du projet."))
            self._dialog.banner.show()
            return
        self.field.setText(values.name)
        self._fill(values)


class MemberRoleDialog(FormDialog):
    """« Changer le rôle » of a member."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, person_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Changer le rôle"))
        self._subject_id = person_id
        self.setMinimumWidth(520)
        form = self.new_form()
        self.member = _Member(self, form, project_id, person_id, self._fill)
        self.current = QLineEdit(readOnly=True)
        self.add_field(form, self.tr("Rôle a&ctuel"), self.current)
        self.role = CodedCombo(MemberRole, none_label=self.tr("— choisissez —"))
        self.add_field(form, self.tr("&Nouveau rôle"), self.role, names=("role",), required=True,
                       check=self._check_role)
        self.date = DateEdit(field="date")
        self.date.set_date(ctx.today)
        self.add_field(form, self.tr("&Date du changement"), self.date, names=("date",), required=True,
                       check=self._check_date)
        self.finish(form)
        self.member.load()

    def _fill(self, values: members.MemberValues) -> None:
        self.current.setText(capitalised(values.role))
        self.role.set_members([role for role in MemberRole if role is not values.role],
                              none_label=self.tr("— choisissez —"))
        self.setWindowTitle(self.tr("Changer le rôle – {0}").format(values.name))

    def _check_role(self) -> None:
        role = self.role.value()
        if role is not None and self.member.values is not None:
            members.check_role_change(self.member.values, role)

    def _check_date(self) -> None:
        not_future(self.date, self.ctx.today, self.tr("Date du changement : elle ne peut pas être dans le futur."))

    def form_valid(self) -> bool:
        return self.member.values is not None

    def operation(self) -> Callable[[Session, Actor], Any]:
        role, on, today = self.role.value(), self.date.parse(), self.ctx.today
        project_id, person_id = self.member.project_id, self.member.person_id
        if role is None:
            raise ValidationError(self.tr("Nouveau rôle : choisissez-le."), field="role")
        return lambda session, actor: members.change_member_role(session, actor, project_id, person_id, role, on=on,
                                                                 today=today)


class RemoveMemberDialog(FormDialog):
    """« Retirer du projet »: names the person and asks to confirm; the person stays recorded."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, person_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Retirer du projet"))
        self._subject_id = person_id
        self.setMinimumWidth(520)
        form = self.new_form()
        self.question = QLabel(wordWrap=True, objectName="remove_question")
        form.addRow(self.question)
        self.member = _Member(self, form, project_id, person_id, self._fill)
        self.date = DateEdit(field="date")
        self.date.set_date(ctx.today)
        self.add_field(form, self.tr("&Date de départ"), self.date, names=("date",), required=True,
                       check=self._check_date)
        self.reason = QPlainTextEdit(tabChangesFocus=True, maximumHeight=80)
        self.add_field(form, self.tr("&Raison (facultatif)"), self.reason, names=("reason",))
        self.save_button.setText(self.tr("Re&tirer du projet"))
        self.finish(form)
        self.member.load()

    def _fill(self, values: members.MemberValues) -> None:
        self.setWindowTitle(self.tr("Retirer du projet – {0}").format(values.name))
        self.question.setText(self.tr(
            "Retirer <b>{name}</b> du projet « {project} » ?<br>La personne reste enregistrée (sa fiche, son "
            "consentement, ses autres projets) ; son départ est noté dans la chronologie du projet."
        ).format(name=html.escape(values.name), project=html.escape(values.project_title)))
        try:
            members.check_removal(values)
        except RuleError as exc:  # the last porteur: said at once, next to the member, Save stays disabled
            self.show_refusal(exc)

    def _check_date(self) -> None:
        not_future(self.date, self.ctx.today, self.tr("Date de départ : elle ne peut pas être dans le futur."))

    def form_valid(self) -> bool:
        return self.member.values is not None

    def operation(self) -> Callable[[Session, Actor], Any]:
        on, reason, today = self.date.parse(), self.reason.toPlainText().strip() or None, self.ctx.today
        project_id, person_id = self.member.project_id, self.member.person_id
        return lambda session, actor: members.remove_member(session, actor, project_id, person_id, on=on,
                                                            reason=reason, today=today)
