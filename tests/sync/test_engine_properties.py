"""Hypothesis stateful tests: 2 to 7 copies (real SQLite files), random edits, creates, soft deletes,
undeletes, resolutions and transfers of arbitrary subsets of transactions in any order, duplicated and
relayed, checked against the reference model of tests/sync/oracle.py (sync.md Part D)."""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import text

from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import api
from ess_accompagnement.sync.site import Clock
from tests.sync import oracle
from tests.sync.syncworld import A, B, conflicts, new_project, open_copy

FIELDS = ("title", "summary", "status")
VALUES = {"title": ("Épicerie", "Garage solidaire", "Tiers-lieu"), "summary": (None, "un", "deux"),
          "status": ("actif", "en_veille", "abandonne")}
DELETED_AT = "2026-06-01 10:00:00.000000"
YEAR_MS = 365 * 24 * 3600 * 1000

TEMPLATE: dict[str, Path] = {}
DERIVED = {"sort_key", "catalogue_values"}  # recomputed by each copy, never sent


@pytest.fixture(autouse=True)
def _template(sync_template: Path) -> None:  # noqa: F811 - the fixture
    TEMPLATE["path"] = sync_template


def all_txs(db: Database) -> list[dict[str, Any]]:
    with db.read() as session:
        return list(api.export_transactions(session.connection(), structure_id=None, every_scope=True))


def engine_state(db: Database) -> tuple[dict[Any, Any], dict[Any, Any]]:
    with db.read() as session:
        fv = session.execute(text("SELECT tbl, pk, col, scope, site, seq, val FROM sync_fv")).all()
        leaves: dict[Any, list[Any]] = {}
        for tbl, pk, col, scope, site, seq, val in fv:
            leaves.setdefault((tbl, pk, col), []).append((scope, site, seq, val))
        projected: dict[Any, dict[str, Any]] = {}
        for (tbl, pk) in sorted({(k[0], k[1]) for k in leaves}):
            found = session.execute(text(f'SELECT * FROM "{tbl}" WHERE id = :id'), {"id": pk}).mappings().first()
            projected[(tbl, pk)] = {k: v for k, v in (found or {}).items() if k not in DERIVED}
    return {k: sorted(v) for k, v in leaves.items()}, projected


