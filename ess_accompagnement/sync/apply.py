"""Applying remote transactions (bundle import now, hub pull later): one code path.

For each transaction, in the given order: malformed or bad hash → quarantined; dot already applied →
duplicate (same hash) or fork (different hash → quarantined, reported); dependencies missing → parked in
``sync_inbox`` and retried after every apply; otherwise applied: field ownership filter (refused changes
stay in the log, flagged, never merged), log, leaves, version vector. Batches run in one
``BEGIN IMMEDIATE`` transaction with capture off and foreign keys off (a reference to another scope may
arrive later), then the touched rows are projected (the derived-table triggers fire on those writes).
A crash rolls back the current batch; re-running resumes (idempotent).

Schema versions (docs/design/sync.md): a transaction stamped with a newer *major* schema is parked like
one whose dependencies are missing (kept in ``sync_inbox``, counted in ``needs_update``) and applied by the
first run after the app is updated; older majors are applied. Within a major, changes to columns or tables
this copy does not know are logged and kept as leaves but not projected; every run first checks whether
the copy now knows more fields than at the previous run (a migration added them) and, if so, rebuilds
those fields' leaves from the log and projects them (:func:`upgrade_fields`), with capture off.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

from ess_accompagnement.sync import capture, codec, conflicts, projection, site
from ess_accompagnement.sync.codec import Tx, dot, dumps, is_well_formed, verify_hash
from ess_accompagnement.sync.merge import Dot, Leaf, LogWriter, Merger, RowKey, load_vv, supersedes
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
    needs_update: int = 0  # of ``parked``: transactions of a newer major schema (« mettez à jour l'application »)
    upgraded_rows: int = 0  # rows whose newly known fields were projected from kept leaves (upgrade_fields)


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
        if not compatible(tx):
            return False
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

    def resume(self) -> None:
        """Apply what the inbox holds that became applicable (after an update of the app, or a crash)."""
        for scope in sorted({d[0] for d in self.parked}):
            self.drain(scope)

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
    """Field ownership of one change. A column or table this copy does not know (a newer schema) is judged
    by the same rule as any other (leaves kept, not projected); keys and derived columns never travel."""
    tbl, _pk, col, val = change
    if not isinstance(tbl, str) or not isinstance(col, str) or col == "id" or col in _never_sent(tbl):
        return False
    kind, parts = parse(scope)
    if kind == "structure" and col == "owner_structure_id" and val != parts[0]:
        return False
    return may_write(tx.get("structure"), scope, tbl, col)


def _never_sent(tbl: str) -> frozenset[str]:
    """The columns of a known table that never travel: its key and its derived (recomputed) columns."""
    return _never_sent_by_table().get(tbl, frozenset())


@cache
def _never_sent_by_table() -> dict[str, frozenset[str]]:
    return {name: frozenset(column.name for column in table.columns) - set(capture.captured_columns(name))
            for name, table in capture.synced_tables().items()}


# ---- Schema versions


def schema_major(stamp: object) -> int | None:
    """The major version of a transaction's ``schema`` stamp (codec.SCHEMA_MAJOR_STEP); None if invalid."""
    if type(stamp) is not int or stamp < 0:
        return None
    return stamp // codec.SCHEMA_MAJOR_STEP + 1


def compatible(tx: Tx) -> bool:
    """Can this version of the app apply ``tx``? Newer majors (or an unreadable stamp) wait for an update;
    older ones are applied (a major version must keep applying the history written before it)."""
    major = schema_major(tx.get("schema", 0))
    return major is not None and major <= codec.SCHEMA_MAJOR


def awaiting_update(raw: sqlite3.Connection) -> int:
    """Transactions kept in the inbox until the app is updated (stamped with a newer major schema)."""
    return sum(1 for (body,) in raw.execute("SELECT body FROM sync_inbox") if not compatible(json.loads(body)))


KNOWN_FIELDS_KEY = "sync_known_fields"
"""``local_setting``: the fields (table, column) this copy projected at its previous apply run."""


def known_fields(raw: sqlite3.Connection) -> set[tuple[str, str]]:
    """The synced fields this copy projects: the models' captured columns that exist in its database."""
    found = set()
    for tbl in capture.synced_tables():
        present = projection.known_columns(raw, tbl)
        found.update((tbl, col) for col in capture.captured_columns(tbl) if col in present)
    return found


