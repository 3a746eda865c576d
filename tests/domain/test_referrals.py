"""The referral state machine: who may answer, cancel; coded reasons and outcomes; derived expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from ess_accompagnement.domain import referrals, settings
from ess_accompagnement.domain.codes import ReferralOutcome, ReferralStatus, RefusalReason
from ess_accompagnement.domain.entities import Referral
from ess_accompagnement.domain.errors import RuleError, UserFacingError, ValidationError
from ess_accompagnement.domain.queries.referrals import REMINDER_PAUSE_DAYS, Box, referral_rows, reminder_text
from tests.worlds import TODAY, World

S = ReferralStatus


def refer(world: World, *, when: dt.date = TODAY, dispositif: bool = False) -> referrals.uuid.UUID:
    project = world.new_project()
    draft = referrals.ReferralDraft(project, world.france_active, "Besoin d'un financement d'amorçage",
                                    world.fonds_confiance if dispositif else None)
    with world.db.transaction() as session:
        return referrals.propose(session, world.camille, draft, today=when).id


def answer(world: World, referral_id: referrals.uuid.UUID, to: ReferralStatus, *, actor=None,
           today: dt.date = TODAY, **details: object) -> None:
    with world.db.transaction() as session:
        referrals.answer(session, actor or world.lea, referral_id, to, today=today, **details)


def status(world: World, referral_id: referrals.uuid.UUID, today: dt.date = TODAY) -> ReferralStatus:
    with world.db.read() as session:
        return referrals.status_of(session, session.get(Referral, referral_id), today)


def test_full_path_to_an_outcome(world: World) -> None:
    # GIVEN a referral from the URSCOP to France Active's Fonds de confiance
    referral = refer(world, dispositif=True)
    assert status(world, referral) is S.PROPOSEE
    # WHEN France Active accepts it, starts, and closes it with a coded outcome
    answer(world, referral, S.ACCEPTEE, comment="Rendez-vous fixé")
    answer(world, referral, S.EN_COURS)
    answer(world, referral, S.ABOUTIE, outcome=ReferralOutcome.FINANCEMENT_ACCORDE)
    # THEN the sender sees the outcome in its outbox, and the receiver in its inbox
    with world.db.read() as session:
        (sent,) = referral_rows(session, world.urscop, box=Box.OUTBOX, today=TODAY)
        (received,) = referral_rows(session, world.france_active, box=Box.INBOX, today=TODAY)
    assert (sent.status, sent.outcome, sent.dispositif) == (S.ABOUTIE, ReferralOutcome.FINANCEMENT_ACCORDE,
                                                            "Fonds de confiance")
    assert received.id == sent.id and received.incoming and not sent.incoming


def test_refusal_needs_a_coded_reason(world: World) -> None:
    referral = refer(world)
    with pytest.raises(ValidationError, match="Motif du refus") as error:
        answer(world, referral, S.REFUSEE)
    assert error.value.field == "reason"
    answer(world, referral, S.REFUSEE, reason=RefusalReason.PROJET_PAS_MUR)
    assert status(world, referral) is S.REFUSEE


def test_only_an_advisor_of_the_receiving_structure_answers(world: World) -> None:
    referral = refer(world)
    for outsider in (world.camille, world.noe):  # the sender, and a third structure
        with pytest.raises(RuleError, match="structure destinataire"):
            answer(world, referral, S.ACCEPTEE, actor=outsider)
    with pytest.raises(RuleError, match="lecture seule"):
        answer(world, referral, S.ACCEPTEE, actor=world.reader)
    assert status(world, referral) is S.PROPOSEE


def test_only_the_sender_cancels_and_only_while_unanswered(world: World) -> None:
    referral = refer(world)
    with pytest.raises(RuleError, match="structure émettrice"), world.db.transaction() as session:
        referrals.cancel(session, world.lea, referral, today=TODAY)
    with world.db.transaction() as session:
        referrals.cancel(session, world.camille, referral, today=TODAY, comment="Le porteur a trouvé ailleurs")
    assert status(world, referral) is S.ANNULEE
    with pytest.raises(RuleError, match="annulée par la structure émettrice"):
        answer(world, referral, S.ACCEPTEE)

    answered = refer(world)
    answer(world, answered, S.ACCEPTEE)
    with pytest.raises(RuleError, match="ne peut plus être annulée"), world.db.transaction() as session:
        referrals.cancel(session, world.camille, answered, today=TODAY)


@pytest.mark.parametrize(
    ("path", "forbidden"),
    [
        ((), S.EN_COURS),  # cannot start before accepting
        ((), S.ABOUTIE),
        ((S.ACCEPTEE,), S.REFUSEE),  # cannot refuse once accepted
        ((S.ACCEPTEE,), S.ABOUTIE),  # must be in progress first
        ((S.ACCEPTEE, S.EN_COURS), S.ACCEPTEE),
    ],
)
def test_forbidden_transitions(world: World, path: tuple[ReferralStatus, ...], forbidden: ReferralStatus) -> None:
    referral = refer(world)
    for step in path:
        answer(world, referral, step)
    with pytest.raises(UserFacingError):
        answer(world, referral, forbidden, reason=RefusalReason.AUTRE, outcome=ReferralOutcome.REORIENTE)


def test_outcome_codes_must_match_the_closing_status(world: World) -> None:
    referral = refer(world)
    answer(world, referral, S.ACCEPTEE)
    with pytest.raises(ValidationError, match="pourquoi"):
        answer(world, referral, S.ABANDONNEE, outcome=ReferralOutcome.FINANCEMENT_ACCORDE)
    answer(world, referral, S.ABANDONNEE, outcome=ReferralOutcome.PORTEUR_RENONCE)
    assert status(world, referral) is S.ABANDONNEE


def test_unanswered_referral_expires_after_the_configured_delay(world: World) -> None:
    # GIVEN a referral proposed 31 days ago, with the default 30-day delay
    referral = refer(world, when=TODAY - dt.timedelta(days=31))
    # THEN it shows as expired and can no longer be answered
    assert status(world, referral) is S.EXPIREE
    assert status(world, referral, today=TODAY - dt.timedelta(days=1)) is S.PROPOSEE
    with pytest.raises(RuleError, match="expiré"):
        answer(world, referral, S.ACCEPTEE)
    # WHEN the delay is set to 45 days, it is open again
    with world.db.transaction() as session:
        settings.set_referral_expiry_days(session, 45)
    assert status(world, referral) is S.PROPOSEE
    answer(world, referral, S.ACCEPTEE)


def test_referral_to_own_structure_or_foreign_dispositif_is_refused(world: World) -> None:
    project = world.new_project()
    with pytest.raises(RuleError, match="propre structure"), world.db.transaction() as session:
        referrals.propose(session, world.camille, referrals.ReferralDraft(project, world.urscop, "x"), today=TODAY)
    with pytest.raises(RuleError, match="n'est pas porté par"), world.db.transaction() as session:
        referrals.propose(session, world.camille,
                          referrals.ReferralDraft(project, world.alter_incub, "x", world.fonds_confiance), today=TODAY)
    with pytest.raises(ValidationError, match="Motif"), world.db.transaction() as session:
        referrals.propose(session, world.camille, referrals.ReferralDraft(project, world.alter_incub, "  "),
                          today=TODAY)


def reminders(world: World, referral_id: referrals.uuid.UUID) -> tuple[dt.date | None, int | None]:
    with world.db.read() as session:
        referral = session.get(Referral, referral_id)
        return referral.reminded_on, referral.reminder_count


def remind(world: World, referral_id: referrals.uuid.UUID, *, actor=None, today: dt.date = TODAY) -> None:
    with world.db.transaction() as session:
        changes = referrals.record_reminder(session, actor or world.camille, referral_id, today=today)
    assert changes.referrals


def test_the_sender_records_reminders_and_they_are_counted(world: World) -> None:
    # GIVEN an unanswered referral never reminded
    referral = refer(world, when=TODAY - dt.timedelta(days=20))
    assert reminders(world, referral) == (None, None)
    # WHEN the sender reminds the receiver twice
    remind(world, referral, today=TODAY - dt.timedelta(days=5))
    remind(world, referral)
    # THEN the last date and the count are kept, and the outbox row shows them
    assert reminders(world, referral) == (TODAY, 2)
    with world.db.read() as session:
        (row,) = referral_rows(session, world.urscop, box=Box.OUTBOX, today=TODAY)
    assert (row.reminded_on, row.reminder_count, row.days_since_reminder) == (TODAY, 2, 0)
    assert status(world, referral) is S.PROPOSEE


def test_only_a_writer_of_the_sending_structure_reminds(world: World) -> None:
    referral = refer(world)
    for outsider in (world.lea, world.noe):  # the receiver, and a third structure
        with pytest.raises(RuleError, match="structure émettrice") as error:
            remind(world, referral, actor=outsider)
        assert error.value.field == "referral"
    with pytest.raises(RuleError, match="lecture seule"):
        remind(world, referral, actor=world.reader)
    assert reminders(world, referral) == (None, None)


@pytest.mark.parametrize("end", ["answered", "cancelled", "closed", "expired", "deleted"])
def test_only_a_referral_awaiting_an_answer_is_reminded(world: World, end: str) -> None:
    # GIVEN a referral that no longer awaits an answer
    referral = refer(world, when=TODAY - dt.timedelta(days=60) if end == "expired" else TODAY)
    if end in ("answered", "closed"):
        answer(world, referral, S.ACCEPTEE)
    if end == "closed":
        answer(world, referral, S.ABANDONNEE, outcome=next(iter(referrals.ABANDON_OUTCOMES)))
    with world.db.transaction() as session:
        if end == "cancelled":
            referrals.cancel(session, world.camille, referral, today=TODAY)
        if end == "deleted":
            session.get(Referral, referral).deleted_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    # WHEN the sender tries to remind it THEN it is refused, naming the referral, and nothing is written
    with pytest.raises(UserFacingError) as error:
        remind(world, referral)
    assert error.value.field == "referral"
    assert {"answered": "Acceptée", "cancelled": "Annulée", "closed": "Abandonnée", "expired": "expiré",
            "deleted": "introuvable"}[end].lower() in str(error.value).lower()
    assert reminders(world, referral) == (None, None)


def test_a_reminded_referral_is_not_due_again_for_a_few_days(world: World) -> None:
    # GIVEN an unanswered referral close to its expiry: due a reminder
    referral = refer(world, when=TODAY - dt.timedelta(days=27))

    def due(today: dt.date) -> bool:
        with world.db.read() as session:
            (row,) = referral_rows(session, world.urscop, box=Box.OUTBOX, today=today)
        return row.near_expiry

    assert due(TODAY)
    # WHEN the sender reminds it
    remind(world, referral)
    # THEN it is not due again before REMINDER_PAUSE_DAYS days, then due again until it expires
    pause = REMINDER_PAUSE_DAYS
    assert not any(due(TODAY + dt.timedelta(days=n)) for n in range(pause))
    assert due(TODAY + dt.timedelta(days=pause))


def test_reminder_text_is_french_and_mentions_the_last_reminder(world: World) -> None:
    referral = refer(world, when=dt.date(2026, 2, 18), dispositif=True)
    today = dt.date(2026, 3, 1)
    with world.db.read() as session:
        (row,) = referral_rows(session, world.urscop, box=Box.OUTBOX, today=today)
    text = reminder_text(row, advisor="Camille Martin", structure="URSCOP")
    assert text.startswith("Objet : Relance – orientation du projet « ")
    assert "mercredi 18 février 2026" in text and "(dispositif Fonds de confiance)" in text
    assert "vendredi 20 mars 2026" in text and "déjà" not in text
    assert text.endswith("Bien cordialement,\nCamille Martin\nURSCOP\n")
    remind(world, referral, today=today)
    with world.db.read() as session:
        (row,) = referral_rows(session, world.urscop, box=Box.OUTBOX, today=today)
    assert "déjà adressé une relance le dimanche 1er mars 2026" in reminder_text(row, advisor="", structure="")
