"""The referral mirror (sync/mirror.py): a project referred onwards reaches the third structure and keeps
following, relayed by the structure that referred it on without any right on the project; a cancelled or
deleted referral stops the mirror while other referrals of the project keep it."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import api, capture, exchange, mirror
from ess_accompagnement.sync.codec import driver, tx_hash
from tests.sync.syncworld import A, B, Copies, conflicts, new_project, row, set_field, transfer

C = uuid.uuid5(uuid.NAMESPACE_URL, "structure:tiers").hex
NOW = "2026-01-02 00:00:00.000000"


def _with_third_structure(db: Database) -> Database:
    """Structure C in the catalogue of this copy (written without capture, as the shared baseline is)."""
    with db.engine.connect() as connection:
        raw = driver(connection)
        raw.execute("BEGIN IMMEDIATE")
        with capture.disabled(raw):
            raw.execute("INSERT INTO structure(id, owner_structure_id, name, kind, support_types, phases, former_names, "
                        "active, sort_key, created_at, updated_at) VALUES (?, ?, 'Tiers', 'autre', '[]', '[]', '[]', "
                        "1, 'tiers', ?, ?)", (C, C, NOW, NOW))
        raw.execute("COMMIT")
    return db


def _copy(copies: Copies, name: str, structure: str) -> Database:
    return _with_third_structure(copies.new(name, structure))


def _insert(db: Database, table: str, **cols: Any) -> str:
    cols = {"id": uuid.uuid4().hex, "created_at": NOW, "updated_at": NOW, **cols}
    with db.transaction() as session:
        session.execute(text(f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"),
                        cols)
    return str(cols["id"])


def _holder(db: Database, pid: str, *, consent: str | None) -> str:
    person = _insert(db, "person", owner_structure_id=A, first_name="Inès", last_name="Lefèvre", gender="femme",
                     sort_key="lefevre ines", email="ines@example.org", consent_scope=consent)
    _insert(db, "project_member", owner_structure_id=A, project_id=pid, person_id=person, role="porteur")
    return person


def _refer(db: Database, pid: str, from_id: str, to_id: str) -> str:
    return _insert(db, "referral", owner_structure_id=from_id, project_id=pid, from_structure_id=from_id,
                   to_structure_id=to_id, motive="Financement", proposed_on="2026-01-02")


def _relay(db: Database) -> int:
    return exchange.relay_onward(db)


def _onward(copies: Copies, consent: str | None = "partenaires") -> tuple[Database, Database, Database, str, str]:
    """A refers a project to B, B refers it on to C; each copy has received what it may see."""
    a, b, c = _copy(copies, "a", A), _copy(copies, "b", B), _copy(copies, "c", C)
    pid = new_project(a, "Ressourcerie", summary="notes internes")
    person = _holder(a, pid, consent=consent)
    _refer(a, pid, A, B)
    transfer(a, b, structure=B)
    _refer(b, pid, B, C)
    transfer(b, c, structure=C)
    return a, b, c, pid, person


def test_a_project_referred_onwards_reaches_the_third_structure_and_keeps_following(copies: Copies) -> None:
    # GIVEN a project A referred to B, which B referred on to C
    a, b, c, pid, person = _onward(copies)
    # THEN C holds its core record (not A's private fields), the consented contact included
    assert row(c, pid)["title"] == "Ressourcerie" and row(c, pid)["summary"] is None
    assert row(c, pid)["owner_structure_id"] == A
    assert row(c, person, "person")["email"] == "ines@example.org"
    # WHEN A edits the project, B imports it and relays
    set_field(a, pid, "title", "Ressourcerie du Cher")
    set_field(a, person, "email", "ines.lefevre@example.org", table="person")
    transfer(a, b, structure=B)
    assert _relay(b) == 2  # the project and the person
    assert _relay(b) == 0  # idempotent: nothing left to relay
    result = transfer(b, c, structure=C)
    # THEN C follows, and accepts every relayed change (B is the sender of share:B:C)
    assert row(c, pid)["title"] == "Ressourcerie du Cher"
    assert row(c, person, "person")["email"] == "ines.lefevre@example.org"
    assert result.refused_changes == 0 and conflicts(c) == []


def test_relaying_gives_no_right_on_the_project(copies: Copies) -> None:
    a, b, c, pid, _ = _onward(copies)
    # B and C may not edit A's project (its home scope is structure:A)
    for db in (b, c):
        with pytest.raises(RuleError):
            set_field(db, pid, "title", "pas à moi")
    # B relays exactly the values A wrote, and shows them
    set_field(a, pid, "title", "Ressourcerie du Cher")
    transfer(a, b, structure=B)
    _relay(b)
    with b.read() as session:
        relayed = session.execute(text("SELECT DISTINCT c.val FROM sync_change c JOIN sync_tx t ON t.scope = c.scope "
                                       "AND t.site = c.site AND t.seq = c.seq WHERE c.scope = :s AND c.tbl = 'project' "
                                       "AND c.col = 'title' AND t.origin = 'local'"), {"s": f"share:{B}:{C}"}).all()
    assert sorted(r[0] for r in relayed) == ["Ressourcerie", "Ressourcerie du Cher"]
    assert row(b, pid)["title"] == "Ressourcerie du Cher" and conflicts(b) == []
    # a forged change of the project in share:A:C by B (not its sender) is refused at C
    forged = [tx for tx in _exported(b, C) if tx["scope"] == f"share:{B}:{C}"][-1]
    forged = {**forged, "scope": f"share:{A}:{C}", "seq": 1, "deps": {}, "prev_hash": None}
    forged["tx_hash"] = tx_hash(forged)
    assert api.apply_transactions(c, [forged]).refused_changes == len(forged["changes"])


def _exported(db: Database, structure: str) -> list[dict[str, Any]]:
    with db.read() as session:
        return list(api.export_transactions(session.connection(), structure_id=structure))


def test_only_the_copy_that_referred_onwards_relays(copies: Copies) -> None:
    # GIVEN a second copy of B holding everything the first one has
    a, b, c, pid, _ = _onward(copies)
    b2 = _copy(copies, "b2", B)
    transfer(b, b2, structure=B)
    # WHEN A edits the project and both copies of B import it
    set_field(a, pid, "title", "Ressourcerie du Cher")
    transfer(a, b, structure=B)
    transfer(a, b2, structure=B)
    # THEN only the copy that created the onward referral relays (two relays could show C a false conflict)
    assert _relay(b2) == 0 and _relay(b) == 1
    transfer(b, b2, structure=B)
    transfer(b2, c, structure=C)
    transfer(b, c, structure=C)
    assert row(c, pid)["title"] == "Ressourcerie du Cher" and conflicts(c) == []
    # AND copies that applied the same transactions agree (B's two copies, C)
    with b.read() as s1, b2.read() as s2:
        assert api.digest(s1.connection()) == api.digest(s2.connection())


def test_contacts_without_consent_are_not_relayed(copies: Copies) -> None:
    _, _, c, pid, person = _onward(copies, consent=None)
    assert row(c, pid)["title"] == "Ressourcerie"
    assert row(c, person, "person")["email"] is None and row(c, person, "person")["last_name"] == "Lefèvre"


@pytest.mark.parametrize("stop", ["cancelled_on", "deleted_at"])
def test_a_cancelled_or_deleted_referral_stops_the_mirror(copies: Copies, stop: str) -> None:
    # GIVEN a project A referred to B and to C
    a, b, c = _copy(copies, "a", A), _copy(copies, "b", B), _copy(copies, "c", C)
    pid = new_project(a, "Ressourcerie")
    to_b = _refer(a, pid, A, B)
    _refer(a, pid, A, C)
    transfer(a, b, structure=B)
    transfer(a, c, structure=C)
    # WHEN the referral to B is cancelled (or deleted), then the title edited
    set_field(a, to_b, stop, "2026-01-03" if stop == "cancelled_on" else NOW, table="referral")
    set_field(a, pid, "title", "Ressourcerie du Cher")
    transfer(a, b, structure=B)
    transfer(a, c, structure=C)
    # THEN B keeps what was shared and no more; C, still referred, follows
    assert row(b, pid)["title"] == "Ressourcerie"
    assert row(c, pid)["title"] == "Ressourcerie du Cher"
    assert all(ch[0] != "project" for tx in _exported(a, B) if tx["scope"] == f"share:{A}:{B}" and tx["seq"] > 2
               for ch in tx["changes"])
    # WHEN the referral is reactivated THEN B receives what changed meanwhile
    set_field(a, to_b, stop, None, table="referral")
    transfer(a, b, structure=B)
    assert row(b, pid)["title"] == "Ressourcerie du Cher"


def test_a_copy_that_does_not_relay_shows_what_it_received(copies: Copies) -> None:
    # GIVEN a second copy of B, and share:B:C ranking before share:A:B by name
    a, b, _c, pid, _ = _onward(copies)
    b2 = _copy(copies, "b2", B)
    transfer(b, b2, structure=B)
    assert f"share:{B}:{C}" < f"share:{A}:{B}"
    # WHEN A's edit reaches it before B's relay does
    set_field(a, pid, "title", "Ressourcerie du Cher")
    transfer(a, b2, structure=B)
    # THEN it shows A's title, not the register B relays to C
    assert row(b2, pid)["title"] == "Ressourcerie du Cher"


@pytest.mark.parametrize("seed", range(4))
def test_relays_converge_whatever_the_order(copies: Copies, seed: int) -> None:
    """Random edits by A, partial and reordered deliveries to B and to two copies of C, relays at random
    points: after a final exchange, C's copies agree with each other and with A, with no conflict."""
    rng = random.Random(seed)
    a, b, c1, pid, person = _onward(copies)
    c2 = _copy(copies, "c2", C)
    transfer(b, c2, structure=C)
    for _ in range(10):
        step = rng.randrange(4)
        if step == 0:
            field = rng.choice(["title", "status"])
            set_field(a, pid, field, rng.choice(["actif", "en_veille"] if field == "status" else ["Garage", "Lieu"]))
        elif step == 1:
            set_field(a, person, "last_name", rng.choice(["Martin", "Lefèvre", "Durand"]), table="person")
        elif step == 2:
            txs = _exported(a, B)
            api.apply_transactions(b, rng.sample(txs, rng.randrange(len(txs) + 1)))
            if rng.random() < 0.7:
                _relay(b)
        else:
            target = rng.choice([c1, c2])
            txs = _exported(b, C)
            api.apply_transactions(target, rng.sample(txs, rng.randrange(len(txs) + 1)))
    transfer(a, b, structure=B)
    _relay(b)
    for target in (c1, c2):
        transfer(b, target, structure=C)
    for key, table in ((pid, "project"), (person, "person")):
        expected = row(a, key, table)
        for target in (c1, c2):
            got = row(target, key, table)
            assert {c: got[c] for c in ("title", "status", "last_name") if c in got} == \
                   {c: expected[c] for c in ("title", "status", "last_name") if c in expected}
    digests = []
    for db in (b, c1, c2):
        with db.read() as session:
            digests.append(api.digest(session.connection(), [f"share:{B}:{C}"]))
    assert digests[0] == digests[1] == digests[2] and conflicts(c1) == conflicts(c2) == []


def test_a_relay_interrupted_by_a_crash_is_redone(copies: Copies, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN B received an edit of the project it referred on
    a, b, c, pid, _ = _onward(copies)
    set_field(a, pid, "title", "Ressourcerie du Cher")
    transfer(a, b, structure=B)
    with b.read() as session:
        before = api.digest(session.connection())

    # WHEN the relay fails after sealing, before its commit
    def boom(*_args: object) -> None:
        raise RuntimeError("crash")

    monkeypatch.setattr(mirror, "reproject", boom)
    with pytest.raises(RuntimeError):
        _relay(b)
    monkeypatch.undo()
    # THEN nothing of it was kept, and the next relay does it all
    with b.read() as session:
        assert api.digest(session.connection()) == before
    assert _relay(b) == 1
    transfer(b, c, structure=C)
    assert row(c, pid)["title"] == "Ressourcerie du Cher"
