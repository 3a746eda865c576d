"""The parcours query, a project page's lists, and the referral list extensions (Box.ALL, statuses, expiry)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ess_accompagnement.domain import referrals
from ess_accompagnement.domain.codes import FinancingStatus, Instrument, ReferralStatus
from ess_accompagnement.domain.entities import Note
from ess_accompagnement.domain.financing import FinancingDraft, add_financing
from ess_accompagnement.domain.queries.parcours import project_parcours
from ess_accompagnement.domain.queries.project_records import project_page_data
from ess_accompagnement.domain.queries.referrals import REMINDER_DAYS, Box, referral_rows
from tests.worlds import TODAY, World

S = ReferralStatus


def refer(world: World, project, to, *, when: dt.date, dispositif=None):
    with world.db.transaction() as session:
        draft = referrals.ReferralDraft(project, to, "Besoin d'un financement d'amorçage", dispositif)
        return referrals.propose(session, world.camille, draft, today=when).id


def test_parcours_is_the_lead_then_each_referral_reached(world: World) -> None:
    # GIVEN a project of the URSCOP referred to France Active's fund, then to Alter'Incub, then cancelled once
    project = world.new_project(phase_date=dt.date(2025, 1, 6))
    first = refer(world, project, world.france_active, when=dt.date(2025, 2, 1), dispositif=world.fonds_confiance)
    with world.db.transaction() as session:
        referrals.answer(session, world.lea, first, S.ACCEPTEE, today=dt.date(2025, 2, 10))
    cancelled = refer(world, project, world.alter_incub, when=dt.date(2025, 3, 1))
    with world.db.transaction() as session:
        referrals.cancel(session, world.camille, cancelled, today=dt.date(2025, 3, 2))
    refer(world, project, world.alter_incub, when=TODAY - dt.timedelta(days=25))

    # WHEN its parcours is read
    with world.db.read() as session:
        steps = project_parcours(session, project, today=TODAY)

    # THEN the lead comes first since the first phase, then the accepted and the waiting referral, in order
    assert [(s.position, s.structure, s.dispositif) for s in steps] == [
        (1, "URSCOP Centre-Val de Loire", None),
        (2, "France Active Centre-Val de Loire", "Fonds de confiance"),
        (3, "Alter'Incub Centre-Val de Loire", None),
    ]
    assert steps[0].is_lead and steps[0].since == dt.date(2025, 1, 6) and steps[0].status is None
    assert (steps[1].status, steps[1].answered_on, steps[1].from_structure) == (
        S.ACCEPTEE, dt.date(2025, 2, 10), "URSCOP Centre-Val de Loire")
    assert steps[2].status is S.PROPOSEE and steps[2].expires_on == TODAY + dt.timedelta(days=5)
    assert steps[1].last_date == dt.date(2025, 2, 10)


def test_referral_rows_of_a_project_whatever_the_structures(world: World) -> None:
    project = world.new_project()
    refer(world, project, world.france_active, when=TODAY - dt.timedelta(days=26))

    with world.db.read() as session:
        seen_by_alter_incub = referral_rows(session, world.alter_incub, box=Box.ALL, today=TODAY, project_id=project)
        waiting = referral_rows(session, world.france_active, box=Box.INBOX, today=TODAY,
                                statuses=frozenset({S.PROPOSEE}))
        answered = referral_rows(session, world.france_active, box=Box.INBOX, today=TODAY,
                                 statuses=frozenset({S.ACCEPTEE}))

    assert len(seen_by_alter_incub) == 1 and not seen_by_alter_incub[0].incoming
    row = waiting[0]
    assert row.days_left == 4 and row.near_expiry and row.awaiting_answer and REMINDER_DAYS >= 4
    assert answered == []


def test_page_data_hides_other_structures_private_notes_and_totals_financing(world: World) -> None:
    # GIVEN a URSCOP project with a private note of France Active, a shared one, and its own
    project = world.new_project()
    with world.db.transaction() as session:
        for owner, text, shared in ((world.france_active, "Privée FA", False), (world.france_active, "Partagée FA", True),
                                    (world.urscop, "Note URSCOP", False)):
            session.add(Note(project_id=project, owner_structure_id=owner, written_on=TODAY, text=text, shared=shared))
        for amount, status in ((Decimal("15000.50"), FinancingStatus.DEMANDE), (Decimal("5000"), FinancingStatus.ACCORDE),
                               (Decimal("1000"), FinancingStatus.DEMANDE)):
            add_financing(session, world.camille, FinancingDraft(project, Instrument.SUBVENTION, amount, status,
                                                                 funder_name="Banque"), today=TODAY)

    # WHEN the URSCOP reads the page
    with world.db.read() as session:
        data = project_page_data(session, project, reader_structure_id=world.urscop, today=TODAY)

    # THEN France Active's private note is neither in the notes nor in the timeline
    assert sorted(n.text for n in data.notes) == ["Note URSCOP", "Partagée FA"]
    assert not any(e.detail == "Privée FA" for e in data.detail.timeline)
    # AND the totals are per status, in the codes' order, then overall
    assert [(t.status, t.lines, t.requested) for t in data.totals] == [
        (FinancingStatus.DEMANDE, 2, Decimal("16000.50")), (FinancingStatus.ACCORDE, 1, Decimal("5000.00")),
        (None, 3, Decimal("21000.50"))]
    assert data.totals[-1].granted == Decimal("5000.00")
    assert data.holders[0].first_name == "Inès" and data.parcours[0].is_lead
