"""Per-field multi-value registers: leaves, supersession, and the log writer shared by seal and apply.

A field's state is the set of its *leaves* per scope: versions no later version in the same scope has
seen. Version ``v`` of transaction T supersedes leaf ``L`` (same scope) when T's deps cover L's dot
(``deps[L.site] >= L.seq``) or T is a later transaction of the same site. Because transactions are
applied in causal order (apply.py parks the others), an incoming version is never superseded by a leaf
already here, so applying is: drop what it supersedes, add it. A local write's deps are the whole
applied version vector of the scope, so it supersedes every leaf: that is how a resolution closes a
conflict everywhere, and why :func:`write_local` writes the leaves of local transactions in SQL.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterable
from functools import partial
from typing import Any, NamedTuple

from ess_accompagnement.sync.codec import Tx, decode_val, dot

RowKey = tuple[str, str]  # (tbl, pk)
Dot = tuple[str, str, int]


class Leaf(NamedTuple):
    """One leaf (a named tuple: cheap to build, compared and hashed by value like the former frozen dataclass)."""

    scope: str
    site: str
    seq: int
    hlc: int
    val: Any

    @property
    def dot(self) -> Dot:
        return (self.scope, self.site, self.seq)


_new_leaf = partial(tuple.__new__, Leaf)  # Leaf(*values) without the keyword-handling constructor


def supersedes(site: str, seq: int, deps: dict[str, int], leaf: Leaf) -> bool:
    return (leaf.site == site and leaf.seq < seq) or deps.get(leaf.site, 0) >= leaf.seq


def winner(leaves: Iterable[Leaf]) -> Leaf:
    """The displayed value among concurrent leaves: highest HLC, then highest site id (deterministic)."""
    return max(leaves, key=lambda leaf: (leaf.hlc, leaf.site, leaf.seq))


class Merger:
    """Leaves of the rows touched by one batch, loaded lazily, written back by :meth:`flush`."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self.rows: dict[RowKey, dict[str, list[Leaf]]] = {}
        self.dirty: set[RowKey] = set()
        self._deps: dict[Dot, dict[str, int]] = {}
        # Fields whose leaves changed (flush rewrites only those), and rows known to have no leaf stored
        # (loaded empty and not flushed since: nothing to delete before inserting theirs).
        self._dirty_fields: dict[RowKey, set[str]] = {}
        self._unstored: set[RowKey] = set()

    @functools.cached_property
    def structure_id(self) -> str | None:
        """The structure this copy is bound to (which of the share scopes it projects first)."""
        found = self.raw.execute("SELECT structure_id FROM sync_site WHERE retired = 0").fetchone()
        return found[0] if found else None

    def row(self, key: RowKey) -> dict[str, list[Leaf]]:
        row = self.rows.get(key)
        if row is None:
            row = {}
            for col, scope, site, seq, hlc, val in self.raw.execute(
                "SELECT col, scope, site, seq, hlc, val FROM sync_fv WHERE tbl = ? AND pk = ?", key
            ):
                row.setdefault(col, []).append(Leaf(scope, site, seq, hlc, val))
            self.rows[key] = row
            if not row:
                self._unstored.add(key)
        return row

    def preload(self, keys: Iterable[RowKey]) -> None:
        """Load the leaves of the rows among ``keys`` not loaded yet: one query per table and 500 keys
        (instead of one per row), using the primary key's (tbl, pk) prefix."""
        by_table: dict[str, list[str]] = {}
        rows = self.rows
        for key in keys:
            if type(key[0]) is str and type(key[1]) is str and key not in rows:  # others: lazily, by row()
                rows[key] = {}
                by_table.setdefault(key[0], []).append(key[1])
        for tbl, pks in by_table.items():
            for start in range(0, len(pks), 500):
                chunk = pks[start:start + 500]
                for pk, col, scope, site, seq, hlc, val in self.raw.execute(
                    f"SELECT pk, col, scope, site, seq, hlc, val FROM sync_fv WHERE tbl = ? AND pk IN "
                    f"({','.join('?' * len(chunk))})", (tbl, *chunk)
                ):
                    rows[(tbl, pk)].setdefault(col, []).append(Leaf(scope, site, seq, hlc, val))
            self._unstored.update((tbl, pk) for pk in pks if not rows[(tbl, pk)])

    def apply_tx(self, tx: Tx, refused: frozenset[int] = frozenset()) -> None:
        scope, site, seq = dot(tx)
        deps: dict[str, int] = tx["deps"]
        hlc = tx["hlc"]
        self._deps[(scope, site, seq)] = deps
        rows, dirty_fields, dirty = self.rows, self._dirty_fields, self.dirty
        changes = tx["changes"]
        if refused:
            changes = [c for idx, c in enumerate(changes) if idx not in refused]
        last_key: RowKey | None = None
        row: dict[str, list[Leaf]] = {}
        fields: set[str] = set()
        for tbl, pk, col, val in changes:
            key = (tbl, pk)
            if key != last_key:  # a transaction's changes come row by row: look the row up once
                found = rows.get(key)
                row = self.row(key) if found is None else found
                last_key = key
                fields = dirty_fields.setdefault(key, set())
            leaves = row.get(col)
            if leaves:
                if any(leaf.site == site and leaf.seq == seq and leaf.scope == scope for leaf in leaves):
                    continue
                kept = [leaf for leaf in leaves if leaf.scope != scope or not supersedes(site, seq, deps, leaf)]
                kept.append(_new_leaf((scope, site, seq, hlc, decode_val(val) if type(val) is dict else val)))
            else:
                kept = [_new_leaf((scope, site, seq, hlc, decode_val(val) if type(val) is dict else val))]
            row[col] = kept
            if not fields:
                dirty.add(key)
            fields.add(col)

    def deps_of(self, leaf: Leaf) -> dict[str, int]:
        deps = self._deps.get(leaf.dot)
        if deps is None:
            found = self.raw.execute("SELECT deps FROM sync_tx WHERE scope = ? AND site = ? AND seq = ?",
                                     leaf.dot).fetchone()
            deps = json.loads(found[0]) if found else {}
            self._deps[leaf.dot] = deps
        return deps

    def saw(self, later: Leaf, earlier: Leaf) -> bool:
        """Had the author of ``later`` seen ``earlier``? (Only meaningful within one scope.)"""
        if later.scope != earlier.scope:
            return False
        if later.site == earlier.site:
            return later.seq >= earlier.seq
        return self.deps_of(later).get(earlier.site, 0) >= earlier.seq

    def flush(self) -> None:
        """Write the leaves of every touched field back to ``sync_fv``."""
        if not self.dirty:
            return
        stale: list[tuple[str, str, str]] = []
        leaves: list[tuple[Any, ...]] = []
        for key in sorted(self.dirty):
            tbl, pk = key
            row = self.rows[key]
            unstored = key in self._unstored
            for col in sorted(self._dirty_fields.get(key, ())):
                if not unstored:
                    stale.append((tbl, pk, col))
                leaves += [(tbl, pk, col, *leaf) for leaf in row.get(col, ())]
        if stale:
            self.raw.executemany("DELETE FROM sync_fv WHERE tbl = ? AND pk = ? AND col = ?", stale)
        self.raw.executemany(
            "INSERT INTO sync_fv(tbl, pk, col, scope, site, seq, hlc, val) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", leaves)
        self._unstored.clear()  # stored now: a second flush must replace, not add


