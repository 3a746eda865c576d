"""Projection: the domain tables show, for each field, the displayed winner of its leaves.

- When a field has leaves in several scopes (a project mirrored into a referral share), the copy
  projects the leaves of its first scope by :func:`scopes.scope_rank` (home scope before shares).
- Deletes: ``deleted_at`` is a field like any other, but a row whose winning ``deleted_at`` is set stays
  visible (``deleted_at`` projected NULL) while some leaf of another field was not seen by any of the
  delete's leaves: an edit concurrent with a delete keeps the record and shows a conflict. A delete that
  saw every edit wins; a stale edit the deleter had seen never resurrects the row.
- Derived columns (sort keys) are recomputed here, since they never travel.
- Rows unknown here are inserted from their leaves; NOT NULL columns without a leaf get a neutral value.
- Only the fields this copy knows are projected (:func:`known_columns`): the leaves of a column or table
  added by a newer schema are kept in ``sync_fv`` and projected by ``apply.upgrade_fields`` once the copy
  has been migrated (see docs/design/sync.md, schema versions).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from sqlalchemy import Boolean, Column, Integer, Numeric, String, Text

from ess_accompagnement.domain.text import sort_key
from ess_accompagnement.sync import capture
from ess_accompagnement.sync.merge import Leaf, Merger, RowKey, winner
from ess_accompagnement.sync.scopes import NO_CONFLICT_COLUMNS, scope_rank

DELETED = "deleted_at"

DERIVERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "structure": lambda r: {"sort_key": sort_key(r.get("name") or "")},
    "dispositif": lambda r: {"sort_key": sort_key(r.get("name") or "")},
    "advisor": lambda r: {"sort_key": sort_key(r.get("name") or "")},
    "project": lambda r: {"sort_key": sort_key(r.get("title") or "")},
    "person": lambda r: {"sort_key": sort_key(f"{r.get('last_name') or ''} {r.get('first_name') or ''}")},
}
DERIVED_SOURCES = {"structure": {"name"}, "dispositif": {"name"}, "advisor": {"name"}, "project": {"title"},
                   "person": {"first_name", "last_name"}}


def preferred(leaves: list[Leaf], structure_id: str | None = None) -> list[Leaf]:
    """The leaves of the scope this copy (bound to ``structure_id``) projects for one field."""
    if len(leaves) < 2:
        return leaves
    first = min(scope_rank(leaf.scope, structure_id) for leaf in leaves)
    return [leaf for leaf in leaves if scope_rank(leaf.scope, structure_id) == first]


def resurrecting(merger: Merger, row: dict[str, list[Leaf]]) -> list[tuple[str, Leaf]]:
    """Leaves of other fields that no delete leaf had seen (empty when the row is not deleted)."""
    deleted = preferred(row.get(DELETED, []), merger.structure_id)
    if not deleted or winner(deleted).val is None:
        return []
    deletes = [leaf for leaf in deleted if leaf.val is not None]
    return [(col, leaf) for col, leaves in row.items() if col != DELETED and col not in NO_CONFLICT_COLUMNS
            for leaf in preferred(leaves, merger.structure_id) if not any(merger.saw(d, leaf) for d in deletes)]


def projected(merger: Merger, row: dict[str, list[Leaf]]) -> dict[str, Any]:
    values = {col: leaves[0].val if len(leaves) == 1 else winner(preferred(leaves, merger.structure_id)).val
              for col, leaves in row.items() if leaves}
    if values.get(DELETED) is not None and resurrecting(merger, row):
        values[DELETED] = None
    return values


def _fallback(column: Column[Any]) -> Any:
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        arg = default.arg  # type: ignore[attr-defined]
        return getattr(arg, "value", arg)
    enums = getattr(column.type, "enums", None)
    if enums:
        return enums[0]
    if isinstance(column.type, Boolean | Integer | Numeric):
        return 0
    if isinstance(column.type, String | Text):
        return ""
    return "1970-01-01 00:00:00.000000"


def _current(raw: sqlite3.Connection, table: str, pks: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(pks), 500):
        chunk = pks[start:start + 500]
        cursor = raw.execute(f'SELECT * FROM "{table}" WHERE id IN ({",".join("?" * len(chunk))})', chunk)
        names = [d[0] for d in cursor.description]
        for values in cursor:
            record = dict(zip(names, values, strict=True))
            found[record["id"]] = record
    return found


def project_rows(merger: Merger, keys: Iterable[RowKey]) -> None:
    """Write the projected values of ``keys`` into the domain tables (capture must be off)."""
    by_table: dict[str, list[str]] = {}
    for tbl, pk in keys:
        by_table.setdefault(tbl, []).append(pk)
    for tbl, pks in sorted(by_table.items()):
        columns = known_columns(merger.raw, tbl)
        if not columns:
            continue  # a table this copy does not know: leaves kept, projected after an upgrade
        current = _current(merger.raw, tbl, pks)
        # One statement per row (every changed column at once), run by executemany per column set.
        updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        inserts: dict[tuple[str, ...], list[list[Any]]] = {}
        for pk in pks:
            row = merger.row((tbl, pk))
            values = {c: v for c, v in projected(merger, row).items() if c in columns}
            if pk in current:
                _collect_update(tbl, pk, current[pk], values, updates)
            else:
                _collect_insert(tbl, pk, values, inserts, columns)
        for cols, records in inserts.items():
            names = ", ".join(f'"{c}"' for c in cols)
            merger.raw.executemany(f'INSERT INTO "{tbl}" ({names}) VALUES ({",".join("?" * len(cols))})', records)
        for cols, params in updates.items():
            sets = ", ".join(f'"{c}" = ?' for c in cols)
            merger.raw.executemany(f'UPDATE "{tbl}" SET {sets} WHERE id = ?', params)


def known_columns(raw: sqlite3.Connection, tbl: str) -> frozenset[str]:
    """The columns of ``tbl`` this copy projects: the model's columns that exist in its database. Once
    migrated that is every model column; a copy still on an older schema (simulated by tests) has fewer,
    and an unknown table none."""
    names = _column_names(tbl)
    if not names:
        return names
    present = {row[1] for row in raw.execute(f'PRAGMA table_info("{tbl}")')}
    return names if present >= names else names & present


def _column_names(tbl: str) -> frozenset[str]:
    return _columns_by_table().get(tbl, frozenset())


@cache
def _columns_by_table() -> dict[str, frozenset[str]]:
    return {name: frozenset(column.name for column in table.columns) for name, table in capture.synced_tables().items()}


def _collect_update(tbl: str, pk: str, row: dict[str, Any], values: dict[str, Any],
                    updates: dict[tuple[str, ...], list[tuple[Any, ...]]]) -> None:
    changed = {c: v for c, v in values.items() if row.get(c) != v or type(row.get(c)) is not type(v)}
    if not changed:
        return
    if tbl in DERIVERS and DERIVED_SOURCES[tbl] & changed.keys():
        changed.update(DERIVERS[tbl]({**row, **changed}))
    cols = tuple(sorted(changed))
    updates.setdefault(cols, []).append((*(changed[c] for c in cols), pk))


def _collect_insert(tbl: str, pk: str, values: dict[str, Any], inserts: dict[tuple[str, ...], list[list[Any]]],
                    columns: frozenset[str]) -> None:
    record: dict[str, Any] = {"id": pk, **values}
    for name, fallback in _fallbacks(tbl):
        if name not in record and name in columns:
            record[name] = fallback
    if tbl in DERIVERS:
        record.update(DERIVERS[tbl](record))
    cols = tuple(sorted(record))
    inserts.setdefault(cols, []).append([record[c] for c in cols])


@cache
def _fallbacks(tbl: str) -> tuple[tuple[str, Any], ...]:
    """The neutral value of each NOT NULL, non-derived column of ``tbl`` (for rows inserted from leaves)."""
    return tuple((column.name, _fallback(column)) for column in capture.synced_tables()[tbl].columns
                 if not column.nullable and not column.info.get("derived"))
