"""An export of the projects, re-imported into an empty database, gives back everything the import covers."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ess_accompagnement.domain import advisors
from ess_accompagnement.domain.actors import Actor, load_actor
from ess_accompagnement.domain.codes import (
    LegalForm,
    MemberRole,
    Phase,
    Prescripteur,
    ProjectStatus,
    Sector,
    StructureKind,
)
from ess_accompagnement.domain.entities import Commune, Person, Project, ProjectMember, Structure
from ess_accompagnement.domain.ids import catalogue_id
from ess_accompagnement.domain.projects import HolderDraft, ProjectDraft, ProjectEdit, create_project, edit_project
from ess_accompagnement.reports import imports
from ess_accompagnement.reports.exports import ExportFormat, ExportKind, export_list
from ess_accompagnement.store.db import Database, open_database
from tests.worlds import TODAY, World

# Columns the import does not read: who and when, and what follows from the commune.
NOT_IMPORTED = {"Structure", "Conseiller", "Dernière activité", "Créé le", "Identifiant"}


def empty_copy(template_db: Path, folder: Path) -> tuple[Database, Actor]:
    """A new database with only what an import needs: the importing structure, its advisor, two communes."""
    folder.mkdir()
    path = folder / "vide.db"
    shutil.copyfile(template_db, path)
    db = open_database(path)
    sid = catalogue_id("structure", "urscop")
    with db.transaction() as session:
        session.add_all([
            Structure(id=sid, owner_structure_id=sid, catalogue_key="urscop", name="URSCOP Centre-Val de Loire",
                      kind=StructureKind.ACCOMPAGNATEUR, sort_key="urscop centre val de loire"),
            Commune(code="37261", name="Tours", sort_key="tours", postal_codes="37000 37100 37200",
                    departement="37", region="24", epci_siren="243700754", epci_name="Tours Métropole Val de Loire"),
            Commune(code="36044", name="Châteauroux", sort_key="chateauroux", postal_codes="36000",
                    departement="36", region="24"),
        ])
        session.flush()
        advisor = advisors.add_advisor(session, None, name="Alex Import", structure_id=sid).id
        actor = load_actor(session, advisor)
    return db, actor


@pytest.fixture
def varied(world: World) -> World:
    """Projects using every imported field; one person holds two projects."""
    helene = HolderDraft("Hélène", "Dupont", email="helene.dupont@exemple.fr", phone="06 12 34 56 78")
    drafts = [
        ProjectDraft("SCIC Énergie citoyenne", world.urscop, "36044", (
            helene, HolderDraft("Karim", "Benali", MemberRole.ASSOCIE_SALARIE, phone="0262 12 34 56"),
            HolderDraft("Jean", "de La Fontaine", MemberRole.CO_PORTEUR)),
            phase=Phase.CONSOLIDATION, phase_date=dt.date(2024, 2, 29), summary="- étape 1\n- étape 2 ; « fin »",
            legal_form=LegalForm.ASSOCIATION, envisaged_legal_form=LegalForm.SCIC, sector=Sector.ENVIRONNEMENT_ENERGIE,
            siret="73282932000074", rna="W372012345", prescripteur=Prescripteur.EPCI, innovation_sociale=True,
            esus=True, confidential=True),
        ProjectDraft('=HYPERLINK("http://evil.example","clic")', world.urscop, "37261",
                     (HolderDraft("Inès", "Lefèvre", email="ines@exemple.fr"),), phase_date=dt.date(2025, 6, 1)),
        ProjectDraft("Sans commune", world.urscop, None, (HolderDraft("Noé", "Petit"),),
                     phase=Phase.DIFFICULTE, phase_date=dt.date(2026, 1, 2)),
    ]
    with world.db.transaction() as session:
        ids = [create_project(session, world.camille, d, today=TODAY).id for d in drafts]
        edit_project(session, world.camille, ids[0], ProjectEdit(status=ProjectStatus.ACTIVITE_DEMARREE,
                                                                   jobs_created=Decimal("2.5"),
                                                                   jobs_maintained=Decimal("12.25")))
        person = session.execute(select(Person.id).where(Person.last_name == "Dupont")).scalar_one()
        create_project(session, world.camille, ProjectDraft("Second projet d'Hélène", world.urscop, "36044", (
            HolderDraft("", "", person_id=person),)), today=TODAY)
    return world


def importable(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [{k: v for k, v in row.items() if k not in NOT_IMPORTED}
                for row in csv.DictReader(handle, delimiter=";")]
    return sorted(rows, key=lambda row: row["Nom du projet"])


def counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return tuple(int(session.scalar(select(func.count()).select_from(m)) or 0)  # type: ignore[return-value]
                     for m in (Project, Person, ProjectMember))


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_export_then_import_into_an_empty_database_loses_nothing(varied: World, template_db: Path, tmp_path: Path,
                                                                 fmt: ExportFormat) -> None:
    # GIVEN the projects exported, and a reference export as CSV
    exported = export_list(varied.db, ExportKind.PROJECTS, fmt, tmp_path / f"projets.{fmt.value}", today=TODAY).path
    reference = export_list(varied.db, ExportKind.PROJECTS, ExportFormat.CSV, tmp_path / "avant.csv",
                            today=TODAY).path
    # WHEN the export is imported into an empty database
    target, actor = empty_copy(template_db, tmp_path / "cible")
    try:
        table = imports.read_table(exported)
        preview = imports.dry_run(target, actor, table, today=TODAY)
        assert preview.errors == () and preview.mapping.notes == ()
        result = imports.apply_import(target, actor, table, today=TODAY)
        after = export_list(target, ExportKind.PROJECTS, ExportFormat.CSV, tmp_path / "apres.csv", today=TODAY).path
        # THEN every imported column reads the same, and the person holding two projects is still one person
        assert importable(after) == importable(reference)
        assert counts(target) == counts(varied.db) == (4, 5, 6)
        assert (result.created_persons, preview.matches) == (5, 1)
    finally:
        target.close()
