"""Sealing: captured field changes become transactions, in the same SQLite transaction, before COMMIT.

``seal`` groups ``sync_pending`` by scope (one transaction per scope: a transaction never spans scopes),
stamps each with the next seq of this site in that scope, the scope's applied version vector as deps,
an HLC, the author advisor and structure, the hash of the previous transaction of this site in the
scope and its own hash; it records them in the log, replaces the fields' leaves, bumps the version
vector and empties ``sync_pending``. On a copy bound to a structure, a change to a field that structure
does not own is refused (RuleError) and the whole use case rolls back.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.sync import capture, mirror, projection, site
from ess_accompagnement.sync.codec import FORMAT, SCHEMA_VER, Change, Tx, driver, encode_val, tx_hash
from ess_accompagnement.sync.merge import LogWriter, Merger, RowKey, load_vv, write_local
from ess_accompagnement.sync.scopes import may_write, row_scope

logger = logging.getLogger(__name__)


def seal(connection: Connection) -> list[Tx]:
    """Seal what the current transaction captured (call it just before COMMIT when using Core)."""
    return seal_raw(driver(connection))


def seal_raw(raw: sqlite3.Connection) -> list[Tx]:
    pending = raw.execute("SELECT id, tbl, pk, col, val FROM sync_pending ORDER BY id").fetchall()
    if not pending:
        return []
    path = db_file(raw)
    me = site.prepare_write(raw, path)
    changes = _collapse(pending)
    groups = _group(raw, changes)
    for scope, extra in mirror.mirrored(raw, groups).items():
        merged = {(c[0], c[1], c[2]): c for c in groups.get(scope, []) + extra}
        groups[scope] = list(merged.values())
    if me.structure_id is not None:
        _check_ownership(raw, me.structure_id, groups)
    author = _author(raw)
    txs = [_make_tx(raw, me, scope, groups[scope], author) for scope in sorted(groups)]
    log = LogWriter(raw)
    for tx in txs:
        log.record(tx, "local", pending=_pending_ids(tx, changes))
    log.flush()  # copies the captured values from sync_pending: empty it only now, but before the leaves,
    raw.execute("DELETE FROM sync_pending")  # whose new pages then reuse the freed ones (fewer pages written)
    _refresh_deleted_rows(*write_local(raw, txs, projection.DELETED))
    site.write_state(raw, path)
    logger.debug("sealed %d transaction(s), %d field change(s)", len(txs), len(pending))
    return txs


def db_file(raw: sqlite3.Connection) -> Path | None:
    name = raw.execute("PRAGMA database_list").fetchone()[2]
    return _as_path(name) if name else None


@lru_cache(maxsize=16)
def _as_path(name: str) -> Path:
    return Path(name)


Field = tuple[str, str, str]  # (tbl, pk, col)
PendingRow = tuple[int, str, str, str, Any]  # (id, tbl, pk, col, val)


def _collapse(pending: list[PendingRow]) -> dict[Field, PendingRow]:
    """The last ``sync_pending`` row per field (a field written twice in one transaction travels once), in
    the order of each field's last write (a rewritten field is moved to the end)."""
    latest: dict[Field, PendingRow] = {}
    drop = latest.pop
    for row in pending:
        key = row[1:4]
        drop(key, None)
        latest[key] = row
    return latest


def _pending_ids(tx: Tx, latest: dict[Field, PendingRow]) -> list[int] | None:
    """The ``sync_pending`` row of each change of ``tx``, when every value sent is the very value captured
    (not one re-read by a mirror snapshot, nor an encoded one): the log then copies those rows in SQL."""
    ids = []
    for tbl, pk, col, val in tx["changes"]:
        row = latest.get((tbl, pk, col))
        if row is None or row[4] is not val:
            return None
        ids.append(row[0])
    return ids


def _group(raw: sqlite3.Connection, changes: dict[Field, PendingRow]) -> dict[str, list[Change]]:
    rows: dict[RowKey, bool] = {}  # touched rows -> one of their scope columns is written (a possible move)
    last_tbl, last_pk = None, None
    for tbl, pk, col in changes:
        if pk != last_pk or tbl != last_tbl:  # changes come row by row
            last_tbl, last_pk = tbl, pk
            rows.setdefault((tbl, pk), False)
        if col in _SCOPE_COLUMNS:
            rows[(tbl, pk)] = True
    scopes = _row_scopes(raw, rows)
    homes = _homes(raw, [key for key, moved in rows.items() if moved or scopes.get(key) is None])
    groups: dict[str, list[Change]] = {}
    last_tbl, last_pk = None, None
    scope: str | None = None
    group: list[Change] = []
    for (tbl, pk, col), (_id, _tbl, _pk, _col, val) in changes.items():
        if pk != last_pk or tbl != last_tbl:  # changes come row by row: one scope check per row
            last_tbl, last_pk = tbl, pk
            key = (tbl, pk)
            scope = _scope_of(scopes.get(key), homes.get(key, ()), rows[key])
            if scope is not None:
                group = groups.setdefault(scope, [])
        if scope is None:
            logger.warning("change to an untracked row dropped (%s)", tbl)
            continue
        group.append((tbl, pk, col, val if type(val) in _PLAIN else encode_val(val)))
    return groups


_PLAIN = frozenset({str, int, float, type(None)})  # stored as they travel (encode_val is the identity)
_SCOPE_COLUMNS = frozenset({"owner_structure_id", "from_structure_id", "to_structure_id"})
_OWNER_COLUMNS = {"referral": "owner_structure_id, from_structure_id, to_structure_id"}  # what row_scope reads


