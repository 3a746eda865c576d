"""The person dialog: identity, contact checked inline, consent record; create and edit."""

from __future__ import annotations

import datetime as dt

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain.codes import ConsentScope, Gender
from ess_accompagnement.domain.entities import Person
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.person import PersonDialog
from tests.ui.dialogs.helpers import error_of, opened, replace_text, save, type_text


def test_create_a_person_with_consent(qtbot: QtBot, ui_ctx: AppContext) -> None:
    dialog = opened(qtbot, ui_ctx, PersonDialog(ui_ctx))
    type_text(qtbot, dialog.first_name, "Hélène")
    type_text(qtbot, dialog.last_name, "Dupré-Œillet")
    dialog.gender.set_value(Gender.FEMME)
    type_text(qtbot, dialog.birth_year, "1988")
    type_text(qtbot, dialog.email, "helene@exemple")
    assert "Courriel" in error_of(dialog, dialog.email) and not dialog.save_button.isEnabled()
    type_text(qtbot, dialog.email, ".fr")
    type_text(qtbot, dialog.phone, "02 54 12 34 56")
    dialog.consented.setChecked(True)
    dialog.scope.set_value(ConsentScope.PARTENAIRES)
    person_id = save(qtbot, ui_ctx, dialog)
    with ui_ctx.db.read() as session:
        person = session.get(Person, person_id)
    assert (person.first_name, person.last_name, person.birth_year, person.phone) == (
        "Hélène", "Dupré-Œillet", 1988, "+33254123456")
    assert (person.consent_date, person.consent_scope) == (ui_ctx.today, ConsentScope.PARTENAIRES)


def test_edit_a_person(qtbot: QtBot, ui_ctx: AppContext) -> None:
    with ui_ctx.db.read() as session:
        person_id = session.scalars(select(Person.id).where(Person.owner_structure_id == ui_ctx.structure_id)).first()
    dialog = opened(qtbot, ui_ctx, PersonDialog(ui_ctx, person_id))
    assert dialog.last_name.text()
    replace_text(qtbot, dialog.birth_year, "1850")
    assert "hors des bornes" in error_of(dialog, dialog.birth_year)
    replace_text(qtbot, dialog.birth_year, "1990")
    replace_text(qtbot, dialog.last_name, "Étienne")
    assert save(qtbot, ui_ctx, dialog) == person_id
    with ui_ctx.db.read() as session:
        person = session.get(Person, person_id)
    assert (person.last_name, person.birth_year, person.updated_at.date() <= dt.date.today()) == ("Étienne", 1990, True)
