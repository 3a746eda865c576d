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
from typing import Any

from sqlalchemy import Connection

from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.sync import capture, mirror, projection, site
from ess_accompagnement.sync.codec import FORMAT, SCHEMA_VER, Change, Tx, driver, encode_val, tx_hash
from ess_accompagnement.sync.merge import LogWriter, Merger, load_vv
from ess_accompagnement.sync.scopes import may_write, row_scope

logger = logging.getLogger(__name__)


def seal(connection: Connection) -> list[Tx]:
    """Seal what the current transaction captured (call it just before COMMIT when using Core)."""
    return seal_raw(driver(connection))


def seal_raw(raw: sqlite3.Connection) -> list[Tx]:
    pending = raw.execute("SELECT tbl, pk, col, val FROM sync_pending ORDER BY id").fetchall()
    if not pending:
        return []
    path = db_file(raw)
    me = site.prepare_write(raw, path)
    groups = _group(raw, _collapse(pending))
    for scope, extra in mirror.mirrored(raw, groups).items():
        merged = {(c[0], c[1], c[2]): c for c in groups.get(scope, []) + extra}
        groups[scope] = list(merged.values())
    if me.structure_id is not None:
        _check_ownership(raw, me.structure_id, groups)
    merger, log = Merger(raw), LogWriter(raw)
    merger.preload(dict.fromkeys([(c[0], c[1]) for changes in groups.values() for c in changes]))
    author = _author(raw)
    txs = []
    for scope in sorted(groups):
        tx = _make_tx(raw, me, scope, groups[scope], author)
        log.record(tx, "local")
        merger.apply_tx(tx)
        txs.append(tx)
    log.flush()
    merger.flush()
    _refresh_deleted_rows(merger)
    raw.execute("DELETE FROM sync_pending")
    site.write_state(raw, path)
    logger.debug("sealed %d transaction(s), %d field change(s)", len(txs), len(pending))
    return txs


def db_file(raw: sqlite3.Connection) -> Any:
    from pathlib import Path

    name = raw.execute("PRAGMA database_list").fetchone()[2]
    return Path(name) if name else None


def _collapse(pending: list[tuple[str, str, str, Any]]) -> dict[tuple[str, str, str], Any]:
    """Last value per field (a field written twice in one transaction travels once), in the order of
    each field's last write."""
    latest: dict[tuple[str, str, str], Any] = {}
    for tbl, pk, col, val in reversed(pending):
        key = (tbl, pk, col)
        if key not in latest:
            latest[key] = val
    return dict(reversed(latest.items()))


def _group(raw: sqlite3.Connection, changes: dict[tuple[str, str, str], Any]) -> dict[str, list[Change]]:
    scopes: dict[tuple[str, str], str | None] = {}
    groups: dict[str, list[Change]] = {}
    moved = {(tbl, pk) for tbl, pk, col in changes if col in _SCOPE_COLUMNS}
    last: tuple[str, str] | None = None
    scope: str | None = None
    group: list[Change] = []
    for (tbl, pk, col), val in changes.items():
        if (tbl, pk) != last:  # changes come row by row: one scope lookup per row
            last = (tbl, pk)
            if last not in scopes:
                scopes[last] = _scope_of(raw, tbl, pk, last in moved)
            scope = scopes[last]
            if scope is not None:
                group = groups.setdefault(scope, [])
        if scope is None:
            logger.warning("change to an untracked row dropped (%s)", tbl)
            continue
        group.append((tbl, pk, col, val if type(val) in _PLAIN else encode_val(val)))
    return groups


_PLAIN = frozenset({str, int, float, type(None)})  # stored as they travel (encode_val is the identity)
_SCOPE_COLUMNS = frozenset({"owner_structure_id", "from_structure_id", "to_structure_id"})


def _scope_of(raw: sqlite3.Connection, tbl: str, pk: str, moved: bool) -> str | None:
    if tbl == "referral":
        row = raw.execute("SELECT owner_structure_id, from_structure_id, to_structure_id FROM referral "
                          "WHERE id = ?", (pk,)).fetchone()
    else:
        row = raw.execute(f'SELECT owner_structure_id FROM "{tbl}" WHERE id = ?', (pk,)).fetchone()
    scope = row_scope(tbl, *row) if row else None
    if scope is not None and not moved:
        return scope
    homes = [r[0] for r in raw.execute("SELECT DISTINCT scope FROM sync_fv WHERE tbl = ? AND pk = ? AND col = ?",
                                       (tbl, pk, "owner_structure_id" if tbl != "referral" else "to_structure_id"))
             if not (r[0].startswith("share:") and tbl != "referral")]
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


def _refresh_deleted_rows(merger: Merger) -> None:
    """Rows with a delete among their leaves: visibility may change after a local write."""
    keys = [key for key in merger.dirty
            if any(leaf.val is not None for leaf in merger.rows[key].get(projection.DELETED, []))]
    if keys:
        with capture.disabled(merger.raw):
            projection.project_rows(merger, keys)