def _row_scopes(raw: sqlite3.Connection, rows: Iterable[RowKey]) -> dict[RowKey, str | None]:
    """The scope each existing row's own columns give (rows not found are absent): one query per table and
    500 rows."""
    by_table: dict[str, list[str]] = {}
    for tbl, pk in rows:
        by_table.setdefault(tbl, []).append(pk)
    found: dict[RowKey, str | None] = {}
    for tbl, pks in by_table.items():
        columns = _OWNER_COLUMNS.get(tbl, "owner_structure_id")
        for start in range(0, len(pks), 500):
            chunk = pks[start:start + 500]
            for pk, *owners in raw.execute(f'SELECT id, {columns} FROM "{tbl}" WHERE id IN '
                                           f'({",".join("?" * len(chunk))})', chunk):
                found[(tbl, pk)] = row_scope(tbl, *owners)
    return found


def _homes(raw: sqlite3.Connection, rows: list[RowKey]) -> dict[RowKey, list[str]]:
    """The scopes the leaves of each row's owner column are in (shares excluded, but for referrals): one
    query per table and 500 rows."""
    by_table: dict[str, list[str]] = {}
    for tbl, pk in rows:
        by_table.setdefault(tbl, []).append(pk)
    found: dict[RowKey, set[str]] = {}
    for tbl, pks in by_table.items():
        col = "owner_structure_id" if tbl != "referral" else "to_structure_id"
        for start in range(0, len(pks), 500):
            chunk = pks[start:start + 500]
            for pk, scope in raw.execute(f"SELECT pk, scope FROM sync_fv WHERE tbl = ? AND col = ? AND pk IN "
                                         f"({','.join('?' * len(chunk))})", (tbl, col, *chunk)):
                if not (scope.startswith("share:") and tbl != "referral"):
                    found.setdefault((tbl, pk), set()).add(scope)
    return {key: sorted(scopes) for key, scopes in found.items()}


def _scope_of(scope: str | None, homes: Sequence[str], moved: bool) -> str | None:
    """The scope of a written row: its own (``scope``, None when the row is gone), checked against the home
    its leaves record (``homes``) when one of its scope columns is written."""
    if scope is not None and not moved:
        return scope
    if scope is None:
        return homes[0] if homes else None
    if homes and scope not in homes:
        raise RuleError("Un enregistrement ne peut pas changer de structure propriétaire.", field="structure")
    return scope


def _check_ownership(raw: sqlite3.Connection, structure_id: str, groups: dict[str, list[Change]]) -> None:
    """Refuse writes to fields this copy's structure does not own. The empty initial value of a field
    owned by the other side (a new referral's answer fields) is simply not sent."""
    allowed: dict[tuple[str, str, str], bool] = {}  # may_write is pure: once per (scope, table, column)
    for scope, changes in groups.items():
        if all([may_write(structure_id, scope, tbl, col) for tbl, col in {(c[0], c[2]) for c in changes}]):
            continue  # the usual case: every field written is owned, nothing to filter
        kept = []
        for change in changes:
            tbl, pk, col, val = change
            ok = allowed.get((scope, tbl, col))
            if ok is None:
                ok = allowed[(scope, tbl, col)] = may_write(structure_id, scope, tbl, col)
            if ok:
                kept.append(change)
            elif val is None and raw.execute("SELECT 1 FROM sync_fv WHERE tbl = ? AND pk = ? AND col = ? LIMIT 1",
                                             (tbl, pk, col)).fetchone() is None:
                continue
            else:
                logger.info("local write refused: %s.%s in %s", tbl, col, scope)
                raise RuleError("Cette donnée appartient à une autre structure : votre copie ne peut pas la "
                                "modifier.", field=col)
        groups[scope] = kept


def _author(raw: sqlite3.Connection) -> str | None:
    row = raw.execute("SELECT value FROM local_setting WHERE key = 'owner_advisor_id'").fetchone()
    try:
        return uuid.UUID(row[0]).hex if row else None
    except ValueError:
        return None


def _make_tx(raw: sqlite3.Connection, me: site.Site, scope: str, changes: list[Change], author: str | None) -> Tx:
    vv = load_vv(raw, scope)
    seq = vv.get(me.site_id, 0) + 1
    prev = raw.execute("SELECT tx_hash FROM sync_tx WHERE scope = ? AND site = ? AND seq = ?",
                       (scope, me.site_id, seq - 1)).fetchone()
    tx: Tx = {
        "v": FORMAT, "scope": scope, "site": me.site_id, "seq": seq, "hlc": site.tick(raw),
        "deps": {s: n for s, n in sorted(vv.items()) if n > 0}, "author": author,
        "structure": me.structure_id,
        "schema": SCHEMA_VER, "prev_hash": prev[0] if prev else None, "changes": [list(c) for c in changes],
    }
    tx["tx_hash"] = tx_hash(tx)
    return tx


def _refresh_deleted_rows(merger: Merger, touched: list[RowKey]) -> None:
    """Rows with a delete among their leaves: visibility may change after a local write."""
    keys = [key for key in touched
            if any(leaf.val is not None for leaf in merger.rows[key].get(projection.DELETED, []))]
    if keys:
        with capture.disabled(merger.raw):
            projection.project_rows(merger, keys)
