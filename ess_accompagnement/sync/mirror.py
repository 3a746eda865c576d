"""The referred project's core record, mirrored by the sending structure into the referral's share scope.

When a referral from F to T is created, F's copy writes a snapshot of the project's core record
(``scopes.MIRROR_COLUMNS``: project, phase history, members, holders' names, and contacts the holders
consented to share with partners) into ``share:F:T``; later changes to those fields are mirrored there too,
as long as the referral is not deleted. T's copies project those leaves (they have no ``structure:F``);
F's copies keep projecting their home scope, the mirror being a second, equal register.
Known limit: a project referred onwards by T to a third structure is not mirrored to it (only its
lead structure mirrors).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ess_accompagnement.sync.codec import Change, encode_val
from ess_accompagnement.sync.scopes import CONSENTED_CONTACT, MIRROR_COLUMNS, SHARING_CONSENTS, parse, share_scope


def mirrored(raw: sqlite3.Connection, groups: dict[str, list[Change]]) -> dict[str, list[Change]]:
    """Extra changes to write into share scopes, for the changes about to be sealed."""
    extra: dict[str, list[Change]] = {}
    for scope, changes in groups.items():
        kind, parts = parse(scope)
        if kind == "share":
            for pk in {c[1] for c in changes if c[0] == "referral" and c[2] == "project_id"}:
                project = raw.execute("SELECT project_id FROM referral WHERE id = ?", (pk,)).fetchone()
                if project:
                    extra.setdefault(scope, []).extend(snapshot(raw, project[0]))
        elif kind == "structure":
            _follow(raw, parts[0], changes, extra)
    return extra


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
            "SELECT DISTINCT to_structure_id FROM referral WHERE project_id = ? AND deleted_at IS NULL AND "
            "from_structure_id = ? AND to_structure_id != ?", (project_id, owner, owner))]
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


def snapshot(raw: sqlite3.Connection, project_id: str) -> list[Change]:
    """The whole core record of a project, as field changes."""
    members = _rows(raw, "project_member", "project_id = ?", (project_id,))
    records = [("project", r) for r in _rows(raw, "project", "id = ?", (project_id,))]
    records += [("phase_change", r) for r in _rows(raw, "phase_change", "project_id = ?", (project_id,))]
    records += [("project_member", r) for r in members]
    for member in members:
        records += [("person", r) for r in _rows(raw, "person", "id = ?", (member["person_id"],))]
    changes: list[Change] = []
    for tbl, record in records:
        columns = set(MIRROR_COLUMNS[tbl])
        if tbl == "person" and record.get("consent_scope") in SHARING_CONSENTS:
            columns |= CONSENTED_CONTACT
        changes += [(tbl, record["id"], col, encode_val(record[col])) for col in sorted(columns)]
    return changes
