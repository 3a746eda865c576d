"""``ess-acc export`` and ``ess-acc import``, run for real on real files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from openpyxl import load_workbook

from tests.cli.conftest import digest, ok, run

IMPORT_CSV = (
    "Nom du projet;Prénom;Nom;Courriel;Téléphone;Ville;Phase;Date d'entrée;SIRET;Remarques\r\n"
    "Épicerie coopérative;Hélène;Dupont;helene.dupont@exemple.fr;06 12 34 56 78;Tours;création;01/06/2026;"
    "732 829 320 00074;à rappeler\r\n"
    "Garage solidaire;Karim;Benali;;02 54 12 34 56;Châteauroux;;;;\r\n"
    "Second projet;Hélène;Dupont;helene.dupont@exemple.fr;;Tours;;;;\r\n"
)


def write(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_import_then_export_both_formats(base: Path, tmp_path: Path) -> None:
    # GIVEN a spreadsheet of three projects, two of them held by the same person
    source = write(tmp_path / "projets.csv", IMPORT_CSV)
    # WHEN it is imported
    result = ok(base, "import", str(source))
    # THEN the summary names the file, the columns, the counts and the in-file match
    assert "Fichier : projets.csv (CSV, séparateur « ; », encodage UTF-8 avec BOM)" in result.out
    assert "« Ville » → commune" in result.out and "« Remarques » → ignorée" in result.out
    assert "3 projets, 3 porteurs (dont 2 nouvelles personnes), 1 correspondance." in result.out
    assert "Ligne 4, porteur 1 (Hélène Dupont) : même personne que ligne 2, porteur 1" in result.out
    assert "Import terminé : 3 projets créés, 2 personnes créées" in result.out
    listed = ok(base, "project", "list", "--json").json()
    assert sorted(p["title"] for p in listed) == ["Garage solidaire", "Second projet", "Épicerie coopérative"]
    # WHEN the projects are exported (the advisor's structure by default) THEN the path is printed
    out_csv, out_xlsx = tmp_path / "export.csv", tmp_path / "export.xlsx"
    exported = ok(base, "export", "projects", "--format", "csv", "--out", str(out_csv))
    assert exported.out.strip() == str(out_csv) and "3 lignes exportées" in exported.err
    with out_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert {r["SIRET"] for r in rows} == {"73282932000074", ""}
    ok(base, "export", "projects", "--out", str(out_xlsx))  # format from the extension
    book = load_workbook(out_xlsx, read_only=True)
    assert len(list(book.active.iter_rows(values_only=True))) == 4
    book.close()
    for kind in ("persons", "appointments", "referrals", "financing"):
        ok(base, "export", kind, "--format", "xlsx", "--out", str(tmp_path / f"{kind}.xlsx"), "--all-structures")


def test_an_export_reimports_into_a_new_database(base: Path, initialised_db: Path, tmp_path: Path) -> None:
    ok(base, "import", str(write(tmp_path / "projets.csv", IMPORT_CSV)))
    ok(base, "export", "projects", "--out", str(tmp_path / "export.xlsx"))
    other = tmp_path / "autre.db"
    shutil.copyfile(initialised_db, other)
    result = ok(other, "import", str(tmp_path / "export.xlsx"))
    assert "Import terminé : 3 projets créés, 2 personnes créées" in result.out
    assert ok(other, "project", "list", "--json").json() != []


def test_a_file_with_errors_writes_nothing_and_exits_2(base: Path, tmp_path: Path) -> None:
    source = write(tmp_path / "erreurs.csv", IMPORT_CSV + "Mauvais;Inès;Lefèvre;;;Tours;;31/02/2026;123;\r\n")
    before = digest(base)
    result = run(base, "import", str(source))
    assert result.code == 2
    assert "Erreur : le fichier contient 2 erreurs ; rien n'a été importé." in result.err
    assert "Ligne 5, colonne Date d'entrée : « 31/02/2026 », date invalide" in result.err
    assert "Ligne 5, colonne SIRET : « 123 », il faut 14 chiffres." in result.err
    assert digest(base) == before


def test_dry_run_writes_nothing(base: Path, tmp_path: Path) -> None:
    before = digest(base)
    result = ok(base, "import", str(write(tmp_path / "projets.csv", IMPORT_CSV)), "--dry-run")
    assert "Simulation (--dry-run) : rien n'a été enregistré." in result.out
    assert digest(base) == before


def test_map_overrides_a_column(base: Path, tmp_path: Path) -> None:
    source = write(tmp_path / "dossiers.csv", "Dossier;Contact;Tél. portable\r\nAtelier vélo;Inès Lefèvre;0612345678\r\n",
                   encoding="cp1252")
    refused = run(base, "import", str(source), "--dry-run")
    assert refused.code == 2 and "aucune colonne ne donne le nom du projet" in refused.err
    result = ok(base, "import", str(source), "--map", "Dossier=titre", "--map", "Contact=porteur")
    assert "encodage Windows-1252 (cp1252)" in result.out and "« Dossier » → nom du projet" in result.out
    bad = run(base, "import", str(source), "--map", "Dossier")
    assert bad.code == 2 and "écrivez « Colonne=champ »" in bad.err


def test_bad_export_arguments(base: Path, tmp_path: Path) -> None:
    missing = run(base, "export", "projects", "--out", str(tmp_path / "absent" / "p.csv"))
    assert missing.code == 2 and "n'existe pas" in missing.err
    both = run(base, "export", "projects", "--out", str(tmp_path / "p.csv"), "--structure", "urscop",
               "--all-structures")
    assert both.code == 2 and "s'excluent" in both.err
    unknown = run(base, "export", "notes", "--out", str(tmp_path / "p.csv"))
    assert unknown.code == 2 and "choix invalide" in unknown.err
    empty = run(base, "import", str(write(tmp_path / "vide.csv", "")))
    assert empty.code == 2 and "est vide" in empty.err
