"""The referred project's core record, mirrored by the sending structure into the referral's share scope.

When a referral from F to T is created, F's copy writes the project's core record (``scopes.MIRROR_COLUMNS``:
project, phase history, members, holders' names, and contacts the holders consented to share with partners)
into ``share:F:T``; later changes to those fields are mirrored there too, while the referral is *active*
(neither deleted nor cancelled: what was already shared stays, nothing more is sent; reactivating it sends
what changed meanwhile). T's copies project those leaves (they have no ``structure:F``); F's copies keep
projecting their home scope, the mirror being a second, equal register.

Onward referrals (relay). When T refers the project on to U, T's copy writes the core record *as T received
it* into ``share:T:U``: U has no ``share:F:T`` and must not (it holds the F→T referral). T's copies cannot
write the project itself (its home scope is ``structure:F``, refused at sealing); in ``share:T:U`` T is the
sender, so the mirror there is T's to write (``scopes.may_write``): T relays, it does not gain rights.

- Values: for rows T does not own, the winner of the leaves T holds outside its own sending scopes
  (``share:T:*``), i.e. what F (or whoever T received it from) wrote; never T's local values.
- Consent: the same rule as F→T, applied to the consent T received (a contact T never received cannot be
  relayed anyway).
- Who relays: only the copy that created the onward referral (its ``project_id`` leaf was written by one of
  this database's sites). Two copies relaying concurrently would write concurrent versions into
  ``share:T:U`` and could show U a false conflict; one relayer writes a causal sequence.
- When: :func:`relay` (exchange.py runs it after an import and before an export) compares, field by field,
  what the relayer received with what ``share:T:U`` holds and "touches" the onward referral (its
  ``project_id``, rewritten unchanged, a field only the sender writes) when they differ; the seal of that
  touch writes the differences (a field is rewritten when ``share:T:U`` does not hold exactly one leaf with
  the received value, which also closes a conflict there), then :func:`reproject` refreshes the rows.
  Diffs make it idempotent: relaying twice writes nothing the second time, and a relay lost in a crash is
  redone by the next one.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from ess_accompagnement.sync import capture, projection
from ess_accompagnement.sync.codec import Change, encode_val
from ess_accompagnement.sync.merge import Leaf, Merger, RowKey
from ess_accompagnement.sync.scopes import CONSENTED_CONTACT, MIRROR_COLUMNS, SHARING_CONSENTS, parse, share_scope

logger = logging.getLogger(__name__)

_ACTIVE = "r.deleted_at IS NULL AND r.cancelled_on IS NULL"  # a referral (alias r) still mirrored
_REACTIVATING = frozenset({"project_id", "deleted_at", "cancelled_on"})  # creation, undelete, un-cancel


def mirrored(raw: sqlite3.Connection, groups: dict[str, list[Change]]) -> dict[str, list[Change]]:
    """Extra changes to write into share scopes, for the changes about to be sealed."""
    extra: dict[str, list[Change]] = {}
    for scope, changes in groups.items():
        kind, parts = parse(scope)
        if kind == "share" and len(parts) == 2:
            _referral_changes(raw, scope, parts[0], changes, extra)
        elif kind == "structure":
            _follow(raw, parts[0], changes, extra)
    return extra


def _referral_changes(raw: sqlite3.Connection, scope: str, sender: str, changes: list[Change],
                      extra: dict[str, list[Change]]) -> None:
    """A referral written by its sender: (re)start the mirror when it is created or reactivated; let the
    relaying copy bring an onward referral's mirror up to date."""
    written: dict[str, set[str]] = {}
    for change in changes:
        if change[0] == "referral":
            written.setdefault(change[1], set()).add(change[2])
    if not written:
        return
    me = _bound_structure(raw)
    if me is not None and me != sender:
        return  # the receiver's answer: the mirror is the sender's to write
    for pk, cols in written.items():
        found = raw.execute(f"SELECT r.project_id, p.owner_structure_id FROM referral r JOIN project p ON "
                            f"p.id = r.project_id WHERE r.id = ? AND {_ACTIVE}", (pk,)).fetchone()
        if found is None:
            continue  # cancelled or deleted: nothing more is mirrored
        project_id, owner = found
        if cols & _REACTIVATING:
            extra.setdefault(scope, []).extend(mirror_changes(raw, project_id, scope, sender, leaves=me is not None))
        elif me is not None and owner != sender and _relays(raw, pk):
            extra.setdefault(scope, []).extend(mirror_changes(raw, project_id, scope, sender, leaves=True))