def upgrade_fields(raw: sqlite3.Connection) -> int:
    """Project the fields this copy knows since its previous run (a migration added them): their leaves are
    rebuilt from the log under the current ownership rules, then projected. Nothing is captured, so no
    change is emitted. Runs in the caller's transaction (capture off, foreign keys off); returns the
    number of rows projected. On the first run of a database, fields refused by older code as unknown
    (``sync_change.refused``) are recovered the same way."""
    now = known_fields(raw)
    row = raw.execute("SELECT value FROM local_setting WHERE key = ?", (KNOWN_FIELDS_KEY,)).fetchone()
    before = {(tbl, col) for tbl, col in json.loads(row[0])} if row is not None else None
    if before == now:
        return 0
    raw.execute("INSERT OR REPLACE INTO local_setting(key, value) VALUES (?, ?)",
                (KNOWN_FIELDS_KEY, json.dumps(sorted(now))))
    new = now - before if before is not None else now & _refused_fields(raw)
    if not new:
        return 0
    keys = sorted(_rebuild_leaves(raw, new))
    merger = Merger(raw)
    merger.preload(keys)
    projection.project_rows(merger, keys)
    logger.info("schema upgrade: %d new field(s), %d row(s) projected from stored leaves", len(new), len(keys))
    return len(keys)


def _refused_fields(raw: sqlite3.Connection) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in raw.execute("SELECT DISTINCT tbl, col FROM sync_change WHERE refused = 1")}


_LOG_SQL = """
SELECT c.tbl, c.pk, c.col, c.scope, c.site, c.seq, c.idx, c.val, c.refused, t.hlc, t.deps, t.structure, t.origin
FROM sync_change c JOIN sync_tx t ON t.scope = c.scope AND t.site = c.site AND t.seq = c.seq
WHERE (c.tbl, c.col) IN (VALUES {pairs}) ORDER BY c.tbl, c.pk, c.col, c.scope, c.seq, c.site, c.idx
"""


def _rebuild_leaves(raw: sqlite3.Connection, fields: set[tuple[str, str]]) -> set[RowKey]:
    """Replace the leaves of ``fields`` by those computed from the whole log (every version no other version
    of the same field and scope had seen), re-judging field ownership of remote changes."""
    pairs = sorted(fields)
    sql = _LOG_SQL.format(pairs=", ".join(["(?, ?)"] * len(pairs)))
    deps: dict[Dot, dict[str, int]] = {}
    flags: list[tuple[int, str, str, int, int]] = []
    groups: dict[tuple[str, str, str, str], dict[Dot, tuple[Leaf, dict[str, int]]]] = {}
    for tbl, pk, col, scope, site_id, seq, idx, val, refused, hlc, deps_json, structure, origin in raw.execute(
            sql, [x for pair in pairs for x in pair]):
        ok = origin == "local" or _allowed({"structure": structure}, scope, [tbl, pk, col, val])
        if ok == bool(refused):
            flags.append((0 if ok else 1, scope, site_id, seq, idx))
        d = (scope, site_id, seq)
        versions = groups.setdefault((tbl, pk, col, scope), {})
        if ok and d not in versions:  # a field written twice in one transaction: the first write counts
            if d not in deps:
                deps[d] = json.loads(deps_json)
            versions[d] = (Leaf(scope, site_id, seq, hlc, val), deps[d])
    raw.executemany("UPDATE sync_change SET refused = ? WHERE scope = ? AND site = ? AND seq = ? AND idx = ?", flags)
    raw.executemany("DELETE FROM sync_fv WHERE tbl = ? AND col = ?", pairs)
    raw.executemany("INSERT INTO sync_fv(tbl, pk, col, scope, site, seq, hlc, val) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(tbl, pk, col, *leaf) for (tbl, pk, col, _scope), versions in groups.items()
                     for leaf in _leaves(versions)])
    return {(tbl, pk) for tbl, pk, _col, _scope in groups}


def _leaves(versions: dict[Dot, tuple[Leaf, dict[str, int]]]) -> list[Leaf]:
    """The versions of one field and scope that no other version had seen (merge.supersedes)."""
    return [leaf for leaf, _ in versions.values()
            if not any(other is not leaf and supersedes(other.site, other.seq, other_deps, leaf)
                       for other, other_deps in versions.values())]


# ---- Running


def resume_raw(raw: sqlite3.Connection) -> ApplyResult:
    """Finish a schema upgrade and apply parked transactions that became applicable (nothing new offered)."""
    return apply_raw(raw, [])


def apply_raw(raw: sqlite3.Connection, txs: Iterable[Tx], *, batch_size: int = BATCH_SIZE, dry_run: bool = False,
              fault: FaultHook | None = None) -> ApplyResult:
    """Apply ``txs`` on a DBAPI connection that has no transaction open (after finishing a pending schema
    upgrade and resuming what the inbox holds that became applicable)."""
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
    result.upgraded_rows = upgrade_fields(raw)
    batch = _Batch(raw, result)
    batch.resume()
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
    result.needs_update = sum(1 for d in batch.newly_parked if not compatible(batch.parked[d]))
    result.waiting_for = {d[1] for d, tx in batch.parked.items() if compatible(tx)}
    raw.execute("ROLLBACK" if dry_run else "COMMIT")
