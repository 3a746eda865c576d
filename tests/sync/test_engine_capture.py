"""Capture and sealing: every writer is captured per field, in the writer's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from ess_accompagnement.domain.codes import StructureKind
from ess_accompagnement.domain.entities import Structure
from ess_accompagnement.domain.ids import new_id
from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import api, capture
from ess_accompagnement.sync.codec import driver, verify_hash
from tests.sync.syncworld import Copies, export, new_project, row, set_field, transfer


def _log(db: Database) -> list[tuple[str, str, str]]:
    with db.read() as session:
        return [tuple(r) for r in session.execute(text(
            "SELECT c.tbl, c.col, c.val FROM sync_change c JOIN sync_tx t USING (scope, site, seq) "
            "WHERE t.origin = 'local' ORDER BY t.ord, c.idx")).all()]


def test_orm_core_and_raw_sql_writes_are_captured_without_derived_columns(copies: Copies) -> None:
    db = copies.new("a", structure=None)
    orm_id, core_id = new_id(), new_id()
    with db.transaction() as session:
        session.add(Structure(id=orm_id, owner_structure_id=orm_id, name="Orm", kind=StructureKind.AUTRE,
                              sort_key="orm"))
    with db.engine.begin() as connection:
        connection.execute(insert(Structure.__table__).values(
            id=core_id, owner_structure_id=core_id, name="Core", kind="autre", support_types=[], phases=[],
            former_names=[], active=True, sort_key="core"))
        txs = api.seal(connection)
    assert len(txs) == 1 and verify_hash(txs[0])
    with db.transaction() as session:
        session.execute(text("UPDATE structure SET name = 'Brut', sort_key = 'brut' WHERE id = :id"),
                        {"id": core_id.hex})
    log = _log(db)
    names = [val for tbl, col, val in log if col == "name"]
    assert names == ["Orm", "Core", "Brut"]
    assert not any(col in ("sort_key", "catalogue_values", "id") for _, col, _ in log)


def test_update_captures_only_changed_fields_and_derived_only_writes_nothing(copies: Copies) -> None:
    db = copies.new("a")
    pid = new_project(db)
    before = len(_log(db))
    set_field(db, pid, "sort_key", "zzz")  # derived: not a user edit
    set_field(db, pid, "title", "Épicerie")  # unchanged value
    assert len(_log(db)) == before
    set_field(db, pid, "summary", "Nouveau")
    assert _log(db)[before:] == [("project", "summary", "Nouveau")]


def test_rollback_leaves_nothing(copies: Copies) -> None:
    db = copies.new("a")
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.execute(text("UPDATE structure SET name = 'X'"))
        raise RuntimeError("boom")
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM sync_pending")).scalar() == 0
        assert session.execute(text("SELECT count(*) FROM sync_tx")).scalar() == 0


def test_hard_delete_travels_as_soft_delete_and_capture_can_be_turned_off(copies: Copies) -> None:
    a, b = copies.new("a"), copies.new("b")
    pid = new_project(a)
    transfer(a, b)
    with a.transaction() as session:
        session.execute(text("DELETE FROM project WHERE id = :id"), {"id": pid})
    transfer(a, b)
    assert row(b, pid)["deleted_at"] is not None
    with a.engine.connect() as connection:
        raw = driver(connection)
        raw.execute("BEGIN")
        with capture.disabled(raw):
            raw.execute("UPDATE structure SET name = 'silence'")
        assert raw.execute("SELECT count(*) FROM sync_pending").fetchone()[0] == 0
        raw.execute("ROLLBACK")


def test_triggers_are_rebuilt_when_their_version_changes(copies: Copies) -> None:
    db = copies.new("a")
    with db.engine.begin() as connection:
        raw = driver(connection)
        assert capture.ensure(raw) is False
        raw.execute("UPDATE local_setting SET value = 'old' WHERE key = 'sync_triggers_version'")
        assert capture.ensure(raw) is True


def test_one_transaction_per_scope_with_deps_hlc_and_hash_chain(copies: Copies) -> None:
    db = copies.new("a", structure=None)
    pid = new_project(db)
    with db.transaction() as session:
        session.execute(text("UPDATE project SET title = 'T' WHERE id = :id"), {"id": pid})
        session.execute(text("UPDATE structure SET name = 'S'"))
    txs = export(db, structure=None, known=None) + [t for t in export(db) if t["scope"] != "catalogue"]
    by_scope = {t["scope"]: t for t in txs}
    assert set(by_scope) == {"catalogue", f"structure:{row(db, pid)['owner_structure_id']}"}
    project_txs = [t for t in txs if t["scope"].startswith("structure:")]
    assert [t["seq"] for t in project_txs] == [1, 2]
    assert project_txs[1]["prev_hash"] == project_txs[0]["tx_hash"]
    assert project_txs[1]["deps"] == {project_txs[0]["site"]: 1}
    assert project_txs[1]["hlc"] > project_txs[0]["hlc"]


def test_remote_apply_feeds_the_search_index_and_project_state(copies: Copies) -> None:
    a, b = copies.new("a"), copies.new("b")
    pid = new_project(a, "Ressourcerie solidaire")
    transfer(a, b)
    with b.read() as session:
        hits = session.execute(text("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'ressourcerie'")).scalar()
        state = session.execute(text("SELECT count(*) FROM project_state WHERE project_id = :id"),
                                {"id": pid}).scalar()
        assert row(b, pid)["sort_key"] == "ressourcerie solidaire"
    assert hits == 1 and state == 1
