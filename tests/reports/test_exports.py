"""Spreadsheet exports read back: typed XLSX cells, CSV for French Excel, batches, cancellation, filters."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ess_accompagnement.domain import appointments, financing, referrals
from ess_accompagnement.domain.codes import AppointmentMode, FinancingStatus, Instrument, LegalForm, MemberRole, Phase
from ess_accompagnement.domain.entities import Project
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.domain.projects import HolderDraft, ProjectDraft, ProjectEdit, create_project, edit_project
from ess_accompagnement.reports.exports import (
    ExportCancelled,
    ExportFormat,
    ExportKind,
    export_list,
    is_formula_like,
    protect_csv_text,
)
from tests.worlds import TODAY, World

EVIL = '=HYPERLINK("http://evil.example","clic")'
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)


def add_project(world: World, title: str = "Épicerie coopérative", **fields: object) -> uuid.UUID:
    holders = fields.pop("holders", (HolderDraft("Hélène", "Dupont", email="helene.dupont@exemple.fr",
                                                  phone="06 12 34 56 78"),
                                     HolderDraft("Karim", "Benali", MemberRole.ASSOCIE_SALARIE,
                                                 phone="0262 12 34 56")))
    draft = ProjectDraft(title=title, lead_structure_id=world.urscop, commune_code="37261", holders=holders,
                         phase=Phase.CREATION, phase_date=dt.date(2025, 1, 6), **fields)  # type: ignore[arg-type]
    with world.db.transaction() as session:
        project_id = create_project(session, world.camille, draft, today=TODAY).id
        edit_project(session, world.camille, project_id, ProjectEdit(jobs_created=Decimal("2.5")))
    return project_id


@pytest.fixture
def filled(world: World) -> World:
    """Two URSCOP projects (one with a malicious title), an appointment, a referral and a financing line."""
    project = add_project(world, siret="73282932000074", legal_form=LegalForm.SCOP, esus=True)
    add_project(world, EVIL, holders=(HolderDraft("Inès", "Lefèvre"),))
    with world.db.transaction() as session:
        appointments.add_appointment(session, world.camille, appointments.AppointmentDraft(
            project, dt.datetime(2026, 10, 12, 12, 30, tzinfo=dt.UTC), 90, AppointmentMode.VISIO,
            topics=("statuts", "prévisionnel")), now=NOW)
        referrals.propose(session, world.camille, referrals.ReferralDraft(
            project, world.france_active, "Besoin d'un prêt d'honneur", world.fonds_confiance), today=TODAY)
        financing.add_financing(session, world.camille, financing.FinancingDraft(
            project, Instrument.PRET_HONNEUR, Decimal("15000.50"), FinancingStatus.ACCORDE,
            funder_structure_id=world.france_active), today=TODAY)
    return world


def export(world: World, kind: ExportKind, fmt: ExportFormat, tmp_path: Path, **options: object) -> Path:
    out = tmp_path / f"{kind.value}.{fmt.value}"
    result = export_list(world.db, kind, fmt, out, today=TODAY, **options)  # type: ignore[arg-type]
    assert result.path == out and out.exists()
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_xlsx_projects_have_typed_cells_bold_frozen_header_and_widths(filled: World, tmp_path: Path) -> None:
    # WHEN the projects are exported to XLSX
    path = export(filled, ExportKind.PROJECTS, ExportFormat.XLSX, tmp_path)
    # THEN the sheet reads back with a bold, frozen, filtered header and set column widths
    book = load_workbook(path)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["Nom du projet", "Phase", "Date d'entrée dans la phase", "Statut"]
    assert {"Prénom", "Nom", "Courriel", "Téléphone", "Prénom 2", "Rôle 2"} <= set(headers)
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(headers)).column_letter}3"
    assert sheet.column_dimensions["A"].width == 36 and sheet.column_dimensions["C"].width >= 14
    rows = {r[0].value: dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=2)}
    book.close()
    # AND dates are dates shown JJ/MM/AAAA, ETP numbers, booleans « oui »/« non », codes by their label
    scop = rows["Épicerie coopérative"]
    assert scop["Date d'entrée dans la phase"].value == dt.datetime(2025, 1, 6)
    assert scop["Date d'entrée dans la phase"].number_format == "DD/MM/YYYY"
    assert scop["Emplois créés (ETP)"].value == 2.5 and scop["Emplois créés (ETP)"].data_type == "n"
    assert (scop["ESUS"].value, scop["Confidentiel"].value) == ("oui", "non")
    assert (scop["Phase"].value, scop["Forme juridique"].value, scop["SIRET"].value) == (
        "création", "SCOP", "73282932000074")
    assert (scop["Prénom"].value, scop["Téléphone"].value, scop["Rôle 2"].value) == (
        "Hélène", "06 12 34 56 78", "associé-salarié")
    # AND a text that looks like a formula stays a string, as do overseas numbers starting with « + »
    assert rows[EVIL]["Nom du projet"].data_type == "s" and rows[EVIL]["Nom du projet"].value == EVIL
    assert scop["Téléphone 2"].value == "+262 262 12 34 56" and scop["Téléphone 2"].data_type == "s"
    assert rows[EVIL]["Prénom 2"].value is None


def test_xlsx_amounts_are_numbers_in_euros_and_appointments_local_datetimes(filled: World, tmp_path: Path) -> None:
    book = load_workbook(export(filled, ExportKind.FINANCING, ExportFormat.XLSX, tmp_path))
    line = dict(zip([c.value for c in book.active[1]], book.active[2], strict=True))
    book.close()
    assert line["Montant demandé"].value == 15000.5 and line["Montant accordé"].value == 15000.5
    assert line["Montant demandé"].number_format == '#,##0.00 "€"'
    assert (line["Statut"].value, line["Financeur"].value) == ("accordé", "France Active Centre-Val de Loire")
    book = load_workbook(export(filled, ExportKind.APPOINTMENTS, ExportFormat.XLSX, tmp_path))
    line = dict(zip([c.value for c in book.active[1]], book.active[2], strict=True))
    book.close()
    assert line["Date et heure"].value == dt.datetime(2026, 10, 12, 14, 30)  # 12:30 UTC is 14:30 in Paris
    assert line["Date et heure"].number_format == "DD/MM/YYYY HH:MM"
    assert (line["Durée (min)"].value, line["Sujets"].value) == (90, "statuts ; prévisionnel")


def test_csv_for_french_excel(filled: World, tmp_path: Path) -> None:
    path = export(filled, ExportKind.PROJECTS, ExportFormat.CSV, tmp_path)
    raw = path.read_bytes()
    # THEN UTF-8 with a BOM, « ; », CRLF line ends and no « sep=; » line
    assert raw.startswith(b"\xef\xbb\xbfNom du projet;Phase;") and b"sep=" not in raw
    assert raw.count(b"\r\n") == 3 and raw.count(b"\n") == 3
    rows = {r["Nom du projet"]: r for r in read_csv(path)}
    scop = rows["Épicerie coopérative"]
    # AND French dates, decimal commas, « oui »/« non »
    assert (scop["Date d'entrée dans la phase"], scop["Emplois créés (ETP)"], scop["ESUS"]) == ("06/01/2025", "2,50",
                                                                                               "oui")
    # AND formula-like texts get OWASP's quote
    assert f"'{EVIL}" in rows and scop["Téléphone 2"] == "'+262 262 12 34 56"
    financing_rows = read_csv(export(filled, ExportKind.FINANCING, ExportFormat.CSV, tmp_path))
    assert financing_rows[0]["Montant demandé"] == "15000,50"


@pytest.mark.parametrize("fmt", list(ExportFormat))
@pytest.mark.parametrize("kind", list(ExportKind))
def test_every_list_exports(filled: World, tmp_path: Path, kind: ExportKind, fmt: ExportFormat) -> None:
    path = export(filled, kind, fmt, tmp_path, structure_id=filled.urscop)
    expected = {ExportKind.PROJECTS: 2, ExportKind.PERSONS: 3, ExportKind.APPOINTMENTS: 1, ExportKind.REFERRALS: 1,
                ExportKind.FINANCING: 1}[kind]
    if fmt is ExportFormat.CSV:
        rows = read_csv(path)
    else:
        book = load_workbook(path, read_only=True)
        rows = list(book.active.iter_rows(min_row=2, values_only=True))  # type: ignore[arg-type]
        book.close()
    assert len(rows) == expected
    assert not list(tmp_path.glob(".*.part"))


def test_referral_status_is_derived_on_the_export_day(filled: World, tmp_path: Path) -> None:
    out = tmp_path / "orientations.csv"
    export_list(filled.db, ExportKind.REFERRALS, ExportFormat.CSV, out, today=TODAY + dt.timedelta(days=40))
    [row] = read_csv(out)
    assert (row["Statut"], row["Dispositif"], row["Proposée le"]) == ("expirée", "Fonds de confiance", "23/11/2026")


def test_structure_filter_and_deleted_rows(filled: World, tmp_path: Path) -> None:
    # GIVEN a France Active project, and a deleted URSCOP project
    filled.new_project("Projet de France Active", actor=filled.lea)
    gone = filled.new_project("Projet supprimé")
    with filled.db.transaction() as session:
        session.get(Project, gone).deleted_at = NOW  # type: ignore[union-attr]
    # WHEN each structure exports its projects THEN it gets its own, never deleted ones
    urscop = read_csv(export(filled, ExportKind.PROJECTS, ExportFormat.CSV, tmp_path, structure_id=filled.urscop))
    assert sorted(r["Nom du projet"] for r in urscop) == sorted(["Épicerie coopérative", f"'{EVIL}"])
    fa = read_csv(export(filled, ExportKind.PROJECTS, ExportFormat.CSV, tmp_path, structure_id=filled.france_active))
    assert [r["Nom du projet"] for r in fa] == ["Projet de France Active"]
    # AND France Active sees the referral it received and the line it funds
    assert len(read_csv(export(filled, ExportKind.REFERRALS, ExportFormat.CSV, tmp_path,
                               structure_id=filled.france_active))) == 1
    assert len(read_csv(export(filled, ExportKind.FINANCING, ExportFormat.CSV, tmp_path,
                               structure_id=filled.france_active))) == 1
    everything = read_csv(export(filled, ExportKind.PROJECTS, ExportFormat.CSV, tmp_path))
    assert len(everything) == 3


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_batches_report_progress_and_keep_every_row(world: World, tmp_path: Path, fmt: ExportFormat) -> None:
    for index in range(5):
        world.new_project(f"Projet {index}")
    calls: list[tuple[int, int]] = []
    out = tmp_path / f"projets.{fmt.value}"
    result = export_list(world.db, ExportKind.PROJECTS, fmt, out, today=TODAY, batch_size=2,
                         progress=lambda done, total: calls.append((done, total)))
    assert result.rows == 5
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
    if fmt is ExportFormat.CSV:
        assert sorted(r["Nom du projet"] for r in read_csv(out)) == [f"Projet {i}" for i in range(5)]


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_cancelling_leaves_no_file_and_keeps_the_previous_one(world: World, tmp_path: Path,
                                                               fmt: ExportFormat) -> None:
    for index in range(5):
        world.new_project(f"Projet {index}")
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / f"projets.{fmt.value}"
    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # after the first batch

    openpyxl_files = set(Path(tempfile.gettempdir()).glob("openpyxl.*"))
    with pytest.raises(ExportCancelled, match="aucun fichier"):
        export_list(world.db, ExportKind.PROJECTS, fmt, out, today=TODAY, batch_size=2, cancelled=cancelled)
    assert list(folder.iterdir()) == []
    assert set(Path(tempfile.gettempdir()).glob("openpyxl.*")) <= openpyxl_files  # nor openpyxl's own
    # AND a file already there is left as it was
    out.write_text("ancien", encoding="utf-8")
    asked.clear()
    with pytest.raises(ExportCancelled):
        export_list(world.db, ExportKind.PROJECTS, fmt, out, today=TODAY, batch_size=2, cancelled=cancelled)
    assert out.read_text(encoding="utf-8") == "ancien" and list(folder.iterdir()) == [out]


def test_a_missing_folder_is_a_french_error(world: World, tmp_path: Path) -> None:
    with pytest.raises(UserFacingError, match="n'existe pas"):
        export_list(world.db, ExportKind.PROJECTS, ExportFormat.CSV, tmp_path / "absent" / "p.csv", today=TODAY)


@pytest.mark.parametrize(
    ("text", "protected"),
    [
        ("=1+1", "'=1+1"), ("+33 6 12", "'+33 6 12"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
        ("\rx", "'\rx"), ("'=1+1", "''=1+1"), ("'bonjour", "'bonjour"), ("Épicerie", "Épicerie"), ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_csv_formula_protection(text: str, protected: str) -> None:
    assert protect_csv_text(text) == protected
    assert is_formula_like(text) is (protected != text)
