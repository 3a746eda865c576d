"""A person (project holder): identity, contact, situation, and the record of their consent."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLineEdit, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import persons, validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import ConsentScope, ConsentSource, Gender, Situation
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import CodedCombo, CommuneEdit, DateEdit
from ess_accompagnement.ui.dialogs.form import FormDialog

logger = logging.getLogger(__name__)


class PersonDialog(FormDialog):
    """« Nouvelle personne » or « Modifier la personne »; ``value()`` → ``PersonDraft``."""

    def __init__(self, ctx: AppContext, person_id: uuid.UUID | None = None, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Nouvelle personne") if person_id is None else self.tr("Modifier la personne"))
        self._subject_id = self.person_id = person_id
        self.setMinimumWidth(560)
        form = self.new_form()
        self.first_name, self.last_name = QLineEdit(maxLength=100), QLineEdit(maxLength=100)
        self.add_field(form, self.tr("&Prénom"), self.first_name, names=("first_name",), required=True)
        self.add_field(form, self.tr("&Nom"), self.last_name, names=("last_name",), required=True)
        self.gender = CodedCombo(Gender)
        self.gender.set_value(Gender.NON_RENSEIGNE)
        self.add_field(form, self.tr("&Genre"), self.gender, names=("gender",))
        self.birth_year = QLineEdit(maxLength=4, placeholderText=self.tr("AAAA"))
        self.add_field(form, self.tr("Année de na&issance"), self.birth_year, names=("birth_year",),
                       check=self._birth_year)
        self.email, self.phone = QLineEdit(maxLength=200), QLineEdit(maxLength=30)
        self.add_field(form, self.tr("Co&urriel"), self.email, names=("email",), check=self._check_email)
        self.add_field(form, self.tr("&Téléphone"), self.phone, names=("phone",), check=self._check_phone)
        self.commune = CommuneEdit(ctx)
        self.add_field(form, self.tr("&Commune"), self.commune, names=("commune",), check=self.commune.parse)
        self.situation = CodedCombo(Situation, none_label=self.tr("— non renseignée —"))
        self.add_field(form, self.tr("&Situation"), self.situation, names=("situation",))
        self._consent_rows(form)
        self.finish(form)
        if person_id is not None:
            self.load(lambda session: persons.person_values(session, person_id), self._fill)

    def _consent_rows(self, form: Any) -> None:
        self.consented = self.add_check(form, self.tr("Consentement &recueilli"))
        self.consent_date = DateEdit(field="consent_date")
        self.consent_date_row = self.add_field(form, self.tr("&Date du consentement"), self.consent_date,
                                               names=("consent_date",), check=self._check_consent_date)
        self.scope = CodedCombo(ConsentScope)
        self.add_field(form, self.tr("P&ortée"), self.scope, names=("consent_scope",))
        self.source = CodedCombo(ConsentSource)
        self.add_field(form, self.tr("&Forme"), self.source, names=("consent_source",))
        self.consented.toggled.connect(self._consent_toggled)
        self._consent_toggled(False)

    def _consent_toggled(self, on: bool) -> None:
        for widget in (self.consent_date, self.scope, self.source):
            widget.setEnabled(on)
        if on and not self.consent_date.text():
            self.consent_date.set_date(self.ctx.today)
        self.set_required(self.consent_date_row, on)

    # ---- Checks

    def _birth_year(self) -> int | None:
        text = self.birth_year.text().strip()
        return validation.birth_year(text, "birth_year", today=self.ctx.today) if text else None

    def _check_email(self) -> None:
        if self.email.text().strip():
            validation.email(self.email.text(), "email")

    def _check_phone(self) -> None:
        if self.phone.text().strip():
            validation.phone(self.phone.text(), "phone")

    def _check_consent_date(self) -> None:
        date = self.consent_date.parse()
        if date is not None and date > self.ctx.today:
            raise ValidationError(self.tr("Date du consentement : elle ne peut pas être dans le futur."),
                                  field="consent_date")

    # ---- Loading and saving

    def _fill(self, values: persons.PersonDraft) -> None:
        self.first_name.setText(values.first_name)
        self.last_name.setText(values.last_name)
        self.gender.set_value(values.gender)
        self.birth_year.setText(str(values.birth_year) if values.birth_year else "")
        self.email.setText(values.email or "")
        self.phone.setText(values.phone or "")
        self.commune.set_commune(values.commune_code)
        self.situation.set_value(values.situation)
        if values.consent is not None:
            self.consented.setChecked(True)
            self.consent_date.set_date(values.consent.date)
            self.scope.set_value(values.consent.scope)
            self.source.set_value(values.consent.source)

    def value(self) -> persons.PersonDraft:
        consent = None
        if self.consented.isChecked():
            date = self.consent_date.parse()
            if date is None:
                raise ValidationError(self.tr("Date du consentement : ce champ est obligatoire."), field="consent_date")
            consent = persons.Consent(date, self.scope.value() or ConsentScope.INTERNE,
                                      self.source.value() or ConsentSource.ECRIT)
        return persons.PersonDraft(
            self.first_name.text(), self.last_name.text(), self.gender.value() or Gender.NON_RENSEIGNE,
            self._birth_year(), self.email.text(), self.phone.text(), self.commune.parse(), self.situation.value(),
            consent)

    def operation(self) -> Callable[[Session, Actor], Any]:
        draft, today, person_id = self.value(), self.ctx.today, self.person_id
        if person_id is None:
            return lambda session, actor: persons.create_person(session, actor, draft, today=today)
        return lambda session, actor: persons.edit_person(session, actor, person_id, draft, today=today)
