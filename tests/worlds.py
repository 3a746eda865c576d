"""A small world for tests: three structures, a dispositif, two communes, four advisors (fixture `world`)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest

from ess_accompagnement.domain import advisors
from ess_accompagnement.domain.actors import Actor, load_actor
from ess_accompagnement.domain.codes import AdvisorRole, Instrument, StructureKind
from ess_accompagnement.domain.entities import Commune, Dispositif, Structure
from ess_accompagnement.domain.ids import catalogue_id
from ess_accompagnement.domain.projects import HolderDraft, ProjectDraft, create_project
from ess_accompagnement.domain.text import sort_key
from ess_accompagnement.store.db import Database

TODAY = dt.date(2026, 11, 23)


@dataclass(frozen=True)
class World:
    db: Database
    urscop: uuid.UUID
    france_active: uuid.UUID
    alter_incub: uuid.UUID
    fonds_confiance: uuid.UUID
    camille: Actor  # URSCOP
    lea: Actor  # France Active
    reader: Actor  # France Active, read-only
    noe: Actor  # Alter'Incub

    def new_project(self, title: str = "Épicerie coopérative", *, actor: Actor | None = None,
                    phase_date: dt.date = dt.date(2025, 1, 6), **fields: object) -> uuid.UUID:
        actor = actor or self.camille
        draft = ProjectDraft(title=title, lead_structure_id=actor.structure_id, commune_code="37261",
                             holders=(HolderDraft("Inès", "Lefèvre"),), phase_date=phase_date, **fields)
        with self.db.transaction() as session:
            return create_project(session, actor, draft, today=TODAY).id


def _structure(key: str, name: str, kind: StructureKind) -> Structure:
    sid = catalogue_id("structure", key)
    return Structure(id=sid, owner_structure_id=sid, catalogue_key=key, name=name, kind=kind, sort_key=sort_key(name))


@pytest.fixture
def world(db: Database) -> World:
    with db.transaction() as session:
        session.add_all([
            _structure("urscop", "URSCOP Centre-Val de Loire", StructureKind.ACCOMPAGNATEUR),
            _structure("fa-cvl", "France Active Centre-Val de Loire", StructureKind.FINANCEUR),
            _structure("alter-incub", "Alter'Incub Centre-Val de Loire", StructureKind.INCUBATEUR),
            Commune(code="37261", name="Tours", sort_key="tours", postal_codes="37000 37100 37200",
                    departement="37", region="24", epci_siren="243700754", epci_name="Tours Métropole Val de Loire"),
            Commune(code="36044", name="Châteauroux", sort_key="chateauroux", postal_codes="36000",
                    departement="36", region="24"),
        ])
        fa = catalogue_id("structure", "fa-cvl")
        session.add(Dispositif(id=catalogue_id("dispositif", "fonds-confiance"), operator_id=fa, owner_structure_id=fa,
                               name="Fonds de confiance", instrument=Instrument.SUBVENTION, sort_key="fonds de confiance"))
        session.flush()
        ids = {
            name: advisors.add_advisor(session, None, name=name, structure_id=catalogue_id("structure", key),
                                       role=role).id
            for name, key, role in (
                ("Camille Martin", "urscop", AdvisorRole.CONSEILLER),
                ("Léa Durand", "fa-cvl", AdvisorRole.CONSEILLER),
                ("Sam Lecteur", "fa-cvl", AdvisorRole.LECTURE),
                ("Noé Bernard", "alter-incub", AdvisorRole.CONSEILLER),
            )
        }
        actors = {name: load_actor(session, advisor_id) for name, advisor_id in ids.items()}
    return World(
        db=db, urscop=catalogue_id("structure", "urscop"), france_active=catalogue_id("structure", "fa-cvl"),
        alter_incub=catalogue_id("structure", "alter-incub"),
        fonds_confiance=catalogue_id("dispositif", "fonds-confiance"),
        camille=actors["Camille Martin"], lea=actors["Léa Durand"], reader=actors["Sam Lecteur"],
        noe=actors["Noé Bernard"],
    )