def _bound_structure(raw: sqlite3.Connection) -> str | None:
    row = raw.execute("SELECT structure_id FROM sync_site WHERE retired = 0").fetchone()
    return row[0] if row else None


def _relays(raw: sqlite3.Connection, referral_id: str) -> bool:
    """Was the referral created here (by one of this database's site ids)? That copy alone relays."""
    return raw.execute("SELECT 1 FROM sync_fv WHERE tbl = 'referral' AND pk = ? AND col = 'project_id' AND site IN "
                       "(SELECT site_id FROM sync_site) LIMIT 1", (referral_id,)).fetchone() is not None


def _follow(raw: sqlite3.Connection, owner: str, changes: list[Change], extra: dict[str, list[Change]]) -> None:
    candidates = [c for c in changes if c[0] in MIRROR_COLUMNS]
    if not candidates:
        return
    projects: dict[tuple[str, str], list[str]] = {}
    for change in candidates:
        if (change[0], change[1]) not in projects:
            projects[(change[0], change[1])] = _projects_of(raw, change[0], change[1])
    targets: dict[str, list[str]] = {}  # project -> structures it was referred to by ``owner``
    for project_id in dict.fromkeys(p for found in projects.values() for p in found):
        to_ids = [row[0] for row in raw.execute(
            f"SELECT DISTINCT r.to_structure_id FROM referral r WHERE r.project_id = ? AND {_ACTIVE} AND "
            "r.from_structure_id = ? AND r.to_structure_id != ?", (project_id, owner, owner))]
        if to_ids:
            targets[project_id] = to_ids
    if not targets:  # the usual case: nothing referred, no field to check
        return
    consents: dict[str, bool] = {}
    by_project: dict[str, list[Change]] = {}
    for change in candidates:
        followed = [p for p in projects[(change[0], change[1])] if p in targets]
        if followed and _shareable(raw, change[0], change[1], change[2], consents):
            for project_id in followed:
                by_project.setdefault(project_id, []).append(change)
    for project_id, project_changes in by_project.items():
        for to_id in targets[project_id]:
            extra.setdefault(share_scope(owner, to_id), []).extend(project_changes)


def _projects_of(raw: sqlite3.Connection, tbl: str, pk: str) -> list[str]:
    if tbl == "project":
        return [pk]
    if tbl == "person":
        sql = "SELECT DISTINCT project_id FROM project_member WHERE person_id = ?"
    else:
        sql = f'SELECT project_id FROM "{tbl}" WHERE id = ?'
    return [row[0] for row in raw.execute(sql, (pk,))]


def _shareable(raw: sqlite3.Connection, tbl: str, pk: str, col: str, consents: dict[str, bool]) -> bool:
    if col in MIRROR_COLUMNS[tbl]:
        return True
    if tbl == "person" and col in CONSENTED_CONTACT:
        if pk not in consents:
            row = raw.execute("SELECT consent_scope FROM person WHERE id = ?", (pk,)).fetchone()
            consents[pk] = bool(row) and row[0] in SHARING_CONSENTS
        return consents[pk]
    return False


