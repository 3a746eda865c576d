"""The note use case: who may write one, and what it stores."""

from __future__ import annotations

import datetime as dt

import pytest

from ess_accompagnement.domain import notes, referrals
from ess_accompagnement.domain.entities import Note
from ess_accompagnement.domain.errors import RuleError, UserFacingError
from tests.worlds import TODAY, World


def test_lead_structure_writes_a_note(world: World) -> None:
    project_id = world.new_project()
    with world.db.transaction() as session:
        note_id = notes.add_note(session, world.camille, notes.NoteDraft(project_id, "  Très motivée.  ", shared=True),
                                 today=TODAY).id
    with world.db.read() as session:
        note = session.get(Note, note_id)
    assert (note.text, note.shared, note.written_on, note.owner_structure_id) == (
        "Très motivée.", True, TODAY, world.urscop)


def test_a_structure_the_project_was_referred_to_may_write_one(world: World) -> None:
    project_id = world.new_project()
    with world.db.transaction() as session:
        referrals.propose(session, world.camille, referrals.ReferralDraft(project_id, world.france_active, "Prêt"),
                          today=TODAY)
    with world.db.transaction() as session:
        notes.add_note(session, world.lea, notes.NoteDraft(project_id, "Dossier reçu."), today=TODAY)
    with pytest.raises(RuleError, match="suivent ce projet"), world.db.transaction() as session:
        notes.add_note(session, world.noe, notes.NoteDraft(project_id, "Intrus."), today=TODAY)


@pytest.mark.parametrize(
    ("draft_fields", "field"),
    [({"text": "  "}, "text"), ({"written_on": TODAY + dt.timedelta(days=2)}, "date")],
)
def test_refusals(world: World, draft_fields: dict[str, object], field: str) -> None:
    project_id = world.new_project()
    values: dict[str, object] = {"project_id": project_id, "text": "Note", **draft_fields}
    with pytest.raises(UserFacingError) as caught, world.db.transaction() as session:
        notes.add_note(session, world.camille, notes.NoteDraft(**values), today=TODAY)  # type: ignore[arg-type]
    assert caught.value.field == field
