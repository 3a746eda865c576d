"""The ``ess-acc`` command line, run for real: a day of an advisor, and every kind of bad input."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.cli.conftest import digest, ok, run

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


def add_project(base: Path, *extra: str) -> str:
    out = ok(base, "project", "add", "--title", "Épicerie coopérative de la Brenne", "--holder", "Hélène Dupont",
             "--holder", "Karim Benali", "--commune", "Tours", "--structure", "urscop",
             "--sector", "alimentation", "--prescripteur", "france_travail", *extra).out.strip()
    assert UUID.match(out), out
    return out


def test_init_prints_the_owner_and_is_idempotent(tmp_path: Path) -> None:
    # GIVEN no database WHEN init runs THEN it creates the file and prints the owner's id (a UUIDv7)
    db = tmp_path / "neuve.db"
    result = ok(db, "init", "--advisor", "Camille Martin", "--structure", "URSCOP")
    assert UUID.match(result.out.strip()) and "communes" in result.err
    # WHEN it runs again without an advisor THEN it only updates the reference data, changing nothing
    before = digest(db)
    again = ok(db, "init")
    assert again.out == "" and "mise à jour" in again.err
    assert digest(db) == before
    # AND a second owner is refused
    refused = run(db, "init", "--advisor", "Autre Personne", "--structure", "urscop")
    assert refused.code == 2 and "déjà un conseiller propriétaire" in refused.err


def test_an_advisors_day(base: Path) -> None:
    # GIVEN a project created by the URSCOP advisor
    project = add_project(base, "--siret", "732 829 320 00074", "--legal-form", "association",
                          "--envisaged-legal-form", "scop", "--since", "01/06/2026")
    ok(base, "phase", project[:8], "--to", "création", "--date", "01/09/2026")
    ok(base, "appointment", "add", project[:8], "--date", "12/10/2026 14:30", "--duration", "90", "--mode",
       "permanence", "--place", "Mairie de Loches", "--topic", "statuts", "--next-step", "Envoyer le prévisionnel",
       "--due", "15/12/2026")
    line = ok(base, "financing", "add", project, "--instrument", "pret_honneur", "--amount", "15 000,50",
              "--funder", "France Active Centre-Val de Loire", "--requested-on", "01/10/2026").out.strip()
    ok(base, "financing", "update", line[:8], "--status", "accorde", "--amount", "15 000,50", "--granted", "12 000",
       "--decided-on", "05/11/2026")
    mistake = ok(base, "financing", "add", project, "--instrument", "garantie", "--amount", "1").out.strip()
    assert "retirée du tour de table" in ok(base, "financing", "remove", mistake).out  # gone from the story
    # AND a France Active advisor to receive the referral
    lea = ok(base, "advisor", "add", "--name", "Léa Durand", "--structure", "fa-cvl").out.strip()
    referral = ok(base, "referral", "add", project, "--to", "France Active Centre-Val de Loire", "--dispositif", "Fonds de confiance",
                  "--motive", "Étude de faisabilité à financer", today="02/11/2026").out.strip()
    ok(base, "--as", "Léa Durand", "referral", "answer", referral[:8], "--accept", "--comment", "RDV pris")
    # THEN the project shows its whole story in date order
    detail = ok(base, "project", "show", project, "--json").json()
    assert detail["phase"] == "creation" and detail["siret"] == "73282932000074"
    assert [h["first_name"] for h in detail["holders"]] == ["Hélène", "Karim"]
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert kinds == ["phase", "phase", "appointment", "referral", "financing"]
    days = [entry["when"][:10] for entry in detail["timeline"]]
    assert days == sorted(days)
    assert detail["open_next_steps"] == [["Envoyer le prévisionnel", "2026-12-15"]]
    text = ok(base, "project", "show", project[:8]).out
    assert "12\u202f000,00\u00a0€, accordé" in text and "acceptée" in text and "12/10/2026 14:30" in text
    # AND each side sees the referral in its own box
    inbox = ok(base, "--as", lea, "referral", "list", "--inbox", "--json").json()
    assert [(r["status"], r["incoming"]) for r in inbox] == [("acceptee", True)]
    assert ok(base, "referral", "list", "--inbox", "--json").json() == []
    assert ok(base, "referral", "list", "--outbox").out.count("acceptée") == 1


def test_list_filters_and_search_ignore_accents(base: Path) -> None:
    project = add_project(base)
    ok(base, "project", "add", "--title", "Garage solidaire", "--holder", "Inès Lefèvre", "--commune", "Châteauroux")
    rows = ok(base, "project", "list", "--search", "epicerie brenne", "--json").json()
    assert [r["id"] for r in rows] == [project]
    assert [r["title"] for r in ok(base, "project", "list", "--departement", "36", "--json").json()] == [
        "Garage solidaire"]
    assert len(ok(base, "project", "list", "--phase", "emergence", "--status", "actif", "--json").json()) == 2
    assert ok(base, "project", "list", "--phase", "creation", "--json").json() == []
    hits = ok(base, "search", "LEFEVRE", "--json").json()
    assert {h["kind"] for h in hits} == {"project", "person"}
    assert "Garage solidaire" in ok(base, "search", "garage").out


def test_project_edit(base: Path) -> None:
    project = add_project(base)
    ok(base, "project", "edit", project, "--status", "activite_demarree", "--jobs-created", "2,5",
       "--title", "Épicerie de la Brenne")
    detail = ok(base, "project", "show", project, "--json").json()
    assert (detail["status"], detail["jobs_created"], detail["title"]) == (
        "activite_demarree", "2.50", "Épicerie de la Brenne")


def test_catalogue_json(base: Path) -> None:
    catalogue = ok(base, "catalogue", "--json").json()
    keys = {s["key"] for s in catalogue["structures"]}
    assert {"urscop", "alter-incub", "fa-cvl"} <= keys
    emergence = ok(base, "catalogue", "--phase", "émergence", "--json").json()
    assert all("emergence" in d["phases"] for d in emergence["dispositifs"])


BAD_PROJECT_INPUTS = [
    (("--siret", "73282932000075"), "SIRET « 73282932000075 » : la clé de contrôle est fausse"),
    (("--rna", "372012345"), "W suivi de 9 chiffres"),
    (("--phase", "lancement"), "--phase « lancement » : valeur inconnue"),
    (("--legal-form", "sarl-ess"), "--legal-form"),
    (("--structure", "France Activ"), "structure"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_PROJECT_INPUTS)
def test_bad_project_input_exits_2_in_french_and_writes_nothing(base: Path, extra: tuple[str, ...],
                                                                 message: str) -> None:
    before = digest(base)
    result = run(base, "project", "add", "--title", "Ressourcerie", "--holder", "Inès Lefèvre", "--commune",
                 "Tours", *extra)
    assert result.code == 2 and result.err.startswith("Erreur"), result.err
    assert message in result.err
    assert result.out == ""
    assert digest(base) == before


def test_unknown_commune_suggests_close_names(base: Path) -> None:
    result = run(base, "project", "add", "--title", "X", "--holder", "Inès Lefèvre", "--commune", "Tuors")
    assert result.code == 2 and "Tuors" in result.err and "Tours" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("phase", "{p}", "--to", "consolidation"), "indiquez-en la raison"),
        (("phase", "{p}", "--to", "creation", "--date", "24/11/2026"), "dans le futur"),
        (("phase", "{p}", "--to", "creation", "--date", "31/02/2026"), "JJ/MM/AAAA"),
        (("appointment", "add", "{p}", "--date", "12/10/2026", "--duration", "60", "--mode", "visio"), "HH:MM"),
        (("appointment", "add", "{p}", "--date", "12/10/2026 10:00", "--duration", "0", "--mode", "visio"), "Durée"),
        (("appointment", "add", "{p}", "--date", "12/10/2026 10:00", "--duration", "60", "--mode", "permanence"),
         "Lieu"),
        (("financing", "add", "{p}", "--instrument", "pret_honneur", "--amount", "15.000,5"), "Montant"),
        (("financing", "add", "{p}", "--instrument", "don", "--amount", "100"), "--instrument"),
        (("financing", "add", "{p}", "--instrument", "pret_honneur", "--amount", "100", "--status", "refuse",
          "--granted", "50"), "Montant accordé"),
        (("financing", "update", "pas-un-id", "--status", "accorde", "--amount", "100"), "Ligne de financement : identifiant"),
        (("financing", "update", "0000000000", "--status", "accorde", "--amount", "100"), "Ligne de financement introuvable"),
        (("referral", "add", "{p}", "--to", "urscop", "--motive", "x"), "propre structure"),
        (("referral", "add", "{p}", "--to", "fa-cvl", "--dispositif", "CAP ASSO", "--motive", "x"), "dispositif"),
        (("project", "show", "0000000000"), "introuvable"),
        (("project", "show", "abc"), "au moins 6 caractères"),
        (("--as", "Personne Inconnue", "phase", "{p}", "--to", "creation"), "Aucun conseiller"),
        (("project", "list", "--departement", "Indre"), "--departement"),
    ],
)
def test_bad_input_on_an_existing_project(base: Path, args: tuple[str, ...], message: str) -> None:
    project = add_project(base, "--since", "01/06/2026")
    before = digest(base)
    result = run(base, *(a.replace("{p}", project) for a in args))
    assert result.code == 2, result.err
    assert message in result.err, result.err
    assert digest(base) == before


def test_only_the_receiving_structure_answers_a_referral(base: Path) -> None:
    project = add_project(base)
    ok(base, "advisor", "add", "--name", "Noé Bernard", "--structure", "alter-incub")
    referral = ok(base, "referral", "add", project, "--to", "fa-cvl", "--motive", "Financement").out.strip()
    before = digest(base)
    for who in ("Camille Martin", "Noé Bernard"):
        result = run(base, "--as", who, "referral", "answer", referral, "--accept")
        assert result.code == 2 and "structure destinataire" in result.err
    refused = run(base, "referral", "answer", referral, "--refuse")
    assert refused.code == 2
    assert digest(base) == before


def test_referral_expiry_is_configurable(base: Path) -> None:
    project = add_project(base)
    ok(base, "advisor", "add", "--name", "Léa Durand", "--structure", "fa-cvl")
    referral = ok(base, "referral", "add", project, "--to", "fa-cvl", "--motive", "Garantie",
                  today="01/10/2026").out.strip()
    assert ok(base, "referral", "list", "--json").json()[0]["status"] == "expiree"
    expired = run(base, "--as", "Léa Durand", "referral", "answer", referral, "--accept")
    assert expired.code == 2 and "expiré" in expired.err
    assert "60 jours" in ok(base, "config", "--referral-expiry-days", "60").out
    ok(base, "--as", "Léa Durand", "referral", "answer", referral, "--refuse", "--reason", "capacite")
    assert ok(base, "referral", "list", "--json").json()[0]["refusal_reason"] == "capacite"


def test_referral_remind_records_the_reminder_and_prints_the_email(base: Path) -> None:
    # GIVEN a referral sent to France Active, unanswered
    project = add_project(base)
    ok(base, "advisor", "add", "--name", "Léa Durand", "--structure", "fa-cvl")
    referral = ok(base, "referral", "add", project, "--to", "fa-cvl", "--motive", "Garantie",
                  today="02/11/2026").out.strip()
    # WHEN the receiver tries to remind it THEN it is refused and nothing is written
    before = digest(base)
    refused = run(base, "--as", "Léa Durand", "referral", "remind", referral[:8])
    assert refused.code == 2 and "structure émettrice" in refused.err
    assert digest(base) == before
    # WHEN the sender reminds it twice (by its id prefix)
    first = ok(base, "referral", "remind", referral[:8], today="20/11/2026").out
    second = ok(base, "referral", "remind", referral[:8]).out
    # THEN the French e-mail is printed, and the reminders recorded
    assert first.startswith("Objet : Relance – orientation du projet « ")
    assert "lundi 2 novembre 2026" in first and "mercredi 2 décembre 2026" in first and "déjà" not in first
    assert "déjà adressé une relance le vendredi 20 novembre 2026" in second
    (row,) = ok(base, "referral", "list", "--outbox", "--json").json()
    assert (row["reminded_on"], row["reminder_count"]) == ("2026-11-23", 2)
    # AND once answered, it can no longer be reminded
    ok(base, "--as", "Léa Durand", "referral", "answer", referral, "--accept")
    answered = run(base, "referral", "remind", referral[:8])
    assert answered.code == 2 and "« acceptée » n'attend plus de réponse" in answered.err


def test_a_next_step_is_listed_marked_done_and_reopened(base: Path) -> None:
    # GIVEN a step set at an appointment on 12/10, due on 15/11: late today (23/11)
    project = add_project(base)
    ok(base, "appointment", "add", project[:8], "--date", "12/10/2026 14:30", "--duration", "60", "--mode",
       "telephone", "--next-step", "Envoyer le prévisionnel", "--due", "15/11/2026")
    (step,) = ok(base, "step", "list", "--json").json()
    assert (step["text"], step["days_late"]) == ("Envoyer le prévisionnel", 8)
    assert "Envoyer le prévisionnel" in ok(base, "step", "list").out
    # WHEN bad input is given THEN it is refused in French, exit 2, nothing written
    before = digest(base)
    for args, message in ((("step", "done", step["id"], "--on", "24/11/2026"), "dans le futur"),
                          (("step", "done", step["id"], "--on", "11/10/2026"), "précède le rendez-vous du 12/10/2026"),
                          (("step", "done", "zz"), "Étape : identifiant attendu"),
                          (("step", "reopen", step["id"]), "n'est pas marquée comme faite")):
        refused = run(base, *args)
        assert refused.code == 2 and message in refused.err, (args, refused.err)
    assert digest(base) == before
    # WHEN it is marked done by its id prefix THEN it no longer waits, and only once
    assert "marquée comme faite le 20/11/2026" in ok(base, "step", "done", step["id"][:8], "--on", "20/11/2026").out
    assert ok(base, "step", "list", "--json").json() == []
    again = run(base, "step", "done", step["id"][:8])
    assert again.code == 2 and "déjà marquée comme faite, le 20/11/2026" in again.err
    # AND reopened (marked by mistake) it waits again
    assert "rouverte" in ok(base, "step", "reopen", step["id"][:8]).out
    assert [s["id"] for s in ok(base, "step", "list", "--json").json()] == [step["id"]]


def test_argparse_speaks_french(base: Path) -> None:
    result = run(base, "project", "add", "--title", "X")
    assert result.code == 2 and "arguments obligatoires manquants" in result.err
    assert "usage :" in run(base, "projet").err


def test_commands_never_create_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "absente.db"
    result = run(missing, "project", "list")
    assert result.code == 2 and "ess-acc init" in result.err
    assert not missing.exists()


def test_demo_is_deterministic_and_needs_a_new_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    owner = ok(first, "demo", "--projects", "40", "--seed", "7").out.strip()
    uuid.UUID(owner)
    ok(second, "demo", "--projects", "40", "--seed", "7")
    listing = ["project", "list", "--limit", "100", "--json"]
    assert ok(first, *listing).json() == ok(second, *listing).json()
    assert len(ok(first, *listing).json()) == 40
    again = run(first, "demo", "--projects", "5")
    assert again.code == 2 and "existe déjà" in again.err
