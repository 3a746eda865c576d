"""Indicators of 2025 on a small world whose every figure is worked out by hand below.

The story (URSCOP = Camille, France Active = Léa, Alter'Incub = Noé; referral expiry: 30 days):

P1 « Épicerie »     Tours (urban, EPCI 243700754). URSCOP: émergence 01/06/2024, création 10/03/2025,
                    consolidation 01/02/2026 (after the period). RDV URSCOP 12/05/2025 90 min présentiel.
                    Referral URSCOP → FA 01/06/2025, accepted 05/06/2025 (4 days). Bank loan requested
                    01/04/2025, 20 000 € (funder outside the catalogue); FA grant requested 01/11/2024.
                    Holders: a woman born 2000 (porteur) and a bénévole (not a holder). 1,5 ETP created.
P2 « Recyclerie »   Petit-Bourg (rural, 800 inhabitants, dép. 36, no EPCI). URSCOP: émergence 01/02/2025.
                    Referral URSCOP → FA (Fonds de confiance) 01/04/2025, accepted 11/04/2025 (10 days),
                    started, closed « activité démarrée » 01/09/2025. RDV FA 03/06/2025 60 min visio and
                    31/12/2025 23:30 Paris (22:30 UTC, still 2025) 30 min téléphone. Holder: a man born 1990.
P3 « Tiers-lieu »   Alter'Incub: émergence 01/01/2023. Referral Alter'Incub → FA 01/10/2025, never answered:
                    expired on 01/11/2025.
P4 « Garage »       URSCOP: émergence 01/01/2024. RDV URSCOP 15/01/2025 45 min, cancelled. Referral URSCOP →
                    Alter'Incub 10/01/2025, refused 30/01/2025 (20 days, « capacité »). No work in 2025.
P5 « Café »         URSCOP: émergence 01/12/2024; status « activité démarrée », 2,5 ETP created, 1 maintained.
                    Fonds de confiance grant 10 000 € (funder FA) requested and granted 01/07/2025. Referral
                    URSCOP → FA 01/08/2025, accepted 17/08/2025 (16 days). RDV FA 15/01/2026 (after).
                    Holder: a woman, birth year unknown.
P6 « Supprimé »     URSCOP: émergence 01/03/2025, then deleted: counts nowhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from ess_accompagnement.domain import appointments, financing, phases, projects, referrals
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import (
    AppointmentMode,
    AppointmentStatus,
    FinancingStatus,
    Gender,
    Instrument,
    MemberRole,
    Phase,
    ProjectStatus,
    ReferralOutcome,
    ReferralStatus,
    RefusalReason,
)
from ess_accompagnement.domain.entities import Commune, Person, Project, ProjectMember
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.indicators import (
    ID_PREFIX,
    Dimension,
    Indicators,
    Scope,
    compute_indicators,
    find_figure,
)
from ess_accompagnement.domain.validation import PARIS
from tests.worlds import TODAY, World

S = ReferralStatus
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=PARIS)


def _phase(world: World, project: uuid.UUID, phase: Phase, day: dt.date) -> None:
    with world.db.transaction() as session:
        phases.change_phase(session, world.camille, project, phase, date=day, reason=None, today=TODAY)


def _rdv(world: World, actor: Actor, project: uuid.UUID, when: dt.datetime, minutes: int, mode: AppointmentMode,
         status: AppointmentStatus = AppointmentStatus.REALISE) -> None:
    draft = appointments.AppointmentDraft(project, when, minutes, mode, status, place="Tours")
    with world.db.transaction() as session:
        appointments.add_appointment(session, actor, draft, now=NOW)


def _refer(world: World, actor: Actor, project: uuid.UUID, to: uuid.UUID, day: dt.date,
           dispositif: uuid.UUID | None = None) -> uuid.UUID:
    draft = referrals.ReferralDraft(project, to, "Besoin d'un appui", dispositif)
    with world.db.transaction() as session:
        return referrals.propose(session, actor, draft, today=day).id


def _answer(world: World, actor: Actor, referral: uuid.UUID, to: ReferralStatus, day: dt.date, **details: object) \
        -> None:
    with world.db.transaction() as session:
        referrals.answer(session, actor, referral, to, today=day, **details)


def _fund(world: World, project: uuid.UUID, amount: str, day: dt.date, **fields: object) -> None:
    draft = financing.FinancingDraft(project, amount=Decimal(amount), **fields)  # type: ignore[arg-type]
    with world.db.transaction() as session:
        financing.add_financing(session, world.camille, draft, today=day)


def _holder(world: World, project: uuid.UUID, gender: Gender, birth_year: int | None) -> None:
    with world.db.transaction() as session:
        member = session.query(ProjectMember).filter_by(project_id=project).one()
        person = session.get(Person, member.person_id)
        person.gender, person.birth_year = gender, birth_year


def _p1(w: World) -> uuid.UUID:
    p1 = w.new_project("Épicerie", phase_date=dt.date(2024, 6, 1))
    _phase(w, p1, Phase.CREATION, dt.date(2025, 3, 10))
    _phase(w, p1, Phase.CONSOLIDATION, dt.date(2026, 2, 1))
    _rdv(w, w.camille, p1, dt.datetime(2025, 5, 12, 14, 30, tzinfo=PARIS), 90, AppointmentMode.PRESENTIEL)
    _answer(w, w.lea, _refer(w, w.camille, p1, w.france_active, dt.date(2025, 6, 1)), S.ACCEPTEE, dt.date(2025, 6, 5))
    _fund(w, p1, "20000", dt.date(2025, 4, 1), instrument=Instrument.PRET_BANCAIRE, funder_name="Banque X")
    _fund(w, p1, "5000", dt.date(2024, 11, 1), instrument=Instrument.SUBVENTION, funder_structure_id=w.france_active)
    _holder(w, p1, Gender.FEMME, 2000)
    with w.db.transaction() as session:
        projects.edit_project(session, w.camille, p1, projects.ProjectEdit(jobs_created=Decimal("1.5")))
        volunteer = Person(first_name="Bé", last_name="Névole", gender=Gender.HOMME, birth_year=1950, sort_key="b",
                           owner_structure_id=w.urscop)
        session.add(volunteer)
        session.flush()
        session.add(ProjectMember(project_id=p1, person_id=volunteer.id, role=MemberRole.BENEVOLE,
                                  owner_structure_id=w.urscop))
    return p1


def _p2(w: World) -> uuid.UUID:
    p2 = w.new_project("Recyclerie", phase_date=dt.date(2025, 2, 1))
    with w.db.transaction() as session:
        session.add(Commune(code="36200", name="Petit-Bourg", sort_key="petit bourg", postal_codes="36200",
                            population=800, departement="36", region="24"))
        session.flush()
        session.get(Project, p2).commune_code = "36200"
    referral = _refer(w, w.camille, p2, w.france_active, dt.date(2025, 4, 1), w.fonds_confiance)
    _answer(w, w.lea, referral, S.ACCEPTEE, dt.date(2025, 4, 11))
    _answer(w, w.lea, referral, S.EN_COURS, dt.date(2025, 4, 20))
    _answer(w, w.lea, referral, S.ABOUTIE, dt.date(2025, 9, 1), outcome=ReferralOutcome.ACTIVITE_DEMARREE)
    _rdv(w, w.lea, p2, dt.datetime(2025, 6, 3, 10, 0, tzinfo=PARIS), 60, AppointmentMode.VISIO)
    _rdv(w, w.lea, p2, dt.datetime(2025, 12, 31, 23, 30, tzinfo=PARIS), 30, AppointmentMode.TELEPHONE)
    _holder(w, p2, Gender.HOMME, 1990)
    return p2


def _p3_p4(w: World) -> tuple[uuid.UUID, uuid.UUID]:
    p3 = w.new_project("Tiers-lieu", actor=w.noe, phase_date=dt.date(2023, 1, 1))
    _refer(w, w.noe, p3, w.france_active, dt.date(2025, 10, 1))
    p4 = w.new_project("Garage", phase_date=dt.date(2024, 1, 1))
    _rdv(w, w.camille, p4, dt.datetime(2025, 1, 15, 9, 0, tzinfo=PARIS), 45, AppointmentMode.PRESENTIEL,
         AppointmentStatus.ANNULE)
    _answer(w, w.noe, _refer(w, w.camille, p4, w.alter_incub, dt.date(2025, 1, 10)), S.REFUSEE, dt.date(2025, 1, 30),
            reason=RefusalReason.CAPACITE)
    return p3, p4


def _p5_p6(w: World) -> tuple[uuid.UUID, uuid.UUID]:
    p5 = w.new_project("Café", phase_date=dt.date(2024, 12, 1))
    with w.db.transaction() as session:
        edit = projects.ProjectEdit(status=ProjectStatus.ACTIVITE_DEMARREE, jobs_created=Decimal("2.5"),
                                    jobs_maintained=Decimal("1"))
        projects.edit_project(session, w.camille, p5, edit)
    _fund(w, p5, "10000", dt.date(2025, 7, 1), instrument=Instrument.SUBVENTION, dispositif_id=w.fonds_confiance,
          status=FinancingStatus.ACCORDE)
    _answer(w, w.lea, _refer(w, w.camille, p5, w.france_active, dt.date(2025, 8, 1)), S.ACCEPTEE, dt.date(2025, 8, 17))
    _rdv(w, w.lea, p5, dt.datetime(2026, 1, 15, 14, 30, tzinfo=PARIS), 60, AppointmentMode.VISIO)
    _holder(w, p5, Gender.FEMME, None)
    p6 = w.new_project("Supprimé", phase_date=dt.date(2025, 3, 1))
    with w.db.transaction() as session:
        session.get(Project, p6).deleted_at = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    return p5, p6


@pytest.fixture
def story(world: World) -> dict[str, uuid.UUID]:
    with world.db.transaction() as session:
        session.get(Commune, "37261").population = 137_000
    p3, p4 = _p3_p4(world)
    p5, p6 = _p5_p6(world)
    return {"P1": _p1(world), "P2": _p2(world), "P3": p3, "P4": p4, "P5": p5, "P6": p6}


def compute(world: World, **filters: object) -> Indicators:
    with world.db.read() as session:
        return compute_indicators(session, Scope(*YEAR, **filters))  # type: ignore[arg-type]


def ids(indicators: Indicators, key: str, bucket: str = "total") -> set[uuid.UUID]:
    return set(indicators.projects_behind(key, bucket))


def counts(indicators: Indicators, indicator: str, dimension: Dimension) -> dict[str, int]:
    return {f.bucket: f.count for f in indicators.breakdown(indicator, dimension)}


def test_projects_accompanied_and_attribution(world: World, story: dict[str, uuid.UUID]) -> None:
    # WHEN the indicators of 2025 are computed
    year = compute(world)
    p = story
    # THEN the projects accompanied are those some structure worked on in 2025:
    #   P1 (URSCOP phase change + RDV, FA acceptance), P2 (URSCOP first phase, FA acceptance + RDVs),
    #   P5 (FA grant + acceptance); not P3 (unanswered referral), P4 (cancelled RDV, refusal), P6 (deleted)
    assert ids(year, "projets_accompagnes") == {p["P1"], p["P2"], p["P5"]}
    # AND each is counted for the structure that did the work: URSCOP {P1, P2} (not P5: its URSCOP phase
    # change is of 2024), France Active {P1, P2, P5}; Alter'Incub refused P4, which is not accompaniment
    assert counts(year, "projets_accompagnes", Dimension.STRUCTURE) == {"urscop": 2, "fa-cvl": 3}
    assert ids(year, "projets_accompagnes.structure", "urscop") == {p["P1"], p["P2"]}
    # AND the structure filter keeps only that structure's work
    urscop = compute(world, structure_id=world.urscop)
    assert ids(urscop, "projets_accompagnes") == {p["P1"], p["P2"]}


def test_phase_is_read_as_of_the_end_date(world: World, story: dict[str, uuid.UUID]) -> None:
    year = compute(world)
    # P1 went to consolidation on 01/02/2026, after the period: as of 31/12/2025 it was in création.
    # émergence: P2 (01/02/2025) and P5 (01/12/2024) = 2; création: P1 = 1; total 2 + 1 = 3
    assert counts(year, "projets_accompagnes", Dimension.PHASE) == {"emergence": 2, "creation": 1}
    assert ids(year, "projets_accompagnes.phase", "creation") == {story["P1"]}
    # AND in February 2026 (P1's only work: its phase change of 01/02/2026) it counts in consolidation
    with world.db.read() as session:
        after = compute_indicators(session, Scope(dt.date(2026, 2, 1), dt.date(2026, 2, 28)))
    assert counts(after, "projets_accompagnes", Dimension.PHASE) == {"consolidation": 1}


def test_breakdowns_by_project_and_holder(world: World, story: dict[str, uuid.UUID]) -> None:
    year = compute(world)
    assert counts(year, "projets_accompagnes", Dimension.STATUS) == {"actif": 2, "activite_demarree": 1}
    # territory: Tours 137 000 inhabitants (P1, P5) urban; Petit-Bourg 800 (P2) rural (< 2 000)
    assert counts(year, "projets_accompagnes", Dimension.TERRITORY) == {"urbaine": 2, "rurale": 1}
    assert counts(year, "projets_accompagnes", Dimension.DEPARTEMENT) == {"37": 2, "36": 1}
    assert counts(year, "projets_accompagnes", Dimension.EPCI) == {"243700754": 2, "inconnu": 1}
    # holders (porteurs only, the bénévole of P1 is not one): 3 persons; women P1 + P5 = 2, man P2 = 1
    assert year.count("porteurs") == 3
    assert counts(year, "porteurs", Dimension.GENDER) == {"femme": 2, "homme": 1}
    # age at 2025: 2025 − 2000 = 25 → « moins de 26 »; 2025 − 1990 = 35 → 26–35; P5's holder: unknown
    assert counts(year, "porteurs", Dimension.AGE) == {"moins_26": 1, "26_35": 1, "inconnu": 1}
    assert ids(year, "porteurs.age", "moins de 26 ans") == {story["P1"]}
    # jobs of the projects accompanied: created 1,5 (P1) + 2,5 (P5) = 4,00 ETP on 2 projects; maintained 1
    created = year.figure("emplois_crees")
    assert created is not None and (created.count, created.value) == (2, Decimal("4.00"))
    assert year.figure("emplois_maintenus").value == Decimal("1.00")  # type: ignore[union-attr]


def test_status_is_read_as_of_the_end_date(world: World, story: dict[str, uuid.UUID]) -> None:
    # GIVEN P1's activity started on 01/03/2026 (a dated status change, after 2025)
    with world.db.transaction() as session:
        projects.set_status(session, world.camille, story["P1"], ProjectStatus.ACTIVITE_DEMARREE,
                            date=dt.date(2026, 3, 1), reason=None, today=TODAY)
    # THEN as of 31/12/2025 P1 was still « actif » (P5's undated status reads as it is today)
    year = compute(world)
    assert counts(year, "projets_accompagnes", Dimension.STATUS) == {"actif": 2, "activite_demarree": 1}
    assert ids(year, "projets_accompagnes.statut", "activite_demarree") == {story["P5"]}
    # AND it had not started: France Active's line still counts P2 and P5 only
    lines = {line.bucket: line for line in year.pipeline(Dimension.STRUCTURE)}
    assert set(lines["fa-cvl"].started.project_ids) == {story["P2"], story["P5"]}
    # AND P1's work of February 2026 (its phase change) counts it « actif » as of 28/02, started as of 31/03
    with world.db.read() as session:
        february = compute_indicators(session, Scope(dt.date(2026, 2, 1), dt.date(2026, 2, 28)))
        to_march = compute_indicators(session, Scope(dt.date(2026, 2, 1), dt.date(2026, 3, 31)))
    assert counts(february, "projets_accompagnes", Dimension.STATUS) == {"actif": 1}
    assert counts(to_march, "projets_accompagnes", Dimension.STATUS) == {"activite_demarree": 1}


def test_pipeline_line(world: World, story: dict[str, uuid.UUID]) -> None:
    year = compute(world)
    lines = {line.bucket: line for line in year.pipeline(Dimension.STRUCTURE)}
    # URSCOP: P2's first URSCOP phase change is in 2025 (entered); P1's first was in 2024 (not entered).
    # Started: P2 (referral closed « activité démarrée » on 01/09/2025). → 1 entered, 1 started
    assert lines["urscop"].sentence == "1 projet a intégré le parcours, 1 a démarré une activité"
    # France Active: first accepted referrals of P2 (11/04), P1 (05/06), P5 (17/08) → 3 entered;
    # started: P2 (referral outcome) and P5 (status « activité démarrée ») → 2
    assert lines["fa-cvl"].sentence == "3 projets ont intégré le parcours, 2 ont démarré une activité"
    assert set(lines["fa-cvl"].started.project_ids) == {story["P2"], story["P5"]}
    assert "alter-incub" not in lines  # no acceptance nor phase change by Alter'Incub
    # Fonds de confiance: P2 (referral to it accepted) and P5 (grant) → 2 entered, both started
    # (the test world's dispositif has no catalogue key: its bucket is its id, its label its name)
    (fonds,) = year.pipeline(Dimension.DISPOSITIF)
    assert (fonds.label, fonds.entered.count, fonds.started.count) == ("Fonds de confiance", 2, 2)
    assert fonds.bucket == f"{ID_PREFIX}{world.fonds_confiance.hex}"


def test_referrals_and_median_answer_delay(world: World, story: dict[str, uuid.UUID]) -> None:
    year = compute(world)
    # sent in 2025: URSCOP P1, P2, P4, P5 = 4; Alter'Incub P3 = 1. Received: FA 3 + P3 = 4, Alter'Incub 1
    assert counts(year, "orientations_envoyees", Dimension.STRUCTURE) == {"urscop": 4, "alter-incub": 1}
    assert counts(year, "orientations_recues", Dimension.STRUCTURE) == {"fa-cvl": 4, "alter-incub": 1}
    assert year.count("orientations_acceptees") == 3
    assert counts(year, "orientations_refusees", Dimension.REASON) == {"capacite": 1}
    # P3: proposed 01/10/2025, unanswered 30 days → expired on 01/11/2025, counted for France Active
    assert counts(year, "orientations_expirees", Dimension.STRUCTURE) == {"fa-cvl": 1}
    assert ids(year, "orientations_expirees") == {story["P3"]}
    # delays: URSCOP → FA 10, 4, 16 days → median 10; URSCOP → Alter'Incub 20 (refusal);
    # overall 4, 10, 16, 20 → median (10 + 16) / 2 = 13
    pair = year.figure("delai_reponse", Dimension.PAIR, "urscop>fa-cvl")
    assert pair is not None and (pair.count, pair.value) == (3, Decimal("10.0"))
    assert year.figure("delai_reponse").value == Decimal("13.0")  # type: ignore[union-attr]
    assert set(pair.project_ids) == {story["P1"], story["P2"], story["P5"]}


@pytest.mark.usefixtures("story")
def test_appointments_and_financing(world: World) -> None:
    year = compute(world)
    # 2025 appointments: P1 90 min, P2 60 + 30 min (23:30 Paris on 31/12 is 2025), P4 45 min cancelled;
    # P5's of 15/01/2026 is after. Total 4, (90 + 60 + 30 + 45) / 60 = 3,75 h; held 3, 180 min = 3,00 h
    total = year.figure("rendez_vous")
    assert total is not None and (total.count, total.value) == (4, Decimal("3.75"))
    held = {f.bucket: (f.count, f.value) for f in year.breakdown("rendez_vous_realises", Dimension.MODE)}
    assert held == {"presentiel": (1, Decimal("1.50")), "visio": (1, Decimal("1.00")),
                    "telephone": (1, Decimal("0.50"))}
    # financing requested in 2025: P1 bank 20 000 + P5 grant 10 000 = 30 000 (P1's 2024 request is out);
    # granted: P5 10 000, funder France Active
    requested = {f.bucket: f.value for f in year.breakdown("financements_demandes", Dimension.FUNDER)}
    assert requested == {"hors_catalogue": Decimal("20000.00"), "fa-cvl": Decimal("10000.00")}
    assert year.figure("financements_demandes").value == Decimal("30000.00")  # type: ignore[union-attr]
    assert counts(year, "financements_accordes", Dimension.INSTRUMENT) == {"subvention": 1}



@pytest.mark.usefixtures("story")
def test_an_appointment_at_a_permanence_not_arrived_yet_still_counts(world: World) -> None:
    # GIVEN P1's appointment held at a permanence this copy does not have (a partial sync: the catalogue's
    # row is still in transit, so the row's reference points nowhere)
    with world.db.transaction() as session:
        raw = session.connection().connection.driver_connection
        raw.execute("PRAGMA defer_foreign_keys = ON")
        raw.execute("UPDATE appointment SET mode = 'permanence', permanence_id = ? WHERE duration_minutes = 90",
                    (uuid.uuid4().hex,))
        raw.execute("PRAGMA defer_foreign_keys = OFF")
    with world.db.read() as session:
        orphans = session.connection().exec_driver_sql(
            "SELECT count(*) FROM appointment WHERE permanence_id IS NOT NULL "
            "AND permanence_id NOT IN (SELECT id FROM permanence)").scalar()
    assert orphans == 1
    # WHEN the indicators are computed, THEN it is counted like any other, under an unknown permanence
    year = compute(world)
    held = {f.bucket: f.count for f in year.breakdown("rendez_vous_realises", Dimension.MODE)}
    assert held == {"permanence": 1, "visio": 1, "telephone": 1}
    assert [f.label for f in year.breakdown("rendez_vous_realises", Dimension.PERMANENCE)] == ["permanence inconnue"]
    assert year.count("rendez_vous") == 4

def test_territory_and_dispositif_filters(world: World, story: dict[str, uuid.UUID]) -> None:
    assert ids(compute(world, departement="36"), "projets_accompagnes") == {story["P2"]}
    assert ids(compute(world, epci_siren="243700754"), "projets_accompagnes") == {story["P1"], story["P5"]}
    # Fonds de confiance: P2 (referral to it accepted) and P5 (grant) entered it by 31/12/2025;
    # only the referrals to the dispositif count: P2's
    fonds = compute(world, dispositif_id=world.fonds_confiance)
    assert ids(fonds, "projets_accompagnes") == {story["P2"], story["P5"]}
    assert fonds.count("orientations_recues") == 1


def test_explaining_a_figure(world: World, story: dict[str, uuid.UUID]) -> None:
    year = compute(world)
    figure = find_figure(year, "projets_accompagnes.territoire", "rurale")
    assert list(figure.project_ids) == [story["P2"]] and len(figure.project_ids) == figure.count == 1
    with pytest.raises(ValidationError, match="Valeurs : "):
        find_figure(year, "projets_accompagnes.phase", "lune")
    with pytest.raises(ValidationError, match="inconnu"):
        find_figure(year, "chiffre_inconnu", "total")


@pytest.mark.usefixtures("story")
def test_an_empty_period_and_a_reversed_one(world: World) -> None:
    with world.db.read() as session:
        empty = compute_indicators(session, Scope(dt.date(2010, 1, 1), dt.date(2010, 12, 31)))
    assert empty.count("projets_accompagnes") == 0 and empty.pipeline() == []
    with pytest.raises(ValidationError, match="précède"):
        Scope(dt.date(2025, 2, 1), dt.date(2025, 1, 1))
