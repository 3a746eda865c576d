"""The observatory export: statistical secret (primary and secondary), no personal data, the file formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from ess_accompagnement.domain import financing, phases, referrals
from ess_accompagnement.domain.codes import Gender, Instrument, Phase, ReferralStatus
from ess_accompagnement.domain.entities import Note, Person, ProjectMember
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.reports.observatory import (
    CSV_HEADER,
    FORMAT_VERSION,
    ObservatoryFormat,
    ObservatoryReport,
    ObservatoryRow,
    build_observatory,
    export_observatory,
    render_csv,
    render_json,
    suppress,
)
from tests.worlds import TODAY, World

HEX_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def cell(value: str, count: int, dimension: str = "phase", amount: str | None = None) -> ObservatoryRow:
    return ObservatoryRow("projets_accompagnes", dimension, value, value, count,
                          Decimal(amount) if amount else None, secret=False)


def published(rows: list[ObservatoryRow]) -> dict[str, int | None]:
    return {row.value: row.count for row in rows}


def test_primary_and_secondary_suppression() -> None:
    # GIVEN a breakdown 12 / 3 / 7 / 20 (total 42 published elsewhere)
    rows = suppress([cell("a", 12), cell("b", 3), cell("c", 7), cell("d", 20)])
    # THEN 3 < 5 is secret, and so is the next smallest (7): else 42 − 12 − 7 − 20 would give 3 back
    assert published(rows) == {"a": 12, "b": None, "c": None, "d": 20}
    assert [r.secret for r in rows] == [False, True, True, False]
    # AND two primary secrets need no secondary one: 2 and 1 stay hidden, 30 is published
    assert published(suppress([cell("x", 2), cell("y", 1), cell("z", 30)])) == {"x": None, "y": None, "z": 30}
    # AND nothing is hidden when every count is 5 or more; zero is under 5 too
    assert published(suppress([cell("x", 5), cell("y", 9)])) == {"x": 5, "y": 9}
    assert published(suppress([cell("x", 0), cell("y", 9), cell("z", 6)])) == {"x": None, "y": 9, "z": None}


def test_secret_cells_lose_their_amount_and_rows_are_ordered_by_code() -> None:
    rows = suppress([cell("pret", 30, "instrument", "90000"), cell("garantie", 2, "instrument", "15000"),
                     cell("avance", 6, "instrument", "12000")])
    # ordered by code, never by count: the order must not hint at a hidden value
    assert [r.value for r in rows] == ["avance", "garantie", "pret"]
    assert [(r.count, r.amount) for r in rows] == [(None, None), (None, None), (30, Decimal("90000"))]


def _person_details(world: World, project: uuid.UUID) -> None:
    with world.db.transaction() as session:
        member = session.query(ProjectMember).filter_by(project_id=project).one()
        person = session.get(Person, member.person_id)
        person.email, person.phone, person.gender, person.birth_year = (
            "ines.lefevre@exemple.fr", "+33612345678", Gender.FEMME, 1991)
        session.add(Note(project_id=project, written_on=dt.date(2025, 3, 1), text="Mme Lefèvre hésite encore",
                         owner_structure_id=world.urscop))


@pytest.fixture
def region(world: World) -> list[uuid.UUID]:
    """Seven URSCOP projects worked on in 2025: five entered in émergence in 2025, two moved to création."""
    created = [world.new_project(f"Épicerie Lefèvre n° {i}", phase_date=dt.date(2025, 2, 1 + i)) for i in range(5)]
    moved = [world.new_project(f"Garage solidaire n° {i}", phase_date=dt.date(2024, 5, 1)) for i in range(2)]
    with world.db.transaction() as session:
        for project in moved:
            phases.change_phase(session, world.camille, project, Phase.CREATION, date=dt.date(2025, 6, 1),
                                reason=None, today=TODAY)
        draft = referrals.ReferralDraft(created[0], world.france_active, "Mme Lefèvre a besoin d'un prêt",
                                        world.fonds_confiance)
        referral = referrals.propose(session, world.camille, draft, today=dt.date(2025, 3, 1)).id
        referrals.answer(session, world.lea, referral, ReferralStatus.ACCEPTEE, today=dt.date(2025, 3, 5))
        financing.add_financing(session, world.camille, financing.FinancingDraft(
            created[1], Instrument.PRET_BANCAIRE, Decimal("12000"), funder_name="Banque Dupont de Tours"),
            today=dt.date(2025, 4, 1))
    _person_details(world, created[0])
    return created + moved


def report_of(world: World, year: int = 2025) -> ObservatoryReport:
    with world.db.read() as session:
        return build_observatory(session, year, today=TODAY)


def row(report: ObservatoryReport, indicator: str, dimension: str, value: str) -> ObservatoryRow:
    return next(r for r in report.rows if (r.indicator, r.dimension, r.value) == (indicator, dimension, value))


@pytest.mark.usefixtures("region")
def test_figures_with_secret_applied(world: World) -> None:
    report = report_of(world)
    # 7 projects accompanied in 2025 (5 first phases + 2 phase changes, all by the URSCOP)
    assert row(report, "projets_accompagnes", "ensemble", "total").count == 7
    # phase as of 31/12/2025: émergence 5, création 2 → 2 is secret, then 5 (next smallest) as well
    assert (row(report, "projets_accompagnes", "phase", "creation").secret,
            row(report, "projets_accompagnes", "phase", "emergence").secret) == (True, True)
    # territory: Tours has no population in the test world → all 7 « inconnu », published
    assert row(report, "projets_accompagnes", "territoire", "inconnu").count == 7
    # one referral, one financing line: secret
    assert row(report, "orientations_acceptees", "ensemble", "total").count is None
    assert row(report, "financements_demandes", "ensemble", "total").amount is None
    # the structures keep their catalogue keys: France Active (1 project, the accepted referral) is secret,
    # so the URSCOP (7), the next smallest of that breakdown, is too
    assert (row(report, "projets_accompagnes", "structure", "fa-cvl").secret,
            row(report, "projets_accompagnes", "structure", "urscop").secret) == (True, True)
    # the test dispositif has no catalogue key: « hors_catalogue »
    assert row(report, "parcours_entres", "dispositif", "hors_catalogue").secret


def test_no_personal_data_nor_ids_in_either_format(world: World, region: list[uuid.UUID]) -> None:
    report = report_of(world)
    for data in (render_csv(report).decode("utf-8-sig"), render_json(report).decode("utf-8")):
        for private in ("Lefèvre", "Lefevre", "Inès", "exemple.fr", "612345678", "hésite", "Épicerie", "Garage",
                        "Banque Dupont", "besoin d'un prêt", "Fonds de confiance", "Camille", "Léa", "URSCOP Centre"):
            assert private not in data, private
        assert not HEX_ID.search(data)
        assert not any(str(project) in data for project in region)


@pytest.mark.usefixtures("region")
def test_csv_format(world: World) -> None:
    data = render_csv(report_of(world))
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and not data.startswith(b"\xef\xbb\xbfsep=")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert tuple(rows[0]) == CSV_HEADER
    assert {len(r) for r in rows} == {len(CSV_HEADER)}
    first = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert (first["version"], first["annee"], first["indicateur"], first["effectif"], first["secret"]) == (
        FORMAT_VERSION, "2025", "projets_accompagnes", "7", "0")
    secret = [dict(zip(CSV_HEADER, r, strict=True)) for r in rows[1:] if r[-1] == "1"]
    assert secret and all(r["effectif"] == "" and r["montant"] == "" for r in secret)


@pytest.mark.usefixtures("region")
def test_json_format_and_written_file(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out" / "observatoire-2025.json"
    out.parent.mkdir()
    with world.db.read() as session:
        export_observatory(session, 2025, out, ObservatoryFormat.JSON, today=TODAY)
    document = json.loads(out.read_text("utf-8"))
    assert (document["format"], document["version"], document["annee"], document["seuil_secret"]) == (
        "ess-accompagnement-observatoire", FORMAT_VERSION, 2025, 5)
    assert all(line["effectif"] is None for line in document["lignes"] if line["secret"])
    assert [p.name for p in out.parent.iterdir()] == ["observatoire-2025.json"]


def test_year_is_checked(world: World) -> None:
    with pytest.raises(ValidationError, match="2030"):
        report_of(world, 2030)
    assert report_of(world, TODAY.year).rows == ()  # an empty database gives an empty file, not an error
