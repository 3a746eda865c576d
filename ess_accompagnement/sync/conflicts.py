"""Open conflicts: derived from the leaves, never replicated; resolved by an ordinary local write.

A field has an open conflict when the leaves this copy projects hold more than one distinct value
(concurrent writes of the same value are not a conflict; ``created_at``/``updated_at`` never conflict).
A row has a delete conflict (« supprimé par / modifié par ») while its winning ``deleted_at`` is set
but some edit was concurrent with the delete (see projection.py). Conflict ids are deterministic:
SHA-256 of table, key, field and the sorted dots of the leaves, so every copy holding the same
transactions lists the same conflicts under the same ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ess_accompagnement.domain.errors import NotFoundError
from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import projection
from ess_accompagnement.sync.codec import driver
from ess_accompagnement.sync.merge import Leaf, Merger, RowKey, winner
from ess_accompagnement.sync.scopes import NO_CONFLICT_COLUMNS

logger = logging.getLogger(__name__)

DELETE_FIELD = "deleted_at"


@dataclass(frozen=True)
class ConflictLeaf:
    """One of the competing values: its value as stored, and who wrote it when."""

    field: str
    value: Any
    site: str
    seq: int
    structure: str | None
    author: str | None
    hlc: int
    at: dt.datetime
    winner: bool


@dataclass(frozen=True)
class ConflictRow:
    """An open conflict. ``kind`` is ``"value"`` (same field) or ``"delete"`` (deleted by / edited by)."""

    id: str
    kind: str
    table: str
    row_id: str
    field: str
    leaves: tuple[ConflictLeaf, ...]


def conflict_id(tbl: str, pk: str, col: str, leaves: list[Leaf]) -> str:
    dots = sorted(f"{leaf.scope}/{leaf.site}/{leaf.seq}" for leaf in leaves)
    return hashlib.sha256("|".join([tbl, pk, col, *dots]).encode()).hexdigest()[:24]


def _value_conflicts(row: dict[str, list[Leaf]], structure_id: str | None) -> list[tuple[str, list[Leaf]]]:
    found = []
    for col, leaves in sorted(row.items()):
        shown = projection.preferred(leaves, structure_id)
        if col not in NO_CONFLICT_COLUMNS and len({repr(leaf.val) for leaf in shown}) > 1:
            found.append((col, shown))
    return found


def row_conflicts(merger: Merger, key: RowKey) -> list[tuple[str, str, list[tuple[str, Leaf]]]]:
    """(id, kind, [(field, leaf)]) for every open conflict of one row."""
    row = merger.row(key)
    found = [(conflict_id(*key, col, leaves), "value", [(col, leaf) for leaf in leaves])
             for col, leaves in _value_conflicts(row, merger.structure_id)]
    edits = projection.resurrecting(merger, row)
    if edits:
        deletes = [leaf for leaf in projection.preferred(row[DELETE_FIELD], merger.structure_id)
                   if leaf.val is not None]
        pairs = [(DELETE_FIELD, leaf) for leaf in deletes] + edits
        found.append((conflict_id(*key, "#delete", [leaf for _, leaf in pairs]), "delete", pairs))
    return found


def row_conflict_ids(merger: Merger, key: RowKey) -> list[str]:
    return [cid for cid, _, _ in row_conflicts(merger, key)]


def _candidate_rows(session: Session) -> list[RowKey]:
    rows = session.execute(text(
        "SELECT DISTINCT tbl, pk FROM (SELECT tbl, pk, col FROM sync_fv GROUP BY tbl, pk, col HAVING count(*) > 1 "
        "UNION ALL SELECT tbl, pk, col FROM sync_fv WHERE col = 'deleted_at' AND val IS NOT NULL)")).all()
    return [(r[0], r[1]) for r in rows]


def list_conflicts(session: Session) -> list[ConflictRow]:
    """Every open conflict of this copy, ordered by table, row and field."""
    merger = Merger(driver(session.connection()))
    result = []
    for key in sorted(_candidate_rows(session)):
        for cid, kind, pairs in row_conflicts(merger, key):
            result.append(_conflict_row(session, key, cid, kind, pairs))
    return result


def _conflict_row(session: Session, key: RowKey, cid: str, kind: str,
                  pairs: list[tuple[str, Leaf]]) -> ConflictRow:
    shown = winner([leaf for col, leaf in pairs if col == pairs[0][0]])
    leaves = []
    for col, leaf in pairs:
        meta = session.execute(text("SELECT author, structure FROM sync_tx WHERE scope = :scope AND site = :site "
                                    "AND seq = :seq"), {"scope": leaf.scope, "site": leaf.site, "seq": leaf.seq}
                               ).first()
        leaves.append(ConflictLeaf(col, leaf.val, leaf.site, leaf.seq, meta[1] if meta else None,
                                   meta[0] if meta else None, leaf.hlc, _hlc_time(leaf.hlc), leaf == shown))
    return ConflictRow(cid, kind, key[0], key[1], DELETE_FIELD if kind == "delete" else pairs[0][0], tuple(leaves))


def _hlc_time(hlc: int) -> dt.datetime:
    return dt.datetime.fromtimestamp((hlc >> 16) / 1000, dt.UTC)


def resolve_conflict(db: Database, conflict_id: str, value: Any) -> None:
    """Close a conflict by writing ``value`` (stored form, e.g. one leaf's value or a merged text).

    For a delete conflict, ``None`` keeps the record (undelete) and any date keeps it deleted. The write
    is an ordinary captured change whose deps cover every leaf, so it closes the conflict everywhere.
    """
    with db.transaction() as session:
        found = next((c for c in list_conflicts(session) if c.id == conflict_id), None)
        if found is None:
            raise NotFoundError("Ce conflit n'existe pas ou a déjà été résolu.", field="conflit")
        write_field(session, found.table, found.row_id, found.field, value)
    logger.info("conflict %s resolved", conflict_id)


def write_field(session: Session, table: str, row_id: str, column: str, value: Any) -> None:
    """Write one field and make sure it is captured even when the projected value is already ``value``."""
    raw = driver(session.connection())
    raw.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE id = ?', (value, row_id))
    raw.execute("INSERT INTO sync_pending(tbl, pk, col, val) VALUES (?, ?, ?, ?)", (table, row_id, column, value))
