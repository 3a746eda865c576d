"""``ess-acc report``, run for real: the PDF it writes, and bad input refused without leaving a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.cli.conftest import ok, run

NOTE = "Zébulon doute encore du loyer"


def pdf_text(path: Path) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def add_project(base: Path, *extra: str) -> str:
    project = ok(base, "project", "add", "--title", "Recyclerie du Berry", "--holder", "Hélène Dupont",
                 "--commune", "Tours", "--since", "06/01/2026", *extra).out.strip()
    ok(base, "appointment", "add", project, "--date", "12/03/2026 14:30", "--duration", "90", "--mode", "visio",
       "--topic", "statuts", "--notes", NOTE, "--next-step", "Envoyer le prévisionnel", "--due", "15/12/2026")
    ok(base, "financing", "add", project, "--instrument", "pret_honneur", "--amount", "15 000,50",
       "--funder", "France Active Centre-Val de Loire")
    return project


@pytest.fixture
def out(tmp_path: Path) -> Path:
    directory = tmp_path / "pdf"
    directory.mkdir()
    return directory


def test_report_prints_the_summary_of_the_acting_structure(base: Path, out: Path) -> None:
    # GIVEN a project of the URSCOP with an appointment and a financing line
    project = add_project(base)
    # WHEN its summary is printed, by the first characters of its id
    result = ok(base, "report", project[:8], "--out", str(out / "synthèse.pdf"))
    # THEN the command prints the file's path, and the PDF says it all in French
    path = Path(result.out.strip())
    assert path == (out / "synthèse.pdf").resolve() and path.is_file()
    text = pdf_text(path)
    for fact in ("URSCOP Île-de-France, Centre-Val de Loire et Outre-Mer", "Synthèse d'accompagnement", "Recyclerie du Berry", "Hélène Dupont",
                 "15 000,50 €", "12/03/2026", NOTE, "page 1 / ", "imprimé le lundi 23 novembre 2026"):
        assert fact in text, fact
    # WHEN the partner variant is asked THEN the note is gone; the holder's copy is « Mon parcours »
    partner = Path(ok(base, "report", project, "--out", str(out / "partenaire.pdf"), "--variant", "partenaire").out
                   .strip())
    assert NOTE not in pdf_text(partner) and "15 000,50 €" in pdf_text(partner)
    holder = Path(ok(base, "report", project, "--out", str(out / "porteur.pdf"), "--variant", "PORTEUR").out.strip())
    assert "Mon parcours" in pdf_text(holder) and NOTE not in pdf_text(holder)
    assert sorted(p.name for p in out.iterdir()) == ["partenaire.pdf", "porteur.pdf", "synthèse.pdf"]


def test_report_refuses_bad_input_and_leaves_no_file(base: Path, out: Path) -> None:
    project = add_project(base)
    confidential = ok(base, "project", "add", "--title", "Projet discret", "--holder", "Karim Benali",
                      "--commune", "Tours", "--confidential").out.strip()
    cases = [
        (("report", project, "--out", str(out / "a.pdf"), "--variant", "financeur"),
         "Variante « financeur » inconnue. Valeurs possibles : interne, partenaire, porteur."),
        (("report", project, "--out", str(out / "a.txt")), "--out : le nom du fichier doit se terminer par .pdf"),
        (("report", project, "--out", str(out / "absent" / "a.pdf")), "le dossier de destination n'existe pas"),
        (("report", "ffffffff", "--out", str(out / "a.pdf")), "Projet introuvable"),
        (("report", confidential, "--out", str(out / "a.pdf"), "--variant", "partenaire"),
         "Ce projet est confidentiel"),
    ]
    for args, message in cases:
        # WHEN the command is given bad input THEN it explains in French, exits with 2, and writes nothing
        result = run(base, *args)
        assert result.code == 2, result.err
        assert result.err.startswith("Erreur : ") and message in result.err, result.err
        assert "Traceback" not in result.err
        assert list(out.iterdir()) == [], args