class LogWriter:
    """Buffers ``sync_tx`` / ``sync_change`` rows and version-vector bumps, written by :meth:`flush`."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self.next_ord = int(raw.execute("SELECT coalesce(max(ord), 0) + 1 FROM sync_tx").fetchone()[0])
        self.txs: list[tuple[Any, ...]] = []
        self.changes: list[tuple[Any, ...]] = []
        self.copied: list[tuple[str, str, int, str]] = []
        self.vv: dict[tuple[str, str], int] = {}

    def record(self, tx: Tx, origin: str, refused: frozenset[int] = frozenset(),
               pending: list[int] | None = None) -> None:
        """Log ``tx``. ``pending``: the ``sync_pending`` row holding each change (same field, same value, in
        the order of ``tx["changes"]``), whose rows :meth:`flush` then copies in SQL instead of binding them
        one by one from Python (local transactions: never refused)."""
        scope, site, seq = dot(tx)
        self.txs.append((scope, site, seq, tx["hlc"], json.dumps(tx["deps"], sort_keys=True), tx.get("author"),
                         tx.get("structure"), tx.get("schema", 0), tx.get("prev_hash"), tx["tx_hash"], origin,
                         self.next_ord))
        self.next_ord += 1
        if pending is not None and not refused:
            self.copied.append((scope, site, seq, "[" + ",".join(map(str, pending)) + "]"))
        elif refused:
            self.changes.extend((scope, site, seq, idx, tbl, pk, col, decode_val(val) if type(val) is dict else val,
                                 1 if idx in refused else 0) for idx, (tbl, pk, col, val) in enumerate(tx["changes"]))
        else:
            self.changes.extend((scope, site, seq, idx, tbl, pk, col, decode_val(val) if type(val) is dict else val, 0)
                                for idx, (tbl, pk, col, val) in enumerate(tx["changes"]))
        self.vv[(scope, site)] = seq

    def flush(self) -> None:
        self.raw.executemany("INSERT INTO sync_tx(scope, site, seq, hlc, deps, author, structure, schema_ver, "
                             "prev_hash, tx_hash, origin, ord) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.txs)
        self.raw.executemany("INSERT INTO sync_change(scope, site, seq, idx, tbl, pk, col, val, refused) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self.changes)
        if self.copied:  # idx = position in the JSON array of pending row ids
            self.raw.executemany("INSERT INTO sync_change(scope, site, seq, idx, tbl, pk, col, val, refused) "
                                 "SELECT ?, ?, ?, j.key, p.tbl, p.pk, p.col, p.val, 0 FROM json_each(?) AS j "
                                 "JOIN sync_pending AS p ON p.id = j.value", self.copied)
        self.raw.executemany("INSERT OR REPLACE INTO sync_vv(scope, site, seq) VALUES (?, ?, ?)",
                             [(scope, site, seq) for (scope, site), seq in self.vv.items()])
        self.txs, self.changes, self.copied, self.vv = [], [], [], {}


# ---- Local transactions


def write_local(raw: sqlite3.Connection, txs: list[Tx], deleted: str) -> tuple[Merger, list[RowKey]]:
    """Write the leaves of local transactions, already in the log (flushed by :class:`LogWriter`).

    A local transaction's deps are its scope's whole version vector, so each of its versions supersedes
    every leaf of that field in that scope: :meth:`Merger.apply_tx` + :meth:`Merger.flush` come down to
    deleting the field's leaves in that scope and inserting the new version, straight from ``sync_change``
    (no leaf is built in Python, and only the written fields' leaves are read), the leaves of other scopes
    untouched. That is checked on the stored leaves first; should a same-scope leaf not be superseded, every
    transaction goes the general way instead. Returns a merger holding the current leaves of the touched
    rows that may hold a set ``deleted`` value, and those rows."""
    plan = _local_plan(raw, txs, deleted)
    merger = Merger(raw)
    if plan is None:
        merger.preload(dict.fromkeys([(c[0], c[1]) for tx in txs for c in tx["changes"]]))
        for tx in txs:
            merger.apply_tx(tx)
        merger.flush()
        return merger, sorted(merger.dirty)
    stale, maybe_deleted = plan
    if stale:
        raw.executemany("DELETE FROM sync_fv WHERE tbl = ? AND pk = ? AND col = ? AND scope = ?", stale)
    for tx in txs:
        raw.execute("INSERT INTO sync_fv(tbl, pk, col, scope, site, seq, hlc, val) "
                    "SELECT tbl, pk, col, scope, site, seq, ?, val FROM sync_change "
                    "WHERE scope = ? AND site = ? AND seq = ? AND refused = 0", (tx["hlc"], *dot(tx)))
    merger.preload(maybe_deleted)
    return merger, maybe_deleted


def _local_plan(raw: sqlite3.Connection, txs: list[Tx], deleted: str
                ) -> tuple[list[tuple[str, str, str, str]], list[RowKey]] | None:
    """(the fields whose leaves in the transaction's scope are replaced, the rows that may hold a delete), or
    None when some same-scope leaf is not superseded (never for a local transaction; checked anyway)."""
    keys: dict[RowKey, None] = {}
    columns: dict[str, set[str]] = {}
    maybe_deleted: dict[RowKey, None] = {}
    for tx in txs:
        last_tbl, last_pk = None, None
        cols: set[str] = set()
        for tbl, pk, col, val in tx["changes"]:
            if pk != last_pk or tbl != last_tbl:  # changes come row by row
                if type(pk) is not str:
                    return None  # keys are text (TEXT columns): matched by value below, as stored
                last_tbl, last_pk = tbl, pk
                keys[(tbl, pk)] = None
                cols = columns.setdefault(tbl, {deleted})
            cols.add(col)
            if col == deleted and val is not None:
                maybe_deleted[(tbl, pk)] = None
    stored = _stored_leaves(raw, keys, columns)
    for key, row in stored.items():
        if any(leaf.val is not None for leaf in row.get(deleted, ())):
            maybe_deleted[key] = None
    stale: list[tuple[str, str, str, str]] = []
    if stored:
        for tx in txs:
            scope, site, seq = dot(tx)
            deps: dict[str, int] = tx["deps"]
            for tbl, pk, col, _val in tx["changes"]:
                row = stored.get((tbl, pk))
                same = [leaf for leaf in row.get(col, ()) if leaf.scope == scope] if row else None
                if same:
                    if not all(supersedes(site, seq, deps, leaf) for leaf in same):
                        return None
                    stale.append((tbl, pk, col, scope))
    return stale, list(maybe_deleted)


def _stored_leaves(raw: sqlite3.Connection, keys: Iterable[RowKey], columns: dict[str, set[str]]
                   ) -> dict[RowKey, dict[str, list[Leaf]]]:
    """The stored leaves of the ``columns`` (per table) of the rows ``keys``; rows without any are absent.
    One query per table and 500 rows, reading only those columns (an edit of one field of a row with many
    does not load them all)."""
    by_table: dict[str, list[str]] = {}
    for tbl, pk in keys:
        by_table.setdefault(tbl, []).append(pk)
    found: dict[RowKey, dict[str, list[Leaf]]] = {}
    for tbl, pks in by_table.items():
        cols = sorted(columns[tbl])
        for start in range(0, len(pks), 500):
            chunk = pks[start:start + 500]
            for pk, col, scope, site, seq, hlc, val in raw.execute(
                f"SELECT pk, col, scope, site, seq, hlc, val FROM sync_fv WHERE tbl = ? AND pk IN "
                f"({','.join('?' * len(chunk))}) AND col IN ({','.join('?' * len(cols))})", (tbl, *chunk, *cols)
            ):
                found.setdefault((tbl, pk), {}).setdefault(col, []).append(_new_leaf((scope, site, seq, hlc, val)))
    return found


def load_vv(raw: sqlite3.Connection, scope: str) -> dict[str, int]:
    return dict(raw.execute("SELECT site, seq FROM sync_vv WHERE scope = ?", (scope,)).fetchall())
