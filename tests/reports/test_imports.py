"""Importing projects and holders: reading files, mapping columns, line-level errors, duplicates, all or nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from ess_accompagnement.domain.codes import LegalForm, MemberRole, Phase, ProjectStatus, Sector
from ess_accompagnement.domain.entities import Person, Project, ProjectMember
from ess_accompagnement.domain.errors import NotFoundError, ValidationError
from ess_accompagnement.domain.projects import HolderDraft, ProjectDraft, add_person, create_project
from ess_accompagnement.reports import imports
from ess_accompagnement.reports.imports import ImportFileError, ImportRejected, MatchRule, Target
from tests.worlds import TODAY, World

HEADER = "Nom du projet;Prénom;Nom;Courriel;Téléphone;Commune;Phase;Date d'entrée;SIRET;Statut;Forme juridique\r\n"


def write(tmp_path: Path, text: str, *, name: str = "import.csv", encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def preview(world: World, path: Path, **options: object) -> imports.Preview:
    return imports.dry_run(world.db, world.camille, imports.read_table(path), today=TODAY, **options)  # type: ignore[arg-type]


def apply(world: World, path: Path, **options: object) -> imports.ImportResult:
    return imports.apply_import(world.db, world.camille, imports.read_table(path), today=TODAY,
                                **options)  # type: ignore[arg-type]


def count(world: World, model: type) -> int:
    with world.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# ---- Column mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Nom du projet", Target("titre")), ("Projet", Target("titre")), ("TITRE", Target("titre")),
        ("Intitulé du projet", Target("titre")), ("Prénom", Target("prenom")), ("NOM", Target("nom")),
        ("Nom du porteur", Target("nom")), ("Prénom porteur 2", Target("prenom", 1)), ("Nom 3", Target("nom", 2)),
        ("Courriel", Target("courriel")), ("E-mail", Target("courriel")), ("Adresse e-mail 2", Target("courriel", 1)),
        ("Tél.", Target("telephone")), ("Téléphone", Target("telephone")), ("Commune", Target("commune")),
        ("Ville", Target("commune")), ("Commune du projet", Target("commune")), ("Code postal", Target("code_postal")),
        ("CP", Target("code_postal")), ("N° SIRET", Target("siret")), ("Siret", Target("siret")),
        ("Phase", Target("phase")), ("Statut", Target("statut")), ("Forme juridique", Target("forme_juridique")),
        ("Secteur d'activité", Target("secteur")), ("Date d'entrée", Target("date_entree")),
        ("Date d'entrée dans la phase", Target("date_entree")), ("Porteur", Target("porteur")),
        ("Porteur 2", Target("porteur", 1)), ("Emplois créés (ETP)", Target("emplois_crees")),
        ("Remarques", None), ("Commune 2", None), ("", None),
    ],
)
def test_headers_are_matched_without_accents_case_or_small_words(header: str, target: Target | None) -> None:
    assert imports.match_header(header) == target


def test_a_field_claimed_twice_keeps_its_first_column_and_overrides_win() -> None:
    headers = ("Projet", "Titre", "Ville", "Remarques")
    proposed = imports.propose_mapping(headers)
    assert proposed.targets == (Target("titre"), None, Target("commune"), None)
    assert "« Titre » désigne aussi nom du projet" in proposed.notes[0]
    # WHEN the caller maps « Titre » to the title and ignores « Ville »
    mapping = imports.resolve_mapping(headers, {"titre": "titre", "Ville": "ignorer", "Remarques": "Résumé"})
    assert mapping.targets == (None, Target("titre"), None, Target("resume"))
    assert imports.resolve_mapping(headers, {"Remarques": "prenom_2"}).targets[3] == Target("prenom", 1)
    with pytest.raises(ValidationError, match="aucune colonne « Courriel »"):
        imports.resolve_mapping(headers, {"Courriel": "courriel"})
    with pytest.raises(ValidationError, match="champ « âge » inconnu"):
        imports.resolve_mapping(headers, {"Remarques": "âge"})


# ---- Preview ------------------------------------------------------------------------------------


def test_preview_parses_every_value_with_the_domain_validators(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER
                 + "Épicerie « Le Panier »;Hélène;Dupont;Helene.Dupont@Exemple.FR;06 12 34 56 78;Tours;création;"
                   "06/01/2025;732 829 320 00074;activité démarrée;SCOP\r\n"
                 + "Tiers-lieu;Karim;Benali;;;Châteauroux (36);;;;;\r\n"
                 + ";;;;;;;;;;\r\n")
    result = preview(world, path)
    assert result.errors == () and (result.projects, result.holders, result.new_persons) == (2, 2, 2)
    assert result.source.describe() == "import.csv (CSV, séparateur « ; », encodage UTF-8 avec BOM)"
    first, second = result.lines
    assert first.draft is not None and second.draft is not None
    assert (first.line, first.draft.title, first.draft.phase, first.draft.phase_date, first.draft.siret) == (
        2, "Épicerie « Le Panier »", Phase.CREATION, dt.date(2025, 1, 6), "73282932000074")
    assert (first.draft.legal_form, first.draft.commune_code, first.draft.lead_structure_id) == (
        LegalForm.SCOP, "37261", world.urscop)
    assert first.holders[0].draft == HolderDraft("Hélène", "Dupont", MemberRole.PORTEUR,
                                                 email="Helene.Dupont@exemple.fr", phone="+33612345678")
    assert first.edit is not None and first.edit.status is ProjectStatus.ACTIVITE_DEMARREE
    assert (second.line, second.draft.commune_code, second.draft.phase, second.edit) == (3, "36044", Phase.EMERGENCE,
                                                                                      None)


def test_line_level_errors_name_the_line_and_column_and_nothing_is_written(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER
                 + "Bon projet;Hélène;Dupont;;;Tours;;;;;\r\n"
                 + "Mauvaise date;Karim;Benali;;;Tours;;31/02/2026;;;\r\n"
                 + "Mauvais SIRET;Inès;Lefèvre;;;Tours;;;73282932000075;;\r\n"
                 + "Mauvaise phase;Léa;Roux;pas-un-courriel;01 02;Tuors;germination;;;;\r\n"
                 + ";Sans;Titre;;;;;;;;\r\n"
                 + "Sans porteur;;;;;Tours;;;;;\r\n"
                 + "Demain;Noé;Petit;;;Tours;;24/11/2026;;;\r\n")
    result = preview(world, path)
    assert result.errors == (
        "Ligne 3, colonne Date d'entrée : « 31/02/2026 », date invalide, format attendu JJ/MM/AAAA (ex. 12/03/2026).",
        "Ligne 4, colonne SIRET : « 73282932000075 », la clé de contrôle est fausse, vérifiez les chiffres.",
        "Ligne 5, colonne Commune : Commune inconnue : « Tuors ». Vouliez-vous dire : Tours (37) ?",
        "Ligne 5, colonne Phase : « germination », valeur inconnue. Valeurs possibles : émergence, création, "
        "consolidation, changement d'échelle, reprise / transmission, difficulté.",
        "Ligne 5, colonne Courriel : adresse invalide (exemple attendu : prenom.nom@exemple.fr).",
        "Ligne 5, colonne Téléphone : numéro non reconnu. Saisissez-le à 10 chiffres (02 54 12 34 56) ou au format "
        "international (+262 262 12 34 56).",
        "Ligne 6, colonne Nom du projet : le nom du projet est obligatoire.",
        "Ligne 7 : un porteur est attendu (prénom et nom).",
        "Ligne 8, colonne Date d'entrée : le 24/11/2026 est dans le futur.",
    )
    assert result.projects == 1
    with pytest.raises(ImportRejected, match="contient 9 erreurs ; rien n'a été importé") as rejected:
        apply(world, path)
    assert "Ligne 4, colonne SIRET" in str(rejected.value)
    assert count(world, Project) == count(world, Person) == 0


def test_wrong_columns_are_a_file_error(world: World, tmp_path: Path) -> None:
    result = preview(world, write(tmp_path, "Dossier;Contact;Remarque\r\nA;B;C\r\n"))
    assert result.lines == ()
    assert result.errors[0].startswith("Colonnes : aucune colonne ne donne le nom du projet")
    assert "Colonnes lues : « Dossier », « Contact », « Remarque »" in result.errors[0]
    assert result.errors[1].startswith("Colonnes : aucune colonne ne donne le porteur")
    with pytest.raises(ImportRejected):
        apply(world, write(tmp_path, "Dossier;Contact;Remarque\r\nA;B;C\r\n"))
    # AND a mapping given by the caller makes the same file importable
    result = preview(world, write(tmp_path, "Dossier;Contact;Remarque\r\nA;Hélène Dupont;C\r\n"),
                     overrides={"Dossier": "titre", "Contact": "porteur"})
    assert result.errors == () and result.lines[0].holders[0].draft.last_name == "Dupont"


def test_cp1252_comma_separated_file_is_decoded_and_reported(world: World, tmp_path: Path) -> None:
    text = "Projet,Prénom,Nom,Ville\r\n\"Épicerie, café\",Hélène,Lefèvre,Châteauroux\r\n"
    result = preview(world, write(tmp_path, text, encoding="cp1252"))
    assert result.source.encoding == "Windows-1252 (cp1252)" and result.source.delimiter == ","
    draft = result.lines[0].draft
    assert draft is not None and draft.title == "Épicerie, café" and draft.commune_code == "36044"
    assert result.lines[0].holders[0].draft.first_name == "Hélène"


def test_utf8_tab_separated_file_with_full_names(world: World, tmp_path: Path) -> None:
    text = "Titre\tPorteur\tPorteur 2\tCode INSEE\r\nScic bois\tInès Lefèvre\tJean de La Fontaine\t37261\r\n"
    result = preview(world, write(tmp_path, text, encoding="utf-8"))
    assert (result.source.encoding, result.source.delimiter) == ("UTF-8", "\t")
    assert [(h.draft.first_name, h.draft.last_name) for h in result.lines[0].holders] == [
        ("Inès", "Lefèvre"), ("Jean", "de La Fontaine")]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n ; ;\r\n"])
def test_an_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "vide.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match="est vide"):
        imports.read_table(path)


def test_headers_without_rows(world: World, tmp_path: Path) -> None:
    result = preview(world, write(tmp_path, HEADER))
    assert result.errors == ("Le fichier ne contient aucune ligne de données sous les en-têtes.",)


def xlsx(tmp_path: Path, rows: list[list[object]], name: str = "import.xlsx") -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def test_xlsx_cells_keep_their_types_and_lost_zeros_come_back(world: World, tmp_path: Path) -> None:
    path = xlsx(tmp_path, [
        ["Projet", "Prénom", "Nom", "Tél", "Code postal", "Commune", "SIRET", "Date d'entrée", "Emplois créés",
         "ESUS"],
        ["Garage solidaire", "Hélène", "Dupont", 612345678, 36000, "Châteauroux", 73282932000074,
         dt.datetime(2025, 3, 1), 1.5, True],
        [None] * 10,
    ])
    result = preview(world, path)
    assert result.errors == () and result.source.describe() == "import.xlsx (XLSX)"
    line = result.lines[0]
    assert line.draft is not None and line.edit is not None
    assert (line.draft.siret, line.draft.phase_date, line.draft.esus, line.edit.jobs_created) == (
        "73282932000074", dt.date(2025, 3, 1), True, Decimal("1.50"))
    assert line.holders[0].draft.phone == "+33612345678" and line.draft.commune_code == "36044"


def test_a_truncated_or_old_workbook_is_a_french_error(tmp_path: Path) -> None:
    good = xlsx(tmp_path, [["Projet", "Porteur"], ["A", "Hélène Dupont"]])
    truncated = tmp_path / "tronque.xlsx"
    truncated.write_bytes(good.read_bytes()[:700])
    with pytest.raises(ImportFileError, match="illisible ou incomplet"):
        imports.read_table(truncated)
    old = tmp_path / "ancien.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ImportFileError, match=r"\.xls"):
        imports.read_table(old)


# ---- Duplicates ---------------------------------------------------------------------------------


def existing(world: World) -> uuid.UUID:
    """Hélène Dupont, of Tours, holder of a project with a SIRET."""
    holder = HolderDraft("Hélène", "Dupont", email="helene.dupont@exemple.fr", phone="06 12 34 56 78")
    draft = ProjectDraft("Épicerie", world.urscop, "37261", (holder,), siret="73282932000074")
    with world.db.transaction() as session:
        project_id = create_project(session, world.camille, draft, today=TODAY).id
        return session.execute(select(ProjectMember.person_id).where(ProjectMember.project_id == project_id)) \
            .scalar_one()


@pytest.mark.parametrize(
    ("row", "rule", "certain"),
    [
        ("Autre;Hélène;DUPONT;;;Châteauroux;73282932000074", MatchRule.SIRET, True),
        ("Autre;helene;Martin;HELENE.DUPONT@exemple.fr;;Châteauroux;", MatchRule.EMAIL, True),
        ("Autre;Hélène;Martin;;+33 6 12 34 56 78;Châteauroux;", MatchRule.PHONE, True),
        ("Autre;Hélène;Dupont;;;Tours;", MatchRule.NAME_COMMUNE, True),
        ("Autre;Helene;Dupond;;;Tours;", MatchRule.SIMILAR_NAME, False),
        ("Autre;Sophie;Martin;helene.dupont@exemple.fr;06 12 34 56 78;Tours;", None, False),
        ("Autre;Hélène;Dupont;;;Châteauroux;", None, False),
    ],
)
def test_matching_cascade(world: World, tmp_path: Path, row: str, rule: MatchRule | None, certain: bool) -> None:
    person = existing(world)
    path = write(tmp_path, "Projet;Prénom;Nom;Courriel;Téléphone;Commune;SIRET\r\n" + row + "\r\n")
    holder = preview(world, path).lines[0].holders[0]
    if rule is None:
        assert holder.match is None and not holder.linked
    else:
        assert holder.match is not None and holder.match.person_id == person
        assert (holder.match.rule, holder.match.certain, holder.linked) == (rule, certain, certain)
        assert holder.match.name == "Hélène Dupont"
    # WHEN it is applied THEN a certain match is reused, anything else is a new person
    result = apply(world, path)
    assert (result.linked_persons, result.created_persons) == ((1, 0) if certain else (0, 1))
    assert count(world, Person) == (1 if certain else 2)


def test_probable_matches_are_linked_only_when_asked(world: World, tmp_path: Path) -> None:
    person = existing(world)
    path = write(tmp_path, "Projet;Prénom;Nom;Commune\r\nAutre;Helene;Dupond;Tours\r\n")
    holder = preview(world, path, link_probable=True).lines[0].holders[0]
    assert holder.linked and holder.match is not None and holder.match.person_id == person
    result = apply(world, path, link_probable=True)
    assert (result.linked_persons, count(world, Person)) == (1, 1)


def test_duplicates_within_the_file_make_one_person(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "Projet;Prénom;Nom;Courriel;Commune\r\n"
                 "Premier;Karim;Benali;karim@exemple.fr;Tours\r\n"
                 "Second;KARIM;Benali-Roux;Karim@Exemple.fr;Châteauroux\r\n"
                 "Troisième;Karim;Benali;;Tours\r\n")
    result = preview(world, path)
    second, third = result.lines[1].holders[0], result.lines[2].holders[0]
    assert (second.same_as, second.same_rule) == ((2, 1), MatchRule.EMAIL)
    assert (third.same_as, third.same_rule) == ((2, 1), MatchRule.NAME_COMMUNE)
    assert (result.new_persons, result.matches) == (1, 2)
    applied = apply(world, path)
    assert (applied.created_persons, count(world, Person), count(world, ProjectMember)) == (1, 1, 3)


def test_the_same_person_twice_on_one_line_is_an_error(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "Projet;Prénom;Nom;Courriel;Prénom 2;Nom 2;Courriel 2;Commune\r\n"
                 "Duo;Karim;Benali;karim@exemple.fr;Karim;Benali;karim@exemple.fr;Tours\r\n")
    assert preview(world, path).errors == ("Ligne 2 : les porteurs 1 et 2 semblent être la même personne.",)


# ---- Apply --------------------------------------------------------------------------------------


def test_apply_writes_projects_holders_status_and_jobs(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "Projet;Porteur;Rôle;Porteur 2;Rôle 2;Code INSEE;Statut;Emplois créés (ETP);Secteur;"
                 "Confidentiel\r\n"
                 "SCIC bois;Inès Lefèvre;;Jean de La Fontaine;associé-salarié;36044;en veille;2,5;numérique;oui\r\n")
    result = apply(world, path)
    with world.db.read() as session:
        project = session.get(Project, result.project_ids[0])
        roles = session.execute(select(Person.last_name, ProjectMember.role).join(ProjectMember)
                                .order_by(Person.last_name)).all()
    assert project is not None and project.lead_structure_id == world.urscop
    assert (project.status, project.jobs_created, project.sector, project.confidential) == (
        ProjectStatus.EN_VEILLE, Decimal("2.50"), Sector.NUMERIQUE, True)
    assert roles == [("Lefèvre", MemberRole.PORTEUR), ("de La Fontaine", MemberRole.ASSOCIE_SALARIE)]


def test_apply_refuses_a_read_only_advisor(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "Projet;Porteur\r\nA;Hélène Dupont\r\n")
    with pytest.raises(imports.UserFacingError, match="lecture seule"):
        imports.apply_import(world.db, world.reader, imports.read_table(path), today=TODAY)
    assert count(world, Project) == 0


# ---- The domain's holder links (domain/projects.py) ---------------------------------------------


def test_holders_can_be_existing_persons_with_contacts_kept(world: World) -> None:
    with world.db.transaction() as session:
        person = add_person(session, world.camille, HolderDraft("Hélène", "Dupont", email="h.dupont@exemple.fr",
                                                                phone="02 54 12 34 56"), commune_code="37261").id
        draft = ProjectDraft("Atelier vélo", world.urscop, "36044", (
            HolderDraft("ignoré", "ignoré", person_id=person), HolderDraft("Karim", "Benali", phone="0612345678")))
        project_id = create_project(session, world.camille, draft, today=TODAY).id
    with world.db.read() as session:
        members = {m.person_id for m in session.execute(select(ProjectMember)).scalars()}
        people = {p.last_name: p for p in session.execute(select(Person)).scalars()}
    assert person in members and len(members) == 2 and project_id
    assert (people["Dupont"].email, people["Dupont"].phone, people["Dupont"].commune_code) == (
        "h.dupont@exemple.fr", "+33254123456", "37261")
    assert people["Benali"].phone == "+33612345678" and people["Benali"].commune_code == "36044"


def test_linking_a_missing_or_repeated_person_is_refused(world: World) -> None:
    with world.db.transaction() as session:
        person = add_person(session, world.camille, HolderDraft("Hélène", "Dupont"), commune_code=None).id
    twice = (HolderDraft("a", "b", person_id=person), HolderDraft("c", "d", person_id=person))
    with pytest.raises(ValidationError, match="deux fois"), world.db.transaction() as session:
        create_project(session, world.camille, ProjectDraft("X", world.urscop, holders=twice), today=TODAY)
    with pytest.raises(NotFoundError, match="introuvable"), world.db.transaction() as session:
        create_project(session, world.camille, ProjectDraft("X", world.urscop, holders=(
            HolderDraft("a", "b", person_id=uuid.uuid4()),)), today=TODAY)
    with pytest.raises(ValidationError, match="Courriel"), world.db.transaction() as session:
        add_person(session, world.camille, HolderDraft("a", "b", email="pas un courriel"), commune_code=None)
    assert count(world, Project) == 0 and count(world, Person) == 1