def check_against_oracle(db: Database) -> None:
    txs = all_txs(db)
    dots = [(t["scope"], t["site"], t["seq"]) for t in txs]
    assert len(dots) == len(set(dots))
    expected = oracle.leaves(txs)
    leaves, projected = engine_state(db)
    assert leaves == {k: sorted((v.scope, v.site, v.seq, v.val) for v in vs) for k, vs in expected.items()}
    for key, values in oracle.projection(expected).items():
        row = projected[key]
        assert {c: row[c] for c in values} == values, key
    assert {c.id for c in conflicts(db)} == oracle.conflict_ids(expected)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="syncprop"))
        self.dbs: list[Database] = []
        self.structures: list[str] = []
        self.skews: list[int] = []
        self.rows: dict[str, list[str]] = {A: [], B: []}
        self.pool: dict[tuple[str, str, int], str] = {}  # every dot ever seen -> its hash (P-identity)

    @initialize(n=st.integers(2, 7), seed=st.randoms(use_true_random=False))
    def open_copies(self, n: int, seed: random.Random) -> None:
        for i in range(n):
            path = self.dir / f"c{i}.db"
            shutil.copyfile(TEMPLATE["path"], path)
            db = open_copy(path)
            structure = A if i == 0 or seed.random() < 0.7 else B
            with db.transaction() as session:
                api.bind_structure(session.connection(), structure)
            self.dbs.append(db)
            self.structures.append(structure)
            self.skews.append(0)

    def teardown(self) -> None:
        Clock.offset_ms = 0
        for db in self.dbs:
            db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _on(self, i: int) -> Database:
        Clock.offset_ms = self.skews[i % len(self.dbs)]
        return self.dbs[i % len(self.dbs)]

    def _visible_row(self, i: int, r: int) -> tuple[Database, str] | None:
        db = self._on(i)
        rows = self.rows[self.structures[i % len(self.dbs)]]
        if not rows:
            return None
        pid = rows[r % len(rows)]
        with db.read() as session:
            found = session.execute(text("SELECT deleted_at FROM project WHERE id = :id"), {"id": pid}).first()
        return (db, pid) if found is not None else None

    def _remember(self, db: Database) -> None:
        for tx in all_txs(db):
            d = (tx["scope"], tx["site"], tx["seq"])
            assert self.pool.setdefault(d, tx["tx_hash"]) == tx["tx_hash"], "two transactions with one dot"

    @rule(i=st.integers(0, 6), title=st.sampled_from(VALUES["title"]))
    def create(self, i: int, title: str) -> None:
        db = self._on(i)
        structure = self.structures[i % len(self.dbs)]
        self.rows[structure].append(new_project(db, title, owner=structure))
        self._remember(db)

    @rule(i=st.integers(0, 6), r=st.integers(0, 50), field=st.sampled_from(FIELDS), v=st.integers(0, 2))
    def edit(self, i: int, r: int, field: str, v: int) -> None:
        target = self._visible_row(i, r)
        if target is None:
            return
        db, pid = target
        with db.transaction() as session:
            session.execute(text(f"UPDATE project SET {field} = :v WHERE id = :id AND deleted_at IS NULL"),
                            {"v": VALUES[field][v], "id": pid})
        self._remember(db)

    @rule(i=st.integers(0, 6), r=st.integers(0, 50), undelete=st.booleans())
    def soft_delete(self, i: int, r: int, undelete: bool) -> None:
        target = self._visible_row(i, r)
        if target is None:
            return
        db, pid = target
        with db.transaction() as session:
            session.execute(text("UPDATE project SET deleted_at = :v WHERE id = :id"),
                            {"v": None if undelete else DELETED_AT, "id": pid})
        self._remember(db)

    @rule(i=st.integers(0, 6), pick=st.integers(0, 20), merged=st.booleans())
    def resolve(self, i: int, pick: int, merged: bool) -> None:
        db = self._on(i)
        found = conflicts(db)
        if not found:
            return
        conflict = found[pick % len(found)]
        if conflict.kind == "delete":
            value = None if merged else DELETED_AT
        else:
            value = "fusion" if merged and conflict.field == "title" else conflict.leaves[-1].value
        api.resolve_conflict(db, conflict.id, value)
        self._remember(db)
        assert conflict.id not in {c.id for c in conflicts(db)}

    @rule(src=st.integers(0, 6), dst=st.integers(0, 6), data=st.data())
    def transfer(self, src: int, dst: int, data: st.DataObject) -> None:
        """Any subset, in any order, with duplicates, filtered by what the recipient may see."""
        source, target = self._on(src), self._on(dst)
        with source.read() as session:
            txs = list(api.export_transactions(session.connection(), structure_id=self.structures[dst % len(self.dbs)]))
        if not txs:
            return
        chosen = data.draw(st.lists(st.sampled_from(txs), max_size=len(txs) + 3))
        api.apply_transactions(target, chosen, batch_size=data.draw(st.integers(1, 8)))
        check_against_oracle(target)

    @rule(i=st.integers(0, 6), years=st.integers(-10, 10))
    def skew_clock(self, i: int, years: int) -> None:
        self.skews[i % len(self.dbs)] = years * YEAR_MS

    @rule(i=st.integers(0, 6))
    def restart(self, i: int) -> None:
        k = i % len(self.dbs)
        with self.dbs[k].read() as session:
            before = api.site_info(session.connection()).site_id
        self.dbs[k].close()
        self.dbs[k] = open_copy(self.dir / f"c{k}.db")
        with self.dbs[k].read() as session:
            assert api.site_info(session.connection()).site_id == before

    @precondition(lambda self: len(self.dbs) > 0)
    @invariant()
    def one_copy_matches_the_oracle(self) -> None:
        check_against_oracle(self.dbs[0])

    def exchange_all(self) -> None:
        progress = True
        while progress:
            progress = False
            for i, source in enumerate(self.dbs):
                for j, target in enumerate(self.dbs):
                    if i != j:
                        with target.read() as session:
                            known = api.receipt(session.connection())
                        with source.read() as session:
                            txs = list(api.export_transactions(session.connection(), structure_id=self.structures[j],
                                                               known=known))
                        result = api.apply_transactions(target, txs)
                        progress = progress or result.applied > 0

    @precondition(lambda self: len(self.dbs) > 0)
    @rule()
    def converge(self) -> None:
        """P-converge: after an all-to-all exchange, copies of one structure hold identical states."""
        Clock.offset_ms = 0
        self.exchange_all()
        by_structure: dict[str, set[tuple[str, str]]] = {}
        for db, structure in zip(self.dbs, self.structures, strict=True):
            check_against_oracle(db)
            with db.read() as session:
                scopes = api.visible_scopes(session.connection(), structure)
                by_structure.setdefault(structure, set()).add((api.digest(session.connection(), scopes),
                                                               repr(engine_state(db)[1])))
                assert api.preview(db, []).waiting_for == set()
        for states in by_structure.values():
            assert len(states) == 1


SyncMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
TestSync = SyncMachine.TestCase


# ---- P-commute, P-prefix, P-idempotent on a pool of transactions -----------------------------------


def _scenario(directory: Path, rnd: random.Random) -> list[dict[str, Any]]:
    """Three copies edit shared rows with random partial exchanges; returns every transaction made."""
    writers = []
    for i in range(3):
        shutil.copyfile(TEMPLATE["path"], directory / f"w{i}.db")
        writers.append(open_copy(directory / f"w{i}.db"))
        with writers[-1].transaction() as session:
            api.bind_structure(session.connection(), A)
    pids = [new_project(writers[0], "Épicerie") for _ in range(2)]
    api.apply_transactions(writers[1], all_txs(writers[0]))
    for _ in range(8):
        db = rnd.choice(writers)
        pid, field = rnd.choice(pids), rnd.choice(FIELDS + ("deleted_at",))
        value = rnd.choice((None, DELETED_AT)) if field == "deleted_at" else rnd.choice(VALUES[field])
        with db.transaction() as session:
            session.execute(text(f"UPDATE project SET {field} = :v WHERE id = :id"), {"v": value, "id": pid})
        src, dst = rnd.sample(writers, 2)
        api.apply_transactions(dst, rnd.sample(all_txs(src), k=rnd.randint(0, len(all_txs(src)))))
    pool = {(t["scope"], t["site"], t["seq"]): t for db in writers for t in all_txs(db)}
    for db in writers:
        db.close()
    return list(pool.values())


def _missing_deps(pool: list[dict[str, Any]], subset: list[dict[str, Any]]) -> set[tuple[str, str, int]]:
    """Dots of ``subset`` that cannot apply: some transaction they depend on (transitively) is absent."""
    have = {(t["scope"], t["site"], t["seq"]) for t in subset}
    by_dot = {(t["scope"], t["site"], t["seq"]): t for t in pool}
    blocked: set[tuple[str, str, int]] = set()
    for d in sorted(have, key=lambda d: by_dot[d]["hlc"]):
        tx = by_dot[d]
        needs = {(d[0], s, n) for s, n in tx["deps"].items() for n in range(1, n + 1)}
        needs |= {(d[0], d[1], n) for n in range(1, d[2])}
        if not needs <= have or needs & blocked:
            blocked.add(d)
    return blocked


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), cut=st.floats(0, 1))
def test_any_order_any_cut_any_repeat_gives_one_state(sync_template: Path, seed: int, cut: float) -> None:  # noqa: F811
    """P-commute, P-prefix, P-idempotent: permutations, prefixes and repeats reach one digest."""
    rnd = random.Random(seed)
    directory = Path(tempfile.mkdtemp(prefix="syncpool"))
    TEMPLATE["path"] = sync_template
    try:
        pool = _scenario(directory, rnd)
        digests = set()
        for name in ("shuffled", "prefix", "twice"):
            shutil.copyfile(sync_template, directory / f"{name}.db")
            db = open_copy(directory / f"{name}.db")
            order = rnd.sample(pool, len(pool))
            if name == "prefix":
                k = int(cut * len(order))
                first = api.apply_transactions(db, order[:k], batch_size=3)
                assert {d for d in _missing_deps(pool, order[:k])} == {
                    (t["scope"], t["site"], t["seq"]) for t in order[:k]} - {
                    (t["scope"], t["site"], t["seq"]) for t in all_txs(db)}
                assert first.parked == len(_missing_deps(pool, order[:k]))
                api.apply_transactions(db, order[k:])
            else:
                api.apply_transactions(db, order + order[: len(order) // 2])
                if name == "twice":
                    again = api.apply_transactions(db, order)
                    assert again.applied == 0 and again.duplicates == len(order)
            check_against_oracle(db)
            with db.read() as session:
                digests.add(api.digest(session.connection()))
            db.close()
        assert len(digests) == 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)
