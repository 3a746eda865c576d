"""Phase rules: derived current phase, reasons for going back or skipping, dates."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ess_accompagnement.domain.codes import Phase
from ess_accompagnement.domain.entities import PhaseChange
from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.domain.phases import PhaseStep, change_phase, reason_needed
from ess_accompagnement.domain.queries.project_detail import project_detail
from tests.worlds import TODAY, World

EM, CR, CO, CE = Phase.EMERGENCE, Phase.CREATION, Phase.CONSOLIDATION, Phase.CHANGEMENT_ECHELLE
RT, DI = Phase.REPRISE_TRANSMISSION, Phase.DIFFICULTE


def steps(*phases: Phase) -> list[PhaseStep]:
    return [PhaseStep(p, dt.date(2024, 1, 1) + dt.timedelta(days=i)) for i, p in enumerate(phases)]


@pytest.mark.parametrize(
    ("history", "target", "needed"),
    [
        ((), CO, False),  # a project may enter the parcours at any phase
        ((EM,), CR, False),  # one step forward
        ((EM,), CO, True),  # skipping création
        ((CO,), CR, True),  # going back
        ((CR,), RT, False),  # side tracks are entered from anywhere
        ((CO,), DI, False),
        ((CO, DI), CO, False),  # back from difficulty to where it was
        ((CO, DI), CE, False),  # or one step further
        ((CO, DI), EM, True),  # anything else needs a reason
        ((RT,), CR, False),  # a takeover project that starts its création
        ((EM, CR, RT), CO, False),
        ((EM, CR, RT), EM, True),
    ],
)
def test_reason_needed(history: tuple[Phase, ...], target: Phase, needed: bool) -> None:
    assert reason_needed(steps(*history), target) is needed


def test_current_phase_is_the_latest_change_by_date(world: World) -> None:
    # GIVEN a project in émergence since January 2025
    project = world.new_project()
    # WHEN it moves to création, then a change dated earlier is... refused, and consolidation is recorded later
    with world.db.transaction() as session:
        change_phase(session, world.camille, project, CR, date=dt.date(2025, 6, 1), reason=None, today=TODAY)
        change_phase(session, world.camille, project, CO, date=dt.date(2026, 2, 1), reason=None, today=TODAY)
    # THEN the derived current phase is consolidation, since 01/02/2026
    with world.db.read() as session:
        detail = project_detail(session, project, today=TODAY, reader_structure_id=world.camille.structure_id)
    assert (detail.phase, detail.phase_since) == (CO, dt.date(2026, 2, 1))
    assert [e.title for e in detail.timeline if e.kind == "phase"] == [
        "Phase : émergence", "Phase : création", "Phase : consolidation"]


def test_going_back_without_reason_is_refused_and_writes_nothing(world: World) -> None:
    # GIVEN a project in création
    project = world.new_project()
    with world.db.transaction() as session:
        change_phase(session, world.camille, project, CR, date=dt.date(2025, 6, 1), reason=None, today=TODAY)
    # WHEN going back to émergence without a reason
    with pytest.raises(RuleError, match="indiquez-en la raison") as error, world.db.transaction() as session:
        change_phase(session, world.camille, project, EM, date=dt.date(2025, 7, 1), reason=None, today=TODAY)
    # THEN the error names the field, and nothing was written
    assert error.value.field == "reason"
    with world.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PhaseChange)) == 2
    # AND with a reason it is accepted
    with world.db.transaction() as session:
        change_phase(session, world.camille, project, EM, date=dt.date(2025, 7, 1),
                     reason="Le collectif reprend l'étude de marché", today=TODAY)


@pytest.mark.parametrize(
    ("date", "message"),
    [
        (TODAY + dt.timedelta(days=1), "dans le futur"),
        (dt.date(2024, 12, 31), "antérieur au changement précédent"),
    ],
)
def test_dates_in_the_future_or_before_the_previous_change_are_refused(world: World, date: dt.date,
                                                                       message: str) -> None:
    project = world.new_project(phase_date=dt.date(2025, 1, 6))
    with pytest.raises(RuleError, match=message) as error, world.db.transaction() as session:
        change_phase(session, world.camille, project, CR, date=date, reason=None, today=TODAY)
    assert error.value.field == "date"


def test_same_phase_twice_is_refused(world: World) -> None:
    project = world.new_project()
    with pytest.raises(RuleError, match="déjà en phase « émergence »"), world.db.transaction() as session:
        change_phase(session, world.camille, project, EM, date=TODAY, reason="x", today=TODAY)


def test_only_the_lead_structure_changes_the_phase(world: World) -> None:
    project = world.new_project()
    with pytest.raises(RuleError, match="structure qui mène"), world.db.transaction() as session:
        change_phase(session, world.lea, project, CR, date=TODAY, reason=None, today=TODAY)


def test_read_only_advisor_cannot_write(world: World) -> None:
    project = world.new_project(actor=world.camille)
    with pytest.raises(RuleError, match="lecture seule"), world.db.transaction() as session:
        change_phase(session, world.reader, project, CR, date=TODAY, reason=None, today=TODAY)


def test_the_timeline_hides_other_structures_private_notes(world: World) -> None:
    from ess_accompagnement.domain.notes import NoteDraft, add_note

    # GIVEN a private note and a shared note written by the lead structure
    project = world.new_project()
    with world.db.transaction() as session:
        add_note(session, world.camille, NoteDraft(project, "Note interne"), today=TODAY)
        add_note(session, world.camille, NoteDraft(project, "Note partagée", shared=True), today=TODAY)

    def notes(reader: object) -> list[str]:
        with world.db.read() as session:
            detail = project_detail(session, project, today=TODAY, reader_structure_id=reader)  # type: ignore[arg-type]
        return sorted(entry.detail or "" for entry in detail.timeline if entry.kind == "note")

    # THEN the lead structure sees both, another structure only the shared one
    assert notes(world.camille.structure_id) == ["Note interne", "Note partagée"]
    assert notes(world.lea.structure_id) == notes(None) == ["Note partagée"]
