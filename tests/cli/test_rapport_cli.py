"""``ess-acc rapport``: the rapport d'activité as PDF and XLSX, run for real, and its bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.cli.conftest import digest, ok, run

PERIOD = ("--from", "01/01/2026", "--to", "31/12/2026")


@pytest.fixture
def with_project(base: Path) -> Path:
    """One URSCOP project in Tours (37), created on 01/03/2026, with an appointment held on 12/10/2026."""
    project = ok(base, "project", "add", "--title", "Épicerie coopérative de la Brenne", "--holder", "Hélène Dupont",
                 "--commune", "Tours", "--since", "01/03/2026").out.strip()
    ok(base, "appointment", "add", project, "--date", "12/10/2026 14:30", "--duration", "90", "--mode", "visio")
    return base


def test_rapport_pdf_and_xlsx(with_project: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "rapport.pdf"
    result = ok(with_project, "rapport", *PERIOD, "--out", str(pdf), "--structure", "urscop", "--departement", "37")
    assert result.out.strip() == str(pdf.resolve()) and "1 projets accompagnés" in result.err
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages).replace("\u202f", " ").replace("\u00a0", " ")
    assert "Rapport d'activité" in text and "Période du 01/01/2026 au 31/12/2026" in text
    assert "URSCOP" in text and "page 1 / " in text and "1,5 h" in text
    xlsx = tmp_path / "rapport.xlsx"
    ok(with_project, "rapport", *PERIOD, "--out", str(xlsx))
    book = load_workbook(xlsx)
    rows = {r[0]: r for r in book["Chiffres clés"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert rows["Projets accompagnés"][1] == 1 and rows["Rendez-vous réalisés"][3] == pytest.approx(1.5)


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "31/02/2026", "--to", "31/12/2026", "--out", "{tmp}/r.pdf"), "--from"),
    (("--from", "01/01/2026", "--to", "31/12/2026", "--out", "{tmp}/r.docx"), "--out"),
    (("--from", "01/01/2026", "--to", "31/12/2026", "--out", "{tmp}/absent/r.pdf"), "--out"),
    (("--from", "01/01/2026", "--to", "31/12/2026", "--out", "{tmp}/r.pdf", "--structure", "Nulle Part"),
     "--structure"),
    (("--from", "01/01/2026", "--to", "31/12/2026", "--out", "{tmp}/r.pdf", "--departement", "xyz"),
     "--departement"),
])
def test_rapport_bad_input_writes_nothing(base: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    if message in ("--structure", "--departement"):  # these are checked once the base is open: a copied base
        ok(base, "indicators", *PERIOD, "--json")  # records its new place on first opening (sync), so open it first
    before = digest(base)
    result = run(base, "rapport", *(a.format(tmp=out_dir) for a in args))
    assert result.code == 2 and result.err.startswith("Erreur : ") and message in result.err
    assert list(out_dir.iterdir()) == [] and digest(base) == before