def _rows(raw: sqlite3.Connection, tbl: str, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = raw.execute(f'SELECT * FROM "{tbl}" WHERE {where}', params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _core_rows(raw: sqlite3.Connection, project_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The rows of a project's core record, as this copy holds them."""
    members = _rows(raw, "project_member", "project_id = ?", (project_id,))
    records = [("project", r) for r in _rows(raw, "project", "id = ?", (project_id,))]
    records += [("phase_change", r) for r in _rows(raw, "phase_change", "project_id = ?", (project_id,))]
    records += [("project_member", r) for r in members]
    for person_id in dict.fromkeys(member["person_id"] for member in members):
        records += [("person", r) for r in _rows(raw, "person", "id = ?", (person_id,))]
    return records


def _columns(tbl: str, values: dict[str, Any]) -> list[str]:
    columns = set(MIRROR_COLUMNS[tbl])
    if tbl == "person" and values.get("consent_scope") in SHARING_CONSENTS:
        columns |= CONSENTED_CONTACT
    return sorted(columns)


def mirror_changes(raw: sqlite3.Connection, project_id: str, scope: str, sender: str, *,
                   leaves: bool) -> list[Change]:
    """The changes that bring ``scope`` to the project's core record: every field whose leaves in ``scope``
    are not exactly one version holding the current value. Rows the sender owns are read from the domain
    tables (they may hold this very transaction's writes); with ``leaves``, the others are read from the
    leaves received outside the sender's own sending scopes (the domain row may show a relay register)."""
    merger = Merger(raw)
    sending = f"share:{sender}:"
    changes: list[Change] = []
    for tbl, record in _core_rows(raw, project_id):
        values = record
        if leaves and record.get("owner_structure_id") != sender:
            values = _received(merger, tbl, record["id"], sending)
        held = _held(raw, tbl, record["id"], scope)
        for col in _columns(tbl, values):
            if col not in values:
                continue  # never received: nothing to relay
            value = values[col]
            if held.get(col) != [value] or type(held[col][0]) is not type(value):
                changes.append((tbl, record["id"], col, encode_val(value)))
    return changes


def _received(merger: Merger, tbl: str, pk: str, sending: str) -> dict[str, Any]:
    """A row's projected values from the leaves this copy received (not those it wrote to send on)."""
    row: dict[str, list[Leaf]] = {}
    for col, leaves in merger.row((tbl, pk)).items():
        kept = [leaf for leaf in leaves if not leaf.scope.startswith(sending)]
        if kept:
            row[col] = kept
    return projection.projected(merger, row)


def _held(raw: sqlite3.Connection, tbl: str, pk: str, scope: str) -> dict[str, list[Any]]:
    held: dict[str, list[Any]] = {}
    for col, val in raw.execute("SELECT col, val FROM sync_fv WHERE tbl = ? AND pk = ? AND scope = ?", (tbl, pk, scope)):
        held.setdefault(col, []).append(val)
    return held


def relay(raw: sqlite3.Connection) -> list[RowKey]:
    """Onward referrals this copy relays whose mirror lags behind what it received: touch each, so that
    sealing the caller's transaction writes the differences (see the module docstring). Returns the rows
    concerned, to :func:`reproject` once sealed."""
    me = _bound_structure(raw)
    if me is None:
        return []
    rows: dict[RowKey, None] = {}
    for referral_id, project_id, to_id in raw.execute(
            f"SELECT r.id, r.project_id, r.to_structure_id FROM referral r JOIN project p ON p.id = r.project_id "
            f"WHERE r.from_structure_id = ? AND {_ACTIVE} AND p.owner_structure_id != ? AND "
            "r.to_structure_id != p.owner_structure_id AND r.to_structure_id != ?", (me, me, me)).fetchall():
        if not _relays(raw, referral_id):
            continue
        changes = mirror_changes(raw, project_id, share_scope(me, to_id), me, leaves=True)
        if changes:
            raw.execute("INSERT INTO sync_pending(tbl, pk, col, val) SELECT 'referral', id, 'project_id', project_id "
                        "FROM referral WHERE id = ?", (referral_id,))
            rows.update(dict.fromkeys((c[0], c[1]) for c in changes))
    if rows:
        logger.debug("relaying %d row(s) to onward referrals", len(rows))
    return list(rows)


def reproject(raw: sqlite3.Connection, keys: list[RowKey]) -> None:
    """Project ``keys`` again, once their relay is sealed: a copy may display a project from the register it
    relays (projection ranks shares by name), and sealing does not project local writes."""
    if keys:
        with capture.disabled(raw):
            projection.project_rows(Merger(raw), keys)
