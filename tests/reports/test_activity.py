"""The « rapport d'activité »: key figures, PDF read back with pypdf, XLSX read back with openpyxl."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from ess_accompagnement.domain.errors import UserFacingError, ValidationError
from ess_accompagnement.domain.indicators import Scope
from ess_accompagnement.reports import activity
from ess_accompagnement.reports.activity import ActivityReport, build_activity_report, key_figures
from ess_accompagnement.reports.texts import Activity
from tests.reports.indicator_samples import P, sample_indicators
from tests.worlds import World


def _report(**changes: object) -> ActivityReport:
    values: dict[str, object] = {"indicators": sample_indicators(), "printed_by": "URSCOP Centre-Val de Loire",
                                 "structure": "URSCOP Centre-Val de Loire", "departement": "37",
                                 "printed_on": dt.date(2026, 3, 15)}
    return ActivityReport(**{**values, **changes})  # type: ignore[arg-type]


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_key_figures_count_and_list_their_projects() -> None:
    tiles = {k.key: k for k in key_figures(sample_indicators())}
    assert tiles["projets_accompagnes"].count == 1234 and _plain(tiles["projets_accompagnes"].headline) == "1 234"
    assert list(tiles["projets_accompagnes"].project_ids) == P[:1234]
    # new projects: the union of the structures' entries (0…91 and 85…94), each once
    assert tiles["nouveaux"].count == 95 and list(tiles["nouveaux"].project_ids) == P[:95]
    assert tiles["demarres"].count == 41
    assert _plain(tiles["financements_accordes"].headline) == "15 000,50 €"
    assert _plain(tiles["financements_accordes"].detail) == "3 lignes de financement"
    assert _plain(tiles["rendez_vous_realises"].detail) == "1 234,5 h"
    assert _plain(tiles["emplois_crees"].headline) == "18,5 ETP"


def test_pdf_has_french_figures_charts_and_page_numbers(tmp_path: Path) -> None:
    out = tmp_path / "rapport.pdf"
    pages = activity.write_activity_report(_report(), out) and len(PdfReader(out).pages)
    reader = PdfReader(out)
    text = _plain("\n".join(page.extract_text() for page in reader.pages))
    assert reader.metadata is not None and reader.metadata.title == Activity.TITLE
    assert "Rapport d'activité" in text and "Période du 01/01/2025 au 31/12/2025" in text
    assert "15 000,50 €" in text and "1 234" in text and "18,5 ETP" in text and "59,5 %" in text
    assert "92 projets ont intégré le parcours, 41 ont démarré une activité" in " ".join(text.split())
    assert "URSCOP Centre-Val de Loire" in text and "tels qu'ils étaient au 31/12/2025" in text
    assert f"page 1 / {pages}" in text and f"page {pages} / {pages}" in text
    assert "imprimé le dimanche 15 mars 2026" in text
    assert Activity.PIPELINE_BY_STRUCTURE in text and "Projets accompagnés par phase" in text  # a chart title


def test_xlsx_has_typed_cells_and_parameters(tmp_path: Path) -> None:
    out = tmp_path / "rapport.xlsx"
    activity.write_activity_report(_report(), out)
    book = load_workbook(out)
    assert book.sheetnames[:3] == ["Paramètres", "Chiffres clés", "Projets"]
    params = {row[0]: row[1] for row in book["Paramètres"].iter_rows(min_row=3, values_only=True) if row[0]}
    assert params[Activity.PARAM_START] == dt.datetime(2025, 1, 1) and params[Activity.PARAM_DEPARTEMENT] == "37"
    keys = book["Chiffres clés"]
    assert [c.value for c in keys[2]] == ["Indicateur", "Effectif", "Unité", "Mesure"]
    rows = {row[0].value: row for row in keys.iter_rows(min_row=3) if row[0].value}
    assert rows["Projets accompagnés"][1].value == 1234 and rows["Projets accompagnés"][1].data_type == "n"
    granted = rows["Financements accordés"][3]
    assert granted.value == pytest.approx(15000.50) and "€" in granted.number_format
    sector = next(r for r in book["Projets"].iter_rows() if r[0].value == '=HYPERLINK("http://x")')
    assert sector[0].data_type == "s"  # text starting with « = » stays text
    share = next(r for r in book["Projets"].iter_rows() if r[0].value == "émergence")[2]
    assert share.value == pytest.approx(734 / 1234) and "%" in share.number_format


def test_bad_output_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        activity.check_output(tmp_path / "rapport.docx")
    with pytest.raises(UserFacingError):
        activity.check_output(tmp_path / "absent" / "rapport.pdf")
    with pytest.raises(UserFacingError):
        activity.write_activity_report(_report(), tmp_path / "absent" / "rapport.pdf")
    assert list(tmp_path.iterdir()) == []


def test_build_report_names_structures(world: World) -> None:
    world.new_project()
    with world.db.read() as session:
        report = build_activity_report(session, Scope(dt.date(2025, 1, 1), dt.date(2025, 12, 31),
                                                      structure_id=world.urscop),
                                       printing_structure_id=world.france_active, today=dt.date(2026, 1, 5))
        assert activity.report_departements(session) == ["37"]
    assert report.printed_by == "France Active Centre-Val de Loire"
    assert report.structure == "URSCOP Centre-Val de Loire" and report.departement is None
    assert report.indicators.count("projets_accompagnes") == 1
    assert Decimal(0) == sum((k.measure.value for k in key_figures(report.indicators) if k.measure), Decimal(0))
