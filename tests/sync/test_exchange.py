"""sync/exchange.py in process: bundles between copies of two structures, receipts, dry runs, refused files."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from ess_accompagnement.domain import advisors
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.domain.text import sort_key
from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import api, exchange
from ess_accompagnement.sync.keys import KeyStore
from tests.sync.syncworld import A, B, Copies, conflicts, new_project, row, set_field


def _copy(copies: Copies, name: str, structure: str) -> tuple[Database, KeyStore]:
    """A copy whose owner advisor works for ``structure``, unbound until its first exchange."""
    db = copies.new(name, structure=None)
    return db, _owned_by(db, name, structure)


@pytest.fixture
def world(copies: Copies) -> tuple[tuple[Database, KeyStore], ...]:
    a1, a2, b = _copy(copies, "a1", A), _copy(copies, "a2", A), _copy(copies, "b", B)
    key = exchange.init_network_key(a1[1])
    exchange.set_network_key(a2[1], key)
    exchange.set_network_key(b[1], key)
    return a1, a2, b


def _files(db: Database) -> str:
    return hashlib.sha256(db.path.read_bytes()).hexdigest()


def _digest(db: Database) -> str:
    with db.read() as session:
        return api.digest(session.connection())


def test_round_trip_receipt_and_replay(world: tuple, tmp_path: Path) -> None:
    (a1, k1), (a2, k2), _ = world
    pid = new_project(a1, "Épicerie")
    first = exchange.export_bundle(a1, k1, tmp_path / "f1.essync", everything=True)
    assert first.transactions >= 1 and f"structure:{A}" in first.scopes
    report = exchange.import_bundle(a2, k2, first.path)
    assert report.applied == first.transactions and row(a2, pid)["title"] == "Épicerie"
    assert exchange.import_bundle(a2, k2, first.path).already_imported
    exchange.import_bundle(a1, k1, exchange.write_receipt_bundle(a2, k2, tmp_path / "r.essync"))
    site2 = exchange.status(a2, k2).site_id
    assert exchange.export_bundle(a1, k1, tmp_path / "f2.essync", for_site=site2).transactions == 0
    set_field(a1, pid, "title", "Épicerie bio")
    trimmed = exchange.export_bundle(a1, k1, tmp_path / "f3.essync", for_site=site2)
    assert trimmed.transactions == 1
    exchange.import_bundle(a2, k2, trimmed.path)
    assert row(a2, pid)["title"] == "Épicerie bio"
    scope = f"structure:{A}"  # (the catalogue differs: A2's own advisor has not been sent to A1)
    assert exchange.status(a1, k1).digests[scope] == exchange.status(a2, k2).digests[scope]


def test_dry_run_writes_nothing(world: tuple, tmp_path: Path) -> None:
    (a1, k1), (a2, k2), _ = world
    new_project(a1)
    path = exchange.export_bundle(a1, k1, tmp_path / "f.essync", everything=True).path
    a2.engine.dispose()
    before = _files(a2)
    preview = exchange.inspect_bundle(a2, k2, path)
    assert preview.new >= 1 and not preview.already_imported and preview.new_device
    a2.engine.dispose()
    assert _files(a2) == before and k2.trusted_devices() == []


def test_refused_files_change_nothing(world: tuple, tmp_path: Path) -> None:
    (a1, k1), (a2, k2), (b, kb) = world
    new_project(a1)
    good = exchange.export_bundle(a1, k1, tmp_path / "f.essync", everything=True).path
    data = good.read_bytes()
    before, mid = _digest(a2), len(data) // 2
    bad = {"tampered": data[:mid] + bytes([data[mid] ^ 1]) + data[mid + 1:], "truncated": data[:mid]}
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(UserFacingError):
            exchange.import_bundle(a2, k2, tmp_path / name)
    foreign = KeyStore(tmp_path / "foreign")
    exchange.init_network_key(foreign)
    with pytest.raises(UserFacingError):
        exchange.import_bundle(a2, foreign, good)
    assert _digest(a2) == before
    exchange.import_bundle(a2, k2, good)
    after = _digest(a2)
    assert exchange.import_bundle(a2, k2, good).already_imported and _digest(a2) == after


def test_other_structure_never_receives_private_rows(world: tuple, tmp_path: Path) -> None:
    (a1, k1), _, (b, kb) = world
    private = new_project(a1, "Secret", summary="note interne")
    path = exchange.export_bundle(a1, k1, tmp_path / "f.essync", everything=True).path
    report = exchange.import_bundle(b, kb, path)
    assert report.out_of_scope >= 1 and row(b, private) is None
    with b.read() as session:
        scopes = {r[0] for r in session.execute(text("SELECT DISTINCT scope FROM sync_tx"))}
    assert f"structure:{A}" not in scopes


def test_copy_with_several_structures_cannot_be_bound(world: tuple, tmp_path: Path) -> None:
    (a1, k1), _, _ = world
    with a1.transaction() as session:
        api.bind_structure(session.connection(), None)
    new_project(a1, owner=B)
    with pytest.raises(UserFacingError, match="plusieurs structures"):
        exchange.export_bundle(a1, k1, tmp_path / "f.essync", everything=True)
    assert not (tmp_path / "f.essync").exists()


def _referred(db: Database, title: str) -> tuple[str, str]:
    """A project of structure A referred to structure B (as ``project add`` + ``referral add`` do)."""
    pid, referral = new_project(db, title), uuid.uuid4().hex
    with db.transaction() as session:
        session.execute(text("INSERT INTO referral(id, owner_structure_id, project_id, from_structure_id, "
                             "to_structure_id, motive, proposed_on, created_at, updated_at) VALUES (:id, :a, :p, "
                             ":a, :b, 'financement', '2026-01-02', '2026-01-02 00:00:00.000000', "
                             "'2026-01-02 00:00:00.000000')"), {"id": referral, "a": A, "b": B, "p": pid})
    return pid, referral


def test_concurrent_mirrored_edits_relayed_by_trimmed_exports_converge(world: tuple, tmp_path: Path) -> None:
    """The CLI scenario in process: a referred project's title edited on A1 and A2 at once, exchanged by
    ``--for`` exports trimmed by receipts and by what the sender had, relayed A1 → A2 → B: B ends with every
    transaction of the shared scope, so its digest of the scope is A's."""
    (a1, k1), (a2, k2), (b, kb) = world
    f = tmp_path
    share = f"share:{A}:{B}"
    for db, _ in world:  # bound at creation, as ``ess-acc init`` leaves them
        exchange.ensure_bound(db)
    pid, referral = _referred(a1, "Épicerie")

    def out(db: Database, keys: KeyStore, name: str, **mode: object) -> Path:
        return exchange.export_bundle(db, keys, f / f"{name}.essync", **mode).path  # type: ignore[arg-type]

    f1 = out(a1, k1, "f1", everything=True)
    exchange.import_bundle(a2, k2, f1)
    r2 = exchange.write_receipt_bundle(a2, k2, f / "r2.essync")
    exchange.import_bundle(b, kb, out(a2, k2, "f2", everything=True))
    rb = exchange.write_receipt_bundle(b, kb, f / "rb.essync")
    assert exchange.import_bundle(b, kb, f1).applied == 0
    set_field(b, referral, "answer", "acceptee", table="referral")
    f3 = out(b, kb, "f3", everything=True)
    for path in (r2, rb):  # receipts of share-only copies still tell their structure
        exchange.import_bundle(a1, k1, path)
    assert sorted(p.structure_id for p in exchange.status(a1, k1).peers) == sorted([A, B])
    exchange.import_bundle(a1, k1, f3)
    exchange.import_bundle(a2, k2, f3)
    set_field(a1, pid, "title", "Épicerie A1")
    set_field(a2, pid, "title", "Épicerie A2")
    sites = {name: exchange.status(db, keys).site_id for name, db, keys in (("a1", a1, k1), ("a2", a2, k2),
                                                                             ("b", b, kb))}
    f4 = out(a1, k1, "f4", for_site=sites["a2"])
    f5 = out(a2, k2, "f5", for_site=sites["a1"])
    exchange.import_bundle(a2, k2, f4)
    exchange.import_bundle(a1, k1, f5)
    exchange.import_bundle(b, kb, out(a2, k2, "f6", for_site=sites["b"]))
    (conflict,) = conflicts(a1)
    assert [c.id for c in conflicts(a2)] == [conflict.id]
    api.resolve_conflict(a1, conflict.id, "Épicerie A2")
    exchange.import_bundle(a2, k2, out(a1, k1, "f7", for_site=sites["a2"]))
    exchange.import_bundle(b, kb, out(a2, k2, "f8", for_site=sites["b"]))
    assert conflicts(a1) == conflicts(a2) == conflicts(b) == []
    s1, s2, sb = exchange.status(a1, k1), exchange.status(a2, k2), exchange.status(b, kb)
    assert s1.digests == s2.digests
    with a1.read() as session:
        vv_a = api.receipt(session.connection())[share]
    with b.read() as session:
        vv_b = api.receipt(session.connection())[share]
    assert vv_b == vv_a
    assert s1.digests[share] == sb.digests[share] and s1.digests["catalogue"] == sb.digests["catalogue"]
    assert row(b, pid)["title"] == "Épicerie A2"


