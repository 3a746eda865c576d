"""Merge, deletes, causal delivery, identity, clocks and forks (sync.md Part D, targeted cases)."""

from __future__ import annotations

import copy
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text

from ess_accompagnement.sync import api, site
from ess_accompagnement.sync.codec import tx_hash
from tests.sync.syncworld import Copies, conflicts, export, new_project, open_copy, row, set_field, transfer

DEL = "2026-06-01 10:00:00.000000"


def test_concurrent_edits_of_different_fields_both_survive_same_field_conflicts(copies: Copies) -> None:
    a, b = copies.new("a"), copies.new("b")
    pid = new_project(a)
    transfer(a, b)
    set_field(a, pid, "summary", "résumé A")
    set_field(b, pid, "status", "en_veille")
    set_field(a, pid, "title", "Titre A")
    set_field(b, pid, "title", "Titre B")
    transfer(a, b), transfer(b, a)
    for db in (a, b):
        assert (row(db, pid)["summary"], row(db, pid)["status"]) == ("résumé A", "en_veille")
    (conflict,) = conflicts(a)
    assert conflict.field == "title" and {leaf.value for leaf in conflict.leaves} == {"Titre A", "Titre B"}
    assert row(a, pid)["title"] == row(b, pid)["title"] == next(leaf.value for leaf in conflict.leaves if leaf.winner)


def test_no_false_conflict_along_a_relay_chain(copies: Copies) -> None:
    a, b, c = copies.new("a"), copies.new("b"), copies.new("c")
    pid = new_project(a)
    for source, target, title in ((a, b, "1"), (b, c, "2"), (c, a, "3"), (a, c, "4")):
        transfer(source, target)
        set_field(target, pid, "title", title)
    transfer(c, b), transfer(b, a), transfer(a, b)
    assert all(conflicts(db) == [] for db in (a, b, c))
    assert {row(db, pid)["title"] for db in (a, b, c)} == {"4"}


def test_delete_concurrent_with_edit_keeps_the_row_and_raises_a_conflict(copies: Copies) -> None:
    a, b = copies.new("a"), copies.new("b")
    pid = new_project(a)
    transfer(a, b)
    set_field(a, pid, "deleted_at", DEL)
    set_field(b, pid, "summary", "toujours là")
    transfer(a, b), transfer(b, a)
    for db in (a, b):
        assert row(db, pid)["deleted_at"] is None
        (conflict,) = conflicts(db)
        assert conflict.kind == "delete" and {leaf.field for leaf in conflict.leaves} == {"deleted_at", "summary"}
    api.resolve_conflict(b, conflicts(b)[0].id, DEL)  # « supprimer quand même »
    transfer(b, a)
    assert row(a, pid)["deleted_at"] == DEL and conflicts(a) == [] == conflicts(b)


def test_delete_that_saw_the_edits_wins_and_stale_bundles_never_resurrect(copies: Copies) -> None:
    a, b, c = copies.new("a"), copies.new("b"), copies.new("c")
    pid = new_project(a)
    set_field(a, pid, "summary", "édité")
    stale = export(a)
    transfer(a, b)
    set_field(b, pid, "deleted_at", DEL)
    api.apply_transactions(c, export(b))  # the delete, with what it saw
    api.apply_transactions(c, stale)  # an old bundle, again
    for db in (b, c):
        assert row(db, pid)["deleted_at"] == DEL and conflicts(db) == []
    set_field(b, pid, "deleted_at", None)  # undelete is an ordinary write
    transfer(b, c)
    assert row(c, pid)["deleted_at"] is None


def test_out_of_order_transactions_wait_then_apply_and_preview_writes_nothing(copies: Copies) -> None:
    a, b = copies.new("a"), copies.new("b")
    pid = new_project(a)
    set_field(a, pid, "title", "deux")
    first, second = export(a)
    seen = api.preview(b, [second, first])
    assert (seen.applied, seen.parked) == (2, 0)
    assert row(b, pid) is None
    result = api.apply_transactions(b, [second])
    assert (result.applied, result.parked, result.waiting_for) == (0, 1, {second["site"]})
    result = api.apply_transactions(b, [first, first])
    assert (result.applied, result.duplicates) == (2, 1) and row(b, pid)["title"] == "deux"


def test_fork_and_tampering_are_quarantined(copies: Copies) -> None:
    a, b = copies.new("a"), copies.new("b")
    pid = new_project(a)
    (tx,) = export(a)
    api.apply_transactions(b, [tx])
    forged = copy.deepcopy(tx)
    forged["changes"][0][3] = "falsifié"
    tampered = copy.deepcopy(forged)
    forged["tx_hash"] = tx_hash(forged)
    result = api.apply_transactions(b, [forged, tampered])
    assert result.quarantined == 2 and result.forks == [(tx["scope"], tx["site"], 1)]
    assert row(b, pid)["title"] == "Épicerie"


def test_hlc_is_monotonic_across_restarts_and_ignores_far_future(copies: Copies) -> None:
    a = copies.new("a")
    try:
        site.Clock.offset_ms = 10 * 365 * 24 * 3600 * 1000
        new_project(a)
        (future,) = export(a)
        site.Clock.offset_ms = 0
        a.close()
        a = open_copy(a.path)
        pid = new_project(a)
        later = [t for t in export(a) if t["seq"] == 2][0]
        assert later["hlc"] > future["hlc"]  # never backwards, even when the wall clock is behind
        b = copies.new("b")
        api.apply_transactions(b, [dict(future)])
        with b.read() as session:
            hlc = session.execute(text("SELECT hlc FROM sync_site WHERE retired = 0")).scalar()
        assert hlc < future["hlc"]  # not ratcheted to a stamp ten years ahead
        assert pid
    finally:
        site.Clock.offset_ms = 0
        a.close()


def test_clock_years_ahead_cannot_beat_a_causally_later_edit(copies: Copies) -> None:
    a, b = copies.new("a"), copies.new("b")
    pid = new_project(a)
    try:
        site.Clock.offset_ms = 10 * 365 * 24 * 3600 * 1000
        set_field(a, pid, "title", "du futur")
    finally:
        site.Clock.offset_ms = 0
    transfer(a, b)
    set_field(b, pid, "title", "plus tard")
    transfer(b, a)
    assert row(a, pid)["title"] == "plus tard" and conflicts(a) == []


def _backup(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


def test_copied_or_restored_database_gets_a_new_site(copies: Copies) -> None:
    a = copies.new("a")
    with a.read() as session:
        first = api.site_info(session.connection())
    backup = a.path.with_name("backup.db")
    _backup(a.path, backup)
    new_project(a)
    a.close()
    copied = open_copy(backup)  # a copy at another path
    new_project(copied)  # opening changes nothing; the first write rotates the site
    with copied.read() as session:
        assert api.site_info(session.connection()).site_id != first.site_id
    copied.close()
    for suffix in ("-wal", "-shm"):
        a.path.with_name(a.path.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, a.path)  # restored over the original: its seqs are behind the state file
    restored = open_copy(a.path)
    new_project(restored)
    with restored.read() as session:
        info = api.site_info(session.connection())
    assert info.site_id != first.site_id and info.epoch > first.epoch and info.structure_id == first.structure_id
    dots = [(t["site"], t["seq"]) for t in export(restored)]
    assert len(dots) == len(set(dots))
    restored.close()
