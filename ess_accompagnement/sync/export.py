"""The export side: transactions a recipient may lack, receipts, peers, the bundle ledger, preview.

Transactions are yielded as dicts (codec.py) in local apply order, which is a linear extension of
causality (this copy only ever applied a transaction after its dependencies), filtered to the scopes the
recipient's structure may see. The bundle layer streams them; nothing here holds them all in memory.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection

from ess_accompagnement.sync import apply, site
from ess_accompagnement.sync.codec import FORMAT, Tx, driver, encode_val
from ess_accompagnement.sync.scopes import scope_visible

VersionVector = dict[str, dict[str, int]]  # scope -> site -> highest seq

_EXPORT_SQL = """
SELECT t.scope, t.site, t.seq, t.hlc, t.deps, t.author, t.structure, t.schema_ver, t.prev_hash, t.tx_hash,
       c.tbl, c.pk, c.col, c.val
FROM sync_tx t JOIN sync_change c ON c.scope = t.scope AND c.site = t.site AND c.seq = t.seq
WHERE t.hlc >= ? ORDER BY t.ord, c.idx
"""


def export_transactions(connection: Connection, *, structure_id: str | None, known: VersionVector | None = None,
                        since_hlc: int = 0, every_scope: bool = False) -> Iterator[Tx]:
    """Transactions for a copy bound to ``structure_id`` that it lacks according to ``known`` (its
    receipt), or stamped at or after ``since_hlc``, or everything visible (both omitted).
    ``every_scope`` lifts the visibility filter (local tools, tests, the future hub)."""
    known = known or {}
    current: Tx | None = None
    for row in driver(connection).execute(_EXPORT_SQL, (since_hlc,)):
        scope, site_id, seq = row[0], row[1], row[2]
        if current is not None and (current["scope"], current["site"], current["seq"]) == (scope, site_id, seq):
            current["changes"].append([row[10], row[11], row[12], encode_val(row[13])])
            continue
        if current is not None:
            yield current
            current = None
        if not (every_scope or scope_visible(scope, structure_id)) or known.get(scope, {}).get(site_id, 0) >= seq:
            continue
        current = {"v": FORMAT, "scope": scope, "site": site_id, "seq": seq, "hlc": row[3],
                   "deps": json.loads(row[4]), "author": row[5], "structure": row[6], "schema": row[7],
                   "prev_hash": row[8], "changes": [[row[10], row[11], row[12], encode_val(row[13])]],
                   "tx_hash": row[9]}
    if current is not None:
        yield current


def since_hlc(when_ms: int) -> int:
    """The HLC of a wall-clock instant (milliseconds since the epoch), for ``export_transactions``."""
    return when_ms << site.COUNTER_BITS


def receipt(connection: Connection, structure_id: str | None = None) -> VersionVector:
    """This copy's applied version vector per scope (optionally only the scopes ``structure_id`` sees)."""
    vv: VersionVector = {}
    for scope, site_id, seq in driver(connection).execute("SELECT scope, site, seq FROM sync_vv ORDER BY 1, 2"):
        if structure_id is None or scope_visible(scope, structure_id):
            vv.setdefault(scope, {})[site_id] = seq
    return vv


def record_receipt(connection: Connection, peer_site: str, vv: VersionVector, structure_id: str | None) -> None:
    """Remember what a peer has (from its receipt bundle); merged with what we knew (max per entry)."""
    raw = driver(connection)
    merged = peer_known(connection, peer_site)
    for scope, sites in vv.items():
        for site_id, seq in sites.items():
            merged.setdefault(scope, {})[site_id] = max(seq, merged.get(scope, {}).get(site_id, 0))
    raw.execute("INSERT OR REPLACE INTO sync_peer(site, structure_id, vv, last_seen_hlc) VALUES (?, ?, ?, ?)",
                (peer_site, structure_id, json.dumps(merged, sort_keys=True), site.tick(raw)))


def peer_known(connection: Connection, peer_site: str) -> VersionVector:
    row = driver(connection).execute("SELECT vv FROM sync_peer WHERE site = ?", (peer_site,)).fetchone()
    return json.loads(row[0]) if row else {}


def peers(connection: Connection) -> list[dict[str, Any]]:
    """Every peer we heard of: site, structure, version vector, last seen HLC."""
    return [{"site": r[0], "structure_id": r[1], "vv": json.loads(r[2]), "last_seen_hlc": r[3]}
            for r in driver(connection).execute("SELECT site, structure_id, vv, last_seen_hlc FROM sync_peer "
                                                "ORDER BY site")]


def record_bundle(connection: Connection, bundle_id: str, sha256: str, *, source_site: str | None,
                  direction: str, result: dict[str, Any]) -> None:
    """Ledger of bundles in (``direction="in"``) and out (``"out"``)."""
    raw = driver(connection)
    raw.execute("INSERT OR REPLACE INTO sync_bundle(bundle_id, sha256, source_site, direction, at_hlc, result) "
                "VALUES (?, ?, ?, ?, ?, ?)", (bundle_id, sha256, source_site, direction, site.tick(raw),
                                              json.dumps(result, sort_keys=True, default=str)))


def bundles(connection: Connection) -> list[dict[str, Any]]:
    return [{"bundle_id": r[0], "sha256": r[1], "source_site": r[2], "direction": r[3], "at_hlc": r[4],
             "result": json.loads(r[5])}
            for r in driver(connection).execute("SELECT bundle_id, sha256, source_site, direction, at_hlc, result "
                                                "FROM sync_bundle ORDER BY at_hlc DESC")]


def preview_raw(raw: sqlite3.Connection, txs: Iterable[Tx]) -> apply.ApplyResult:
    """What applying ``txs`` would do (new, known, waiting, expected conflicts), rolled back: no write."""
    return apply.apply_raw(raw, txs, dry_run=True, batch_size=10**12)
