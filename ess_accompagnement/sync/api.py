"""The sync engine's public API: what the bundle layer, the command line and the desktop call.

Transactions travel as plain dicts (see codec.py). Typical flows::

    # export, for a colleague whose receipt we hold
    with db.read() as session:
        txs = export_transactions(session.connection(), structure_id=peer_structure,
                                  known=peer_known(session.connection(), peer_site))
    # import
    result = preview(db, txs)          # nothing written
    result = apply_transactions(db, txs)
    with db.transaction() as session:
        record_bundle(session.connection(), bundle_id, sha, source_site=..., direction="in", result={...})

Schema versions: transactions of a newer major schema are kept in the inbox (``result.needs_update``,
:func:`awaiting_update`; tell the user :data:`UPDATE_NEEDED_MESSAGE`) and applied by :func:`resume` (run after
opening, and by every apply) once the app has been updated.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import uuid
from collections.abc import Iterable, Iterator

from sqlalchemy import Connection

from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import apply, site
from ess_accompagnement.sync.apply import ApplyResult, FaultHook
from ess_accompagnement.sync.codec import SCHEMA_MAJOR, SCHEMA_VER, Tx, driver
from ess_accompagnement.sync.conflicts import ConflictLeaf, ConflictRow, list_conflicts, resolve_conflict
from ess_accompagnement.sync.export import (
    VersionVector,
    bundles,
    export_transactions,
    peer_known,
    peers,
    receipt,
    record_bundle,
    record_receipt,
    since_hlc,
)
from ess_accompagnement.sync.scopes import may_write, row_scope, scope_visible
from ess_accompagnement.sync.seal import seal

__all__ = [
    "SCHEMA_MAJOR", "SCHEMA_VER", "UPDATE_NEEDED_MESSAGE", "ApplyResult", "ConflictLeaf", "ConflictRow", "Tx",
    "VersionVector", "apply_transactions", "awaiting_update", "bind_structure", "bundles", "digest",
    "export_transactions", "list_conflicts", "may_write", "peer_known", "peers", "preview", "receipt",
    "record_bundle", "record_receipt", "resolve_conflict", "resume", "row_scope", "seal", "since_hlc",
    "scope_visible", "site_info", "visible_scopes",
]

UPDATE_NEEDED_MESSAGE = ("Des modifications reçues viennent d'une version plus récente de l'application : elles "
                         "sont conservées et seront intégrées automatiquement après la mise à jour. Mettez à jour "
                         "l'application.")
"""Shown when ``needs_update`` (preview, import) or :func:`awaiting_update` (status) is not zero."""


@contextlib.contextmanager
def _raw(db: Database) -> Iterator[sqlite3.Connection]:
    """A pooled DBAPI connection with no transaction open (apply manages BEGIN/COMMIT itself)."""
    fairy = db.engine.raw_connection()
    try:
        raw = fairy.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        yield raw
    finally:
        fairy.close()


def apply_transactions(db: Database, txs: Iterable[Tx], *, batch_size: int = apply.BATCH_SIZE,
                       fault: FaultHook | None = None) -> ApplyResult:
    """Apply remote transactions (any order, duplicates allowed); batches commit one by one."""
    with _raw(db) as raw:
        return apply.apply_raw(raw, txs, batch_size=batch_size, fault=fault)


def preview(db: Database, txs: Iterable[Tx]) -> ApplyResult:
    """What :func:`apply_transactions` would do — new, duplicates, waiting, expected conflicts — without
    writing anything (the same code runs in one transaction that is rolled back)."""
    with _raw(db) as raw:
        return apply.apply_raw(raw, txs, dry_run=True, batch_size=10**12)


def resume(db: Database) -> ApplyResult:
    """Finish a schema upgrade (project the fields a migration added from the leaves kept for them, emitting
    nothing) and apply the parked transactions that became applicable (a newer major once the app is
    updated). ``install.after_open`` runs it when a database is opened."""
    with _raw(db) as raw:
        return apply.resume_raw(raw)


def awaiting_update(connection: Connection) -> int:
    """How many received transactions wait for an update of the app (newer major schema)."""
    return apply.awaiting_update(driver(connection))


def site_info(connection: Connection) -> site.Site:
    """This copy's current site id, epoch and bound structure."""
    return site.current(driver(connection))


def bind_structure(connection: Connection, structure_id: uuid.UUID | str | None) -> None:
    """Bind this copy to a structure: its scopes, and the fields it may write (checked at sealing)."""
    value = structure_id.hex if isinstance(structure_id, uuid.UUID) else structure_id
    site.bind_structure(driver(connection), value)


def visible_scopes(connection: Connection, structure_id: str | None) -> list[str]:
    """The scopes known here that a copy bound to ``structure_id`` may receive."""
    rows = driver(connection).execute("SELECT DISTINCT scope FROM sync_vv ORDER BY scope").fetchall()
    return [r[0] for r in rows if scope_visible(r[0], structure_id)]


def digest(connection: Connection, scopes: Iterable[str] | None = None) -> str:
    """SHA-256 of this copy's sorted leaves (tombstones included) in ``scopes`` (default: all) and of
    the projected values of their fields: two copies that applied the same transactions agree."""
    raw = driver(connection)
    wanted = set(scopes) if scopes is not None else None
    h = hashlib.sha256()
    for row in raw.execute("SELECT tbl, pk, col, scope, site, seq, hlc, val FROM sync_fv ORDER BY 1, 2, 3, 4, 5, 6"):
        if wanted is None or row[3] in wanted:
            h.update(repr(row).encode())
    return h.hexdigest()
