"""Editing the catalogue: only changed fields are written, and they survive the next catalogue update."""

from __future__ import annotations

import dataclasses

import pytest

from ess_accompagnement.domain import advisors, catalogue_edit
from ess_accompagnement.domain.actors import Actor, load_actor
from ess_accompagnement.domain.codes import AdvisorRole, Phase, SupportType
from ess_accompagnement.domain.entities import Dispositif, Structure
from ess_accompagnement.domain.errors import RuleError, ValidationError
from ess_accompagnement.domain.ids import catalogue_id
from ess_accompagnement.store.catalogue import load_catalogue
from ess_accompagnement.store.db import Database

URSCOP = catalogue_id("structure", "urscop")
FRANCE_ACTIVE = catalogue_id("structure", "fa-cvl")


@pytest.fixture
def catalogue_db(db: Database) -> Database:
    with db.transaction() as session:
        load_catalogue(session)
    return db


def actor(db: Database, structure=URSCOP, role=AdvisorRole.CONSEILLER) -> Actor:
    with db.transaction() as session:
        advisor_id = advisors.add_advisor(session, None, name="Camille Martin", structure_id=structure, role=role).id
        return load_actor(session, advisor_id)


def edit(db: Database, who: Actor, **changes: object) -> object:
    with db.transaction() as session:
        values = catalogue_edit.structure_values(session, URSCOP)
        return catalogue_edit.edit_structure(session, who, URSCOP, dataclasses.replace(values, **changes))


def test_edit_writes_only_what_changed_and_survives_a_catalogue_update(catalogue_db: Database) -> None:
    # GIVEN an URSCOP advisor
    camille = actor(catalogue_db)
    # WHEN she gives her structure a phone, an e-mail and one more phase, and leaves the rest
    with catalogue_db.read() as session:
        phases = catalogue_edit.structure_values(session, URSCOP).phases
    changes = edit(catalogue_db, camille, phone="02 38 12 34 56", email="contact@urscop.exemple.fr",
                   phases=(Phase.EMERGENCE, *phases))
    # THEN the catalogue changed, the phone is stored in E.164, the phases in the codes' order
    assert changes.catalogue
    with catalogue_db.read() as session:
        row = session.get(Structure, URSCOP)
        assert row.phone == "+33238123456"
        assert row.phases[0] == "emergence" and set(row.phases) == {"emergence", *phases}
        assert "emergence" not in row.catalogue_values["phases"]
    # AND reloading the catalogue keeps her edit (it differs from what the catalogue last loaded)
    with catalogue_db.transaction() as session:
        result = load_catalogue(session)
    assert result.kept_user_edits >= 1
    with catalogue_db.read() as session:
        assert "emergence" in session.get(Structure, URSCOP).phases


def test_unchanged_values_write_nothing(catalogue_db: Database) -> None:
    camille = actor(catalogue_db)
    with catalogue_db.read() as session:
        values = catalogue_edit.structure_values(session, URSCOP)
        before = session.get(Structure, URSCOP).updated_at

    changes = edit(catalogue_db, camille, phases=tuple(reversed(values.phases)))

    assert not changes.catalogue
    with catalogue_db.read() as session:
        assert session.get(Structure, URSCOP).updated_at == before


def test_renaming_updates_the_sort_key(catalogue_db: Database) -> None:
    edit(catalogue_db, actor(catalogue_db), name="Les SCOP Centre-Val de Loire")

    with catalogue_db.read() as session:
        assert session.get(Structure, URSCOP).sort_key == "les scop centre-val de loire"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "  ", "Nom : ce champ est obligatoire."),
    ("email", "pas-une-adresse", "Courriel : adresse invalide"),
    ("phone", "12", "Téléphone : numéro non reconnu"),
    ("website", "pas un site", "Site web : adresse invalide"),
])
def test_invalid_values_are_refused_in_french(catalogue_db: Database, field: str, value: str, message: str) -> None:
    camille = actor(catalogue_db)

    with pytest.raises(ValidationError, match=message):
        edit(catalogue_db, camille, **{field: value})


def test_only_a_responsable_edits_another_structure(catalogue_db: Database) -> None:
    lea = actor(catalogue_db, FRANCE_ACTIVE)
    with pytest.raises(RuleError, match="Seul un responsable"):
        edit(catalogue_db, lea, short_name="URSCOP CVL")

    boss = actor(catalogue_db, FRANCE_ACTIVE, AdvisorRole.RESPONSABLE)
    assert edit(catalogue_db, boss, short_name="URSCOP CVL").catalogue


def test_edit_a_dispositif(catalogue_db: Database) -> None:
    with catalogue_db.read() as session:
        dispositif = session.query(Dispositif).filter(Dispositif.operator_id == FRANCE_ACTIVE).first()
        values = catalogue_edit.dispositif_values(session, dispositif.id)
    camille = actor(catalogue_db, FRANCE_ACTIVE)

    with catalogue_db.transaction() as session:
        changes = catalogue_edit.edit_dispositif(session, camille, dispositif.id, dataclasses.replace(
            values, active=False, support_types=(SupportType.FORMATION,), targets="Salariés repreneurs"))

    assert changes.catalogue
    with catalogue_db.read() as session:
        row = session.get(Dispositif, dispositif.id)
        assert (row.active, row.support_types, row.targets) == (False, ["formation"], "Salariés repreneurs")