def test_a_referral_written_before_binding_travels_once_bound(world: tuple, tmp_path: Path) -> None:
    # GIVEN a copy of A, not bound yet, where a project is referred to B (the answer fields stay empty)
    (a1, k1), _a2, (b, kb) = world
    pid, referral = _referred(a1, "Recyclerie")
    # WHEN it exports for the first time (which binds it), and B imports
    bundle = exchange.export_bundle(a1, k1, tmp_path / "first.essync", everything=True)
    exchange.import_bundle(b, kb, bundle.path)
    # THEN B has the referral and the shared project, and may answer it
    assert row(b, referral, table="referral") is not None and row(b, pid) is not None
    set_field(b, referral, "answer", "acceptee", table="referral")


C = uuid.uuid5(uuid.NAMESPACE_URL, "structure:tiers").hex


def _add_structure_c(db: Database) -> None:
    with db.transaction() as session:  # a catalogue row: it travels to every copy
        session.execute(text("INSERT INTO structure(id, owner_structure_id, name, kind, support_types, phases, "
                             "former_names, active, sort_key, created_at, updated_at) VALUES (:c, :c, 'Tiers', 'autre', "
                             "'[]', '[]', '[]', 1, 'tiers', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"c": C})


def test_a_project_referred_onwards_follows_through_bundles(world: tuple, copies: Copies, tmp_path: Path) -> None:
    # GIVEN A refers a project to B, and B refers it on to C; every copy exchanges bundles
    (a1, k1), _a2, (b, kb) = world
    c = copies.new("c", structure=None)
    _add_structure_c(c)
    kc = _owned_by(c, "c", C)
    exchange.set_network_key(kc, k1.network_key().to_text())
    _add_structure_c(a1)
    pid, _referral = _referred(a1, "Ressourcerie")
    exchange.import_bundle(b, kb, exchange.export_bundle(a1, k1, tmp_path / "a1.essync", everything=True).path)
    with b.transaction() as session:
        session.execute(text("INSERT INTO referral(id, owner_structure_id, project_id, from_structure_id, "
                             "to_structure_id, motive, proposed_on, created_at, updated_at) VALUES (:id, :b, :p, :b, "
                             ":c, 'financement', '2026-01-03', '2026-01-03 00:00:00', '2026-01-03 00:00:00')"),
                        {"id": uuid.uuid4().hex, "b": B, "c": C, "p": pid})
    exchange.import_bundle(c, kc, exchange.export_bundle(b, kb, tmp_path / "b1.essync", everything=True).path)
    assert row(c, pid)["title"] == "Ressourcerie"
    # WHEN A edits the title, B imports A's bundle, then C imports B's
    set_field(a1, pid, "title", "Ressourcerie du Cher")
    exchange.import_bundle(b, kb, exchange.export_bundle(a1, k1, tmp_path / "a2.essync", everything=True).path)
    report = exchange.import_bundle(c, kc, exchange.export_bundle(b, kb, tmp_path / "b2.essync",
                                                                  everything=True).path)
    # THEN the import on B relayed it: C follows, refusing nothing
    assert row(c, pid)["title"] == "Ressourcerie du Cher"
    assert report.refused_changes == 0 and conflicts(c) == []
    share = f"share:{B}:{C}"
    assert exchange.status(b, kb).digests[share] == exchange.status(c, kc).digests[share]


def _owned_by(db: Database, name: str, structure: str) -> KeyStore:
    """Make a new advisor of ``structure`` the owner of this copy (as ``ess-acc init`` does); its keys."""
    aid = uuid.uuid4().hex
    with db.transaction() as session:
        session.execute(text("INSERT INTO advisor(id, owner_structure_id, structure_id, name, role, active, sort_key, "
                             "created_at, updated_at) VALUES (:id, :s, :s, :n, 'conseiller', 1, :k, "
                             "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"),
                        {"id": aid, "s": structure, "n": name, "k": sort_key(name)})
        advisors.set_owner(session, uuid.UUID(aid))
    return exchange.keystore_for(db.path)


def _status_reads_of_leaves(db: Database, keys: KeyStore) -> tuple[exchange.SyncStatus, int]:
    """``status`` and the number of statements it ran over the whole leaves table (not by row key)."""
    statements: list[str] = []

    def trace(dbapi: Any, _record: object, _proxy: object) -> None:
        dbapi.set_trace_callback(statements.append)

    def untrace(dbapi: Any, _record: object) -> None:
        dbapi.set_trace_callback(None)

    event.listen(db.engine, "checkout", trace)
    event.listen(db.engine, "checkin", untrace)
    try:
        found = exchange.status(db, keys)
    finally:
        event.remove(db.engine, "checkout", trace)
        event.remove(db.engine, "checkin", untrace)
    return found, sum("sync_fv" in sql and "pk =" not in sql for sql in statements)


def test_status_digests_every_scope_in_one_pass(world: tuple) -> None:
    # GIVEN a copy of A with its structure's data and one share
    (a1, k1), _a2, _b = world
    exchange.ensure_bound(a1)
    _referred(a1, "Épicerie")
    before, reads = _status_reads_of_leaves(a1, k1)
    # WHEN more share scopes appear
    _add_structure_c(a1)
    for _ in range(2):
        pid = new_project(a1)
        with a1.transaction() as session:
            session.execute(text("INSERT INTO referral(id, owner_structure_id, project_id, from_structure_id, "
                                 "to_structure_id, motive, proposed_on, created_at, updated_at) VALUES (:id, :a, :p, "
                                 ":a, :c, 'financement', '2026-01-02', '2026-01-02 00:00:00', '2026-01-02 00:00:00')"),
                            {"id": uuid.uuid4().hex, "a": A, "c": C, "p": pid})
    after, reads_after = _status_reads_of_leaves(a1, k1)
    # THEN status still reads the leaves once for all digests, which are api.digest's, scope by scope
    assert len(after.digests) == len(before.digests) + 1 == 4
    assert reads_after == reads
    with a1.read() as session:
        assert after.digests == {scope: api.digest(session.connection(), [scope]) for scope in after.digests}
