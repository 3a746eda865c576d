"""Scopes and field ownership: nothing travels to a copy whose structure may not see it, a referral
shares the project's core record, and each side writes only its own fields."""

from __future__ import annotations

import copy
import uuid

import pytest
from sqlalchemy import text

from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.sync import api, scopes
from ess_accompagnement.sync.codec import tx_hash
from tests.sync.syncworld import A, B, Copies, export, new_project, row, set_field, transfer

NOW = "2026-01-02 00:00:00.000000"


def _insert(db_session: object, table: str, **cols: object) -> None:
    db_session.execute(text(f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"),
                       cols)  # type: ignore[attr-defined]


def _referred_project(db: object) -> tuple[str, str, str]:
    pid = new_project(db, "Ressourcerie", summary="notes internes")  # type: ignore[arg-type]
    person, referral = uuid.uuid4().hex, uuid.uuid4().hex
    with db.transaction() as session:  # type: ignore[attr-defined]
        _insert(session, "person", id=person, owner_structure_id=A, first_name="Inès", last_name="Lefèvre",
                gender="femme", sort_key="lefevre ines", email="ines@example.org", phone="+33600000000",
                consent_scope="partenaires", created_at=NOW, updated_at=NOW)
        _insert(session, "project_member", id=uuid.uuid4().hex, owner_structure_id=A, project_id=pid,
                person_id=person, role="porteur", created_at=NOW, updated_at=NOW)
        _insert(session, "referral", id=referral, owner_structure_id=A, project_id=pid, from_structure_id=A,
                to_structure_id=B, motive="Financement", proposed_on="2026-01-02", created_at=NOW, updated_at=NOW)
    return pid, person, referral


def test_visibility_rules() -> None:
    assert scopes.scope_visible("catalogue", None)
    assert scopes.scope_visible(f"structure:{A}", A) and not scopes.scope_visible(f"structure:{A}", B)
    assert scopes.scope_visible(f"share:{A}:{B}", B) and not scopes.scope_visible(f"share:{A}:{B}", "c" * 32)
    assert scopes.may_write(B, f"share:{A}:{B}", "referral", "answer")
    assert not scopes.may_write(B, f"share:{A}:{B}", "referral", "motive")
    assert not scopes.may_write(B, f"share:{A}:{B}", "project", "title")
    assert not scopes.may_write(None, f"structure:{A}", "project", "title")


def test_referral_shares_the_core_record_and_each_side_writes_its_own_fields(copies: Copies) -> None:
    a, b = copies.new("a", A), copies.new("b", B)
    pid, person, referral = _referred_project(a)
    sent = export(a, structure=B)
    assert {t["scope"] for t in sent} == {f"share:{A}:{B}"}
    transfer(a, b, structure=B)
    project = row(b, pid)
    assert project["title"] == "Ressourcerie" and project["summary"] is None  # core record only
    assert row(b, person, "person")["email"] == "ines@example.org"  # the holder consented to partners
    assert row(b, referral, "referral")["motive"] == "Financement"
    set_field(a, pid, "title", "Ressourcerie du Cher")  # later edits follow the mirror
    set_field(b, referral, "answer", "acceptee", table="referral")
    with pytest.raises(RuleError):
        set_field(b, referral, "motive", "autre", table="referral")
    with pytest.raises(RuleError):
        set_field(b, pid, "title", "pas à moi")
    transfer(b, a, structure=A)
    transfer(a, b, structure=B)
    assert row(a, referral, "referral")["answer"] == "acceptee"
    assert row(b, pid)["title"] == "Ressourcerie du Cher"


def test_contact_without_consent_is_not_shared(copies: Copies) -> None:
    a, b = copies.new("a", A), copies.new("b", B)
    with a.transaction() as session:
        session.execute(text("UPDATE structure SET name = name"))  # nothing
    pid, person, _ = (lambda r: r)(_referred_project_without_consent(a))
    transfer(a, b, structure=B)
    assert row(b, person, "person")["email"] is None and row(b, pid)["title"] == "Ressourcerie"


def _referred_project_without_consent(a: object) -> tuple[str, str, str]:
    pid, person, referral = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    pid = new_project(a, "Ressourcerie")  # type: ignore[arg-type]
    with a.transaction() as session:  # type: ignore[attr-defined]
        _insert(session, "person", id=person, owner_structure_id=A, first_name="Jo", last_name="Martin",
                gender="homme", sort_key="martin jo", email="jo@example.org", created_at=NOW, updated_at=NOW)
        _insert(session, "project_member", id=uuid.uuid4().hex, owner_structure_id=A, project_id=pid,
                person_id=person, role="porteur", created_at=NOW, updated_at=NOW)
        _insert(session, "referral", id=referral, owner_structure_id=A, project_id=pid, from_structure_id=A,
                to_structure_id=B, motive="Financement", proposed_on="2026-01-02", created_at=NOW, updated_at=NOW)
    return pid, person, referral


def test_a_structure_scope_never_reaches_another_structure(copies: Copies) -> None:
    a, b = copies.new("a", A), copies.new("b", B)
    new_project(a)
    assert export(a, structure=B) == []
    assert transfer(a, b, structure=B).applied == 0


def test_remote_changes_to_fields_the_author_does_not_own_are_refused(copies: Copies) -> None:
    a, a2 = copies.new("a", A), copies.new("a2", A)
    pid = new_project(a)
    transfer(a, a2)
    set_field(a, pid, "title", "légitime")
    (tx,) = [t for t in export(a) if t["seq"] == 2]
    forged = copy.deepcopy(tx)
    forged["structure"] = B  # an author of another structure writing structure A's data
    forged["tx_hash"] = tx_hash(forged)
    result = api.apply_transactions(a2, [forged])
    assert (result.applied, result.refused_changes) == (1, len(tx["changes"]))
    assert row(a2, pid)["title"] == "Épicerie"


def test_the_senders_reminder_travels_and_the_receiver_cannot_write_it(copies: Copies) -> None:
    # GIVEN a referral from A to B, shared with B's copy
    a, b = copies.new("a", A), copies.new("b", B)
    _pid, _person, referral = _referred_project(a)
    transfer(a, b, structure=B)
    assert not scopes.may_write(B, f"share:{A}:{B}", "referral", "reminded_on")
    assert scopes.may_write(A, f"share:{A}:{B}", "referral", "reminder_count")
    # WHEN the sender records a reminder (« relance »)
    with a.transaction() as session:
        session.execute(text("UPDATE referral SET reminded_on = '2026-01-12', reminder_count = 1 WHERE id = :id"),
                        {"id": referral})
    transfer(a, b, structure=B)
    # THEN the receiver's copy shows it
    received = row(b, referral, "referral")
    assert (str(received["reminded_on"]), received["reminder_count"]) == ("2026-01-12", 1)
    # AND the receiver's copy may not write the sender's reminder fields
    with pytest.raises(RuleError):
        set_field(b, referral, "reminded_on", "2026-01-13", table="referral")
    with pytest.raises(RuleError):
        set_field(b, referral, "reminder_count", 5, table="referral")
    transfer(b, a, structure=A)
    assert (str(row(a, referral, "referral")["reminded_on"]), row(a, referral, "referral")["reminder_count"]) \
        == ("2026-01-12", 1)
