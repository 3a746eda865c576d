"""``ess-acc indicators``, ``agenda`` and ``observatory``, run for real, with their bad input."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.cli.conftest import digest, ok, run


@pytest.fixture
def story(base: Path) -> dict[str, str]:
    """One URSCOP project in 2026: émergence 01/03, création 01/09, an appointment, a referral accepted by FA."""
    project = ok(base, "project", "add", "--title", "Épicerie coopérative de la Brenne", "--holder", "Hélène Dupont",
                 "--commune", "Tours", "--since", "01/03/2026").out.strip()
    ok(base, "phase", project, "--to", "création", "--date", "01/09/2026")
    ok(base, "appointment", "add", project, "--date", "12/10/2026 14:30", "--duration", "90", "--mode", "visio")
    ok(base, "advisor", "add", "--name", "Léa Durand", "--structure", "fa-cvl")
    referral = ok(base, "referral", "add", project, "--to", "fa-cvl", "--motive", "Prêt d'honneur",
                  today="02/11/2026").out.strip()
    ok(base, "--as", "Léa Durand", "referral", "answer", referral, "--accept", today="06/11/2026")
    return {"project": project}


def test_indicators_summary_breakdown_and_explain(base: Path, story: dict[str, str]) -> None:
    period = ("--from", "01/01/2026", "--to", "31/12/2026")
    figures = ok(base, "indicators", *period, "--json").json()["chiffres"]
    by_key = {(f["cle"], f["valeur"]): f for f in figures}
    # one project, worked on by the URSCOP (phases, appointment) and France Active (acceptance)
    assert by_key[("projets_accompagnes.ensemble", "total")]["effectif"] == 1
    assert by_key[("projets_accompagnes.structure", "urscop")]["effectif"] == 1
    assert by_key[("parcours_entres.structure", "fa-cvl")]["effectif"] == 1
    assert by_key[("delai_reponse.ensemble", "total")]["montant"] == "4.0"  # 02/11 → 06/11
    summary = ok(base, "indicators", *period).out
    assert "Projets accompagnés" in summary and "1 projet a intégré le parcours, aucun n'a démarré d'activité" in summary
    table = ok(base, "indicators", *period, "--by", "phase").out
    assert "création" in table and "100,0 %" in table
    # as of 31/08/2026 the project was still in émergence
    assert "émergence" in ok(base, "indicators", "--from", "01/01/2026", "--to", "31/08/2026", "--by", "phase").out
    explained = ok(base, "indicators", *period, "--explain", "projets_accompagnes.phase=creation").out
    assert story["project"][:8] in explained and "Épicerie coopérative" in explained
    assert ok(base, "indicators", *period, "--structure", "France Active Centre-Val de Loire", "--explain",
              "projets_accompagnes=total", "--json").json()["projets"] == [story["project"]]


@pytest.mark.usefixtures("story")
def test_agenda_file(base: Path, tmp_path: Path) -> None:
    out = tmp_path / "agenda.ics"
    result = ok(base, "agenda", "--out", str(out), "--from", "01/10/2026", "--permanences")
    assert "1 rendez-vous" in result.err
    (event,) = Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert str(event["SUMMARY"]) == "RDV – Épicerie coopérative de la Brenne"
    assert (event["DTSTART"].dt.hour, event["DTSTART"].dt.minute) == (14, 30)
    assert "Hélène" not in out.read_text("utf-8")


@pytest.mark.usefixtures("story")
def test_observatory_files(base: Path, tmp_path: Path) -> None:
    out = tmp_path / "observatoire.csv"
    assert "sous secret statistique" in ok(base, "observatory", "--year", "2026", "--out", str(out)).err
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"), newline=""), delimiter=";"))
    total = next(r for r in rows if (r["indicateur"], r["dimension"]) == ("projets_accompagnes", "ensemble"))
    assert (total["effectif"], total["secret"]) == ("", "1")  # one project: under the threshold of 5
    json_out = tmp_path / "observatoire.json"
    ok(base, "observatory", "--year", "2026", "--out", str(json_out))
    assert json_out.read_text("utf-8").startswith("{")


@pytest.mark.parametrize(("args", "option"), [
    (("indicators", "--from", "31/02/2026", "--to", "31/12/2026"), "--from"),
    (("indicators", "--from", "01/02/2026", "--to", "01/01/2026"), "--to"),
    (("indicators", "--from", "01/01/2026", "--to", "31/12/2026", "--by", "couleur"), "--by"),
    (("indicators", "--from", "01/01/2026", "--to", "31/12/2026", "--explain", "phase"), "--explain"),
    (("indicators", "--from", "01/01/2026", "--to", "31/12/2026", "--explain", "projets_accompagnes.phase=lune"),
     "--explain"),
    (("indicators", "--from", "01/01/2026", "--to", "31/12/2026", "--structure", "Nulle Part"), "--structure"),
    (("indicators", "--from", "01/01/2026", "--to", "31/12/2026", "--epci", "123"), "--epci"),
    (("agenda", "--out", "{tmp}/agenda.txt"), "--out"),
    (("agenda", "--out", "{tmp}/absent/agenda.ics"), "--out"),
    (("agenda", "--out", "{tmp}/agenda.ics", "--advisor", "Personne Inconnue"), "--advisor"),
    (("agenda", "--out", "{tmp}/agenda.ics", "--from", "02/02/2026", "--to", "01/02/2026"), "--to"),
    (("observatory", "--year", "2031", "--out", "{tmp}/o.csv"), "--year"),
    (("observatory", "--year", "deux", "--out", "{tmp}/o.csv"), "--year"),
    (("observatory", "--year", "2026", "--out", "{tmp}/absent/o.csv"), "--out"),
])
def test_bad_input_names_the_option_and_leaves_nothing(base: Path, tmp_path: Path, args: tuple[str, ...],
                                                       option: str) -> None:
    folder = tmp_path / "sortie"
    folder.mkdir()
    before = digest(base)
    result = run(base, *(a.replace("{tmp}", str(folder)) for a in args))
    assert result.code == 2, result.err
    assert option in result.err and "Traceback" not in result.err
    assert list(folder.iterdir()) == [] and digest(base) == before
