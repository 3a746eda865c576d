"""Applying remote transactions (bundle import now, hub pull later): one code path.

For each transaction, in the given order: malformed or bad hash → quarantined; dot already applied →
duplicate (same hash) or fork (different hash → quarantined, reported); dependencies missing → parked in
``sync_inbox`` and retried after every apply; otherwise applied: field ownership filter (refused changes
stay in the log, flagged, never merged), log, leaves, version vector. Batches run in one
``BEGIN IMMEDIATE`` transaction with capture off and foreign keys off (a reference to another scope may
arrive later), then the touched rows are projected (the derived-table triggers fire on those writes).
A crash rolls back the current batch; re-running resumes (idempotent).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ess_accompagnement.sync import capture, conflicts, projection, site
from ess_accompagnement.sync.codec import Tx, dot, dumps, is_well_formed, verify_hash
from ess_accompagnement.sync.merge import Dot, LogWriter, Merger, RowKey, load_vv
from ess_accompagnement.sync.scopes import may_write, parse

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
FaultHook = Callable[[str], None]


@dataclass
class ApplyResult:
    """What an apply (or a preview) did: counts of transactions, and conflict ids opened by it."""

    applied: int = 0
    duplicates: int = 0
    parked: int = 0
    quarantined: int = 0
    field_changes: int = 0
    refused_changes: int = 0
    forks: list[Dot] = field(default_factory=list)
    new_conflicts: list[str] = field(default_factory=list)
    waiting_for: set[str] = field(default_factory=set)  # site ids whose earlier changes are missing


class _Batch:
    """State of one apply run on one connection."""

    def __init__(self, raw: sqlite3.Connection, result: ApplyResult) -> None:
        self.raw, self.result = raw, result
        self.vv: dict[str, dict[str, int]] = {}
        self.hashes: dict[Dot, str] = {}
        self.parked: dict[Dot, Tx] = {}
        self.unparked: set[Dot] = set()
        self.newly_parked: set[Dot] = set()
        self.max_hlc = 0
        self.begin()
        for (body,) in raw.execute("SELECT body FROM sync_inbox").fetchall():
            tx = json.loads(body)
            self.parked[dot(tx)] = tx

    def begin(self) -> None:
        self.merger, self.log = Merger(self.raw), LogWriter(self.raw)
        self.touched: set[RowKey] = set()
        self.before: set[str] = set()

    def preload(self, txs: list[Tx]) -> None:
        """Load the leaves of every row the well-formed transactions of ``txs`` touch, in a few queries."""
        keys: dict[RowKey, None] = {}
        for tx in txs:
            if isinstance(tx, dict) and isinstance(tx.get("changes"), list):
                keys.update(dict.fromkeys([(c[0], c[1]) for c in tx["changes"] if isinstance(c, list) and len(c) == 4
                                           and type(c[0]) is str and type(c[1]) is str]))
        self.merger.preload(keys)

    def scope_vv(self, scope: str) -> dict[str, int]:
        if scope not in self.vv:
            self.vv[scope] = load_vv(self.raw, scope)
        return self.vv[scope]

    def known_hash(self, d: Dot) -> str | None:
        if d in self.hashes:
            return self.hashes[d]
        row = self.raw.execute("SELECT tx_hash FROM sync_tx WHERE scope = ? AND site = ? AND seq = ?", d).fetchone()
        return row[0] if row else None

    def ready(self, tx: Tx) -> bool:
        vv = self.scope_vv(tx["scope"])
        return tx["seq"] == vv.get(tx["site"], 0) + 1 and all(
            vv.get(s, 0) >= n for s, n in tx["deps"].items() if s != tx["site"])

    def offer(self, tx: Tx) -> None:
        if not is_well_formed(tx) or not verify_hash(tx):
            self.quarantine(tx, "hash")
            return
        known = self.known_hash(dot(tx))
        if known is not None:
            if known == tx["tx_hash"]:
                self.result.duplicates += 1
            else:
                self.quarantine(tx, "fork")
            return
        if not self.ready(tx):
            if dot(tx) not in self.parked:
                self.parked[dot(tx)] = tx
                self.newly_parked.add(dot(tx))
            return
        self.apply(tx)
        self.drain(tx["scope"])

    def drain(self, scope: str) -> None:
        """Apply parked transactions of ``scope`` that became ready, until none is."""
        progress = True
        while progress:
            progress = False
            for d in sorted(d for d in self.parked if d[0] == scope):
                tx = self.parked[d]
                if self.known_hash(d) is None and self.ready(tx):
                    del self.parked[d]
                    self.unparked.add(d)
                    self.newly_parked.discard(d)
                    self.apply(tx)
                    progress = True

    def apply(self, tx: Tx) -> None:
        scope, site_id, seq = dot(tx)
        if seq > 1 and tx.get("prev_hash") != self.known_hash((scope, site_id, seq - 1)):
            self.quarantine(tx, "chain")
            return
        refused = _refused(tx, scope)
        touched = self.touched
        for tbl, pk, _col, _val in tx["changes"]:
            key = (tbl, pk)
            if key not in touched:
                touched.add(key)
                self.before.update(_conflict_ids(self.merger, key))
        self.log.record(tx, "remote", refused)
        self.merger.apply_tx(tx, refused)
        self.hashes[(scope, site_id, seq)] = tx["tx_hash"]
        self.scope_vv(scope)[site_id] = seq
        self.max_hlc = max(self.max_hlc, tx["hlc"])
        self.result.applied += 1
        self.result.field_changes += len(tx["changes"]) - len(refused)
        self.result.refused_changes += len(refused)

    def quarantine(self, tx: object, reason: str) -> None:
        self.result.quarantined += 1
        body = dumps(tx) if isinstance(tx, dict) else json.dumps(str(tx))
        d = dot(tx) if isinstance(tx, dict) and is_well_formed(tx) else ("?", "?", 0)
        if reason != "hash":
            self.result.forks.append(d)
        logger.warning("transaction quarantined (%s): site %s seq %s", reason, d[1], d[2])
        self.raw.execute("INSERT OR IGNORE INTO sync_quarantine(tx_hash, scope, site, seq, reason, body, "
                         "received_hlc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (str(tx.get("tx_hash")) if isinstance(tx, dict) else "?", d[0], d[1], d[2], reason, body,
                          site.Clock.wall_ms() << site.COUNTER_BITS))

    def flush(self) -> None:
        self.log.flush()
        self.merger.flush()
        projection.project_rows(self.merger, sorted(self.touched))
        after: set[str] = set()
        for key in self.touched:
            after.update(_conflict_ids(self.merger, key))
        self.result.new_conflicts += sorted(after - self.before)
        self.raw.executemany("DELETE FROM sync_inbox WHERE scope = ? AND site = ? AND seq = ?", sorted(self.unparked))
        self.raw.executemany("INSERT OR IGNORE INTO sync_inbox(scope, site, seq, body, received_hlc) "
                             "VALUES (?, ?, ?, ?, ?)",
                             [(*d, dumps(tx), tx["hlc"]) for d, tx in sorted(self.parked.items())])
        self.unparked = set()
        if self.max_hlc:
            site.observe(self.raw, self.max_hlc)
        self.begin()


def _conflict_ids(merger: Merger, key: RowKey) -> list[str]:
    """``conflicts.row_conflict_ids``, skipped for the usual row that cannot hold a conflict: a value
    conflict needs two leaves of one field, a delete conflict a ``deleted_at`` leaf that is set."""
    row = merger.row(key)
    for col, leaves in row.items():
        if len(leaves) > 1 or (col == projection.DELETED and any(leaf.val is not None for leaf in leaves)):
            return conflicts.row_conflict_ids(merger, key)
    return []


def _refused(tx: Tx, scope: str) -> frozenset[int]:
    """Indexes of the changes of ``tx`` that field ownership refuses; the verdict is computed once per
    (table, column) and transaction, except where it depends on the value (``owner_structure_id``)."""
    structure = tx.get("structure")
    if structure is not None and type(structure) is not str:
        return frozenset(i for i, c in enumerate(tx["changes"]) if not _allowed(tx, scope, c))
    verdicts: dict[tuple[str, str], bool] = {}
    refused = []
    for i, change in enumerate(tx["changes"]):
        tbl, _pk, col, _val = change
        if type(tbl) is not str or type(col) is not str or col == "owner_structure_id":
            ok = _allowed(tx, scope, change)
        else:
            ok = verdicts.get((tbl, col))
            if ok is None:
                ok = verdicts[(tbl, col)] = _allowed(tx, scope, change)
        if not ok:
            refused.append(i)
    return frozenset(refused)


def _allowed(tx: Tx, scope: str, change: list[object]) -> bool:
    tbl, _pk, col, val = change
    if not isinstance(tbl, str) or not isinstance(col, str) or tbl not in capture.synced_tables():
        return isinstance(tbl, str) and isinstance(col, str) and may_write(tx.get("structure"), scope, tbl, col)
    if col not in capture.captured_columns(tbl):
        return False
    kind, parts = parse(scope)
    if kind == "structure" and col == "owner_structure_id" and val != parts[0]:
        return False
    return may_write(tx.get("structure"), scope, tbl, col)


def apply_raw(raw: sqlite3.Connection, txs: Iterable[Tx], *, batch_size: int = BATCH_SIZE, dry_run: bool = False,
              fault: FaultHook | None = None) -> ApplyResult:
    """Apply ``txs`` on a DBAPI connection that has no transaction open."""
    result = ApplyResult()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with capture.disabled(raw):
            _run(raw, txs, result, batch_size, dry_run, fault)
    finally:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raw.execute("PRAGMA foreign_keys=ON")
    return result


def _chunks(txs: Iterable[Tx], size: int) -> Iterator[list[Tx]]:
    chunk: list[Tx] = []
    for tx in txs:
        chunk.append(tx)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run(raw: sqlite3.Connection, txs: Iterable[Tx], result: ApplyResult, batch_size: int, dry_run: bool,
         fault: FaultHook | None) -> None:
    raw.execute("BEGIN IMMEDIATE")
    batch = _Batch(raw, result)
    count = 0
    for chunk in _chunks(txs, batch_size):
        batch.preload(chunk)
        for tx in chunk:
            batch.offer(tx)
            count += 1
            if fault:
                fault("offer")
            if count % batch_size == 0 and not dry_run:
                batch.flush()
                if fault:
                    fault("flush")
                raw.execute("COMMIT")
                raw.execute("BEGIN IMMEDIATE")
    batch.flush()
    if fault:
        fault("flush")
    result.parked = len(batch.newly_parked)
    result.waiting_for = {d[1] for d in batch.parked}
    raw.execute("ROLLBACK" if dry_run else "COMMIT")
