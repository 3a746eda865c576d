"""Scopes (what travels together, and to whom) and field ownership (who may write what).

Scopes:
- ``catalogue``: structure, dispositif, advisor, permanence rows: the shared reference data every copy
  receives (advisors are the directory the referrals point to; permanences are shared places).
- ``structure:<id>``: every other row, by its ``owner_structure_id``: a structure's own data.
- ``share:<from>:<to>``: a referral between two structures (directional), plus a *mirror* of the
  referred project's core record written by the sending structure: project title/commune/status/…,
  its phase history (no reasons, no advisor), its members and holders' names, and the holders' e-mail
  and phone only when their recorded consent scope covers partners. The mirror follows the project while
  the referral is active (not deleted, not cancelled). A project referred onwards (T received it from F
  and refers it to U) is mirrored into ``share:T:U`` by T, relaying what it received (sync/mirror.py):
  there T is the sender, so the mirror is T's to write, while the project itself stays F's.

A copy bound to structure S receives ``catalogue``, ``structure:S`` and every ``share:*`` naming S
(:func:`scope_visible`). Field ownership (checked when sealing local writes on a bound copy, and for
every remote change, whose refused fields are kept in the log but never applied):
- catalogue: any structure; structure:X: only X;
- share:F:T: referral sender fields and the mirror: only F; referral receiver fields: only T;
  ``updated_at`` of a referral: either side.
A transaction whose author structure is unknown (an unbound copy) may only write the catalogue.
"""

from __future__ import annotations

CATALOGUE = "catalogue"
CATALOGUE_TABLES = frozenset({"structure", "dispositif", "advisor", "permanence"})

REFERRAL_RECEIVER_FIELDS = frozenset({
    "answer", "answered_on", "answered_by_id", "refusal_reason", "answer_comment", "started_on", "closed_on",
    "outcome", "outcome_comment",
})
EITHER_SIDE_FIELDS = frozenset({"updated_at"})

_COMMON = ("created_at", "updated_at", "deleted_at", "owner_structure_id")
MIRROR_COLUMNS: dict[str, frozenset[str]] = {
    "project": frozenset({"title", "legal_form", "sector", "commune_code", "status", "lead_structure_id",
                          "innovation_sociale", "esus", "confidential", *_COMMON}),
    "phase_change": frozenset({"project_id", "phase", "effective_date", *_COMMON}),
    "project_member": frozenset({"project_id", "person_id", "role", *_COMMON}),
    "person": frozenset({"first_name", "last_name", "gender", "consent_scope", *_COMMON}),
}
CONSENTED_CONTACT = frozenset({"email", "phone"})
SHARING_CONSENTS = frozenset({"partenaires", "partenaires_financeurs"})

# Columns merged last-writer-wins without an open conflict (bookkeeping, not user intent).
NO_CONFLICT_COLUMNS = frozenset({"created_at", "updated_at"})


def structure_scope(structure_id: str) -> str:
    return f"structure:{structure_id}"


def share_scope(from_id: str, to_id: str) -> str:
    return f"share:{from_id}:{to_id}"


def parse(scope: str) -> tuple[str, tuple[str, ...]]:
    kind, _, rest = scope.partition(":")
    return kind, tuple(rest.split(":")) if rest else ()


def row_scope(table: str, owner: str | None, from_id: str | None = None, to_id: str | None = None) -> str | None:
    """The scope a row of ``table`` belongs to (None when it cannot be told)."""
    if table in CATALOGUE_TABLES:
        return CATALOGUE
    if table == "referral" and from_id and to_id and from_id != to_id:
        return share_scope(from_id, to_id)
    return structure_scope(owner) if owner else None


def scope_visible(scope: str, structure_id: str | None) -> bool:
    """May a copy bound to ``structure_id`` receive ``scope``? (No copy receives what it may not see.)"""
    kind, parts = parse(scope)
    if kind == CATALOGUE:
        return True
    if structure_id is None:
        return False
    if kind == "structure":
        return parts == (structure_id,)
    return kind == "share" and structure_id in parts


def may_write(structure_id: str | None, scope: str, table: str, column: str) -> bool:
    """Field ownership: may the author structure write ``table.column`` in ``scope``?"""
    kind, parts = parse(scope)
    if kind == CATALOGUE:
        return True
    if structure_id is None:
        return False
    if kind == "structure":
        return parts == (structure_id,)
    if kind != "share" or len(parts) != 2:
        return False
    sender, receiver = parts
    if table == "referral":
        if column in EITHER_SIDE_FIELDS:
            return structure_id in parts
        return structure_id == (receiver if column in REFERRAL_RECEIVER_FIELDS else sender)
    return structure_id == sender and _mirrored(table, column)


def _mirrored(table: str, column: str) -> bool:
    return column in MIRROR_COLUMNS.get(table, frozenset()) or (table == "person" and column in CONSENTED_CONTACT)


def scope_rank(scope: str, structure_id: str | None = None) -> tuple[int, str]:
    """Which scope's leaves a copy projects when a field has leaves in several (home before shares). Given
    the copy's structure, the shares it received rank before the shares it sends: a project it refers on
    holds there a relay of what it received (sync/mirror.py), which may lag behind until it relays."""
    if not scope.startswith("share:"):
        return (0, scope)
    if structure_id is not None and scope.startswith(f"share:{structure_id}:"):
        return (2, scope)
    return (1, scope)
