"""Sealing's shortcuts give exactly what the general path gives.

A local transaction's leaves are written in SQL (``merge.write_local``) and its captured changes are copied
into the log from ``sync_pending`` (``LogWriter.record(pending=...)``). Each test seals a write, then checks
the leaves against :class:`merge.Merger` applying the same transactions to the leaves stored before, and
the log against the transactions themselves (values and their SQLite storage class)."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from sqlalchemy import text

from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import api
from ess_accompagnement.sync.codec import Tx, decode_val, verify_hash
from ess_accompagnement.sync.merge import Merger
from tests.sync.syncworld import A, B, Copies, conflicts, new_project, row, set_field, transfer

NOW = "2026-01-02 00:00:00.000000"
DEL = "2026-06-01 10:00:00.000000"


def _leaves(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as session:
        return sorted(tuple(r) for r in session.execute(text("SELECT tbl, pk, col, scope, site, seq, hlc, val "
                                                              "FROM sync_fv")))


def _general_merge(before: list[tuple[Any, ...]], txs: list[Tx]) -> list[tuple[Any, ...]]:
    """The leaves ``Merger.apply_tx`` + ``flush`` make of ``before`` and ``txs`` (in a scratch database)."""
    scratch = sqlite3.connect(":memory:")
    scratch.execute("CREATE TABLE sync_fv(tbl, pk, col, scope, site, seq, hlc, val, "
                    "PRIMARY KEY (tbl, pk, col, scope, site, seq)) WITHOUT ROWID")
    scratch.executemany("INSERT INTO sync_fv VALUES (?, ?, ?, ?, ?, ?, ?, ?)", before)
    merger = Merger(scratch)
    for tx in txs:
        merger.apply_tx(tx)
    merger.flush()
    return sorted(scratch.execute("SELECT tbl, pk, col, scope, site, seq, hlc, val FROM sync_fv"))


def _logged(db: Database, tx: Tx) -> list[tuple[Any, ...]]:
    with db.read() as session:
        return [tuple(r) for r in session.execute(text(
            "SELECT idx, tbl, pk, col, val, typeof(val), refused FROM sync_change "
            "WHERE scope = :scope AND site = :site AND seq = :seq ORDER BY idx"),
            {"scope": tx["scope"], "site": tx["site"], "seq": tx["seq"]})]


def _storage_class(val: Any) -> str:
    return {bool: "integer", int: "integer", float: "real", str: "text", bytes: "blob"}.get(type(val), "null")


def _seal_checked(db: Database, *statements: tuple[str, dict[str, Any]]) -> list[Tx]:
    """Run ``statements`` in one transaction, seal it, and check the leaves and the log it wrote."""
    before = _leaves(db)
    with db.engine.begin() as connection:
        for sql, params in statements:
            connection.execute(text(sql), params)
        txs = api.seal(connection)
    assert txs and all(verify_hash(tx) for tx in txs)
    assert _leaves(db) == _general_merge(before, txs)
    for tx in txs:
        expected = [(idx, tbl, pk, col, decode_val(val), _storage_class(decode_val(val)), 0)
                    for idx, (tbl, pk, col, val) in enumerate(tx["changes"])]
        assert _logged(db, tx) == expected
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM sync_pending")).scalar() == 0
    return txs


def _update(table: str, pk: str, **values: Any) -> tuple[str, dict[str, Any]]:
    sets = ", ".join(f'"{col}" = :{col}' for col in values)
    return f'UPDATE "{table}" SET {sets} WHERE id = :pk', {**values, "pk": pk}


def test_inserts_edits_deletes_and_undeletes_match_the_general_merge(copies: Copies) -> None:
    # GIVEN a bound copy with a project sealed by the usual path
    db = copies.new("a")
    pid = new_project(db, "Épicerie")
    other = uuid.uuid4().hex
    insert = ("INSERT INTO project(id, owner_structure_id, lead_structure_id, title, sort_key, legal_form, status, "
              "innovation_sociale, esus, confidential, created_at, updated_at) VALUES (:id, :o, :o, 'Garage', "
              "'garage', 'non_definie', 'actif', 0, 0, 0, :now, :now)", {"id": other, "o": A, "now": NOW})
    # WHEN rows are inserted and edited in one transaction, then edited, deleted and undeleted
    _seal_checked(db, insert, _update("project", other, title="Garage solidaire"), _update("project", pid, esus=1))
    _seal_checked(db, _update("project", pid, title="Épicerie 2", jobs_created=3, summary=None))
    _seal_checked(db, ("DELETE FROM project WHERE id = :pk", {"pk": other}))
    _seal_checked(db, _update("project", pid, deleted_at=DEL))
    _seal_checked(db, _update("project", pid, deleted_at=None, title="Épicerie 3"))
    # THEN the rows show their last values
    assert row(db, pid)["title"] == "Épicerie 3" and row(db, pid)["deleted_at"] is None
    assert row(db, other)["deleted_at"] is not None  # a physical delete is kept as a soft delete


def test_a_field_rewritten_in_one_transaction_travels_once_in_last_write_order(copies: Copies) -> None:
    db = copies.new("a")
    pid = new_project(db)
    (tx,) = _seal_checked(db, _update("project", pid, title="un"), _update("project", pid, summary="résumé"),
                          _update("project", pid, title="deux"))
    assert [(c[2], c[3]) for c in tx["changes"]] == [("summary", "résumé"), ("title", "deux")]


def test_values_keep_their_storage_class(copies: Copies) -> None:
    db = copies.new("a")
    pid = new_project(db)
    (tx,) = _seal_checked(db, _update("project", pid, jobs_created=7, jobs_maintained=2.5, summary=b"\x00\xff",
                                      siret="00012", rna=None))
    values = {c[2]: c[3] for c in tx["changes"]}
    assert values == {"jobs_created": 7, "jobs_maintained": 2.5, "summary": {"$b": "00ff"}, "siret": "00012"}


def test_concurrent_leaves_and_mirrors_are_replaced_only_in_the_written_scope(copies: Copies) -> None:
    # GIVEN a project in conflict on its title (two leaves in A's scope) and mirrored to B through a referral
    a, b = copies.new("a", A), copies.new("b", A)
    pid = new_project(a, "Ressourcerie")
    transfer(a, b)
    set_field(a, pid, "title", "Titre A")
    set_field(b, pid, "title", "Titre B")
    transfer(b, a)
    assert [c.field for c in conflicts(a)] == ["title"]
    referral = uuid.uuid4().hex
    txs = _seal_checked(a, (
        "INSERT INTO referral(id, owner_structure_id, project_id, from_structure_id, to_structure_id, motive, "
        "proposed_on, created_at, updated_at) VALUES (:id, :a, :p, :a, :b, 'Financement', '2026-01-02', :now, :now)",
        {"id": referral, "a": A, "b": B, "p": pid, "now": NOW}))
    assert {tx["scope"] for tx in txs} == {f"share:{A}:{B}"}  # the snapshot: values re-read, logged one by one
    # WHEN the title is written again (home scope and mirror), THEN only each scope's own leaves are replaced
    txs = _seal_checked(a, _update("project", pid, title="Titre final"))
    assert {tx["scope"] for tx in txs} == {f"structure:{A}", f"share:{A}:{B}"}
    assert conflicts(a) == [] and row(a, pid)["title"] == "Titre final"


def test_a_same_scope_leaf_the_write_did_not_see_is_kept(copies: Copies) -> None:
    # GIVEN a title leaf of another site that the version vector does not cover (never made by the engine)
    db = copies.new("a")
    pid = new_project(db)
    stray = "f" * 32
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO sync_fv(tbl, pk, col, scope, site, seq, hlc, val) VALUES "
                                "('project', :pk, 'title', :scope, :site, 5, 1, 'ailleurs')"),
                           {"pk": pid, "scope": f"structure:{A}", "site": stray})
    # WHEN the title is written locally, THEN the general merge keeps that leaf, and so does sealing
    _seal_checked(db, _update("project", pid, title="ici"))
    assert [leaf[4] for leaf in _leaves(db) if leaf[1] == pid and leaf[2] == "title"].count(stray) == 1
