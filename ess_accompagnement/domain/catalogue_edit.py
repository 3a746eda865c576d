"""Editing the catalogue from the desktop: a structure's contact, phases, support types and activity,
a dispositif's phases, support types, targets and activity.

Only the fields whose value changes are written, and ``catalogue_values`` (what the catalogue last
loaded) is never touched: a field that now differs from it counts as a user's edit, which the next
catalogue update keeps (three-way merge, ``store/catalogue.py``). One call is one transaction.
Advisors edit their own structure and its dispositifs; a « responsable » may edit any row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.domain.codes import AdvisorRole, Phase, SupportType
from ess_accompagnement.domain.entities import Dispositif, Structure
from ess_accompagnement.domain.errors import NotFoundError, RuleError, ValidationError
from ess_accompagnement.domain.text import sort_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StructureEdit:
    name: str
    short_name: str | None
    email: str | None
    phone: str | None  # as typed, or E.164 as stored
    website: str | None
    phases: tuple[Phase, ...]
    support_types: tuple[SupportType, ...]
    active: bool


@dataclass(frozen=True)
class DispositifEdit:
    name: str
    targets: str | None
    phases: tuple[Phase, ...]
    support_types: tuple[SupportType, ...]
    active: bool


def structure_values(session: Session, structure_id: uuid.UUID) -> StructureEdit:
    """A structure's editable values, as the edit form starts from."""
    s = _load(session, Structure, structure_id, "Structure introuvable.")
    return StructureEdit(s.name, s.short_name, s.email, s.phone, s.website, _codes(Phase, s.phases),
                         _codes(SupportType, s.support_types), s.active)


def dispositif_values(session: Session, dispositif_id: uuid.UUID) -> DispositifEdit:
    d = _load(session, Dispositif, dispositif_id, "Dispositif introuvable.")
    return DispositifEdit(d.name, d.targets, _codes(Phase, d.phases), _codes(SupportType, d.support_types), d.active)


def edit_structure(session: Session, actor: Actor, structure_id: uuid.UUID, edit: StructureEdit) -> Changes:
    """Write the fields of ``edit`` that differ from the structure's current values."""
    structure = _load(session, Structure, structure_id, "Structure introuvable.")
    _check_right(actor, structure.id)
    values = {
        "name": validation.required_text(edit.name, "name", "Nom", max_length=200),
        "short_name": validation.optional_text(edit.short_name, "short_name", "Sigle", max_length=60),
        "email": _changed_or(structure.email, edit.email, lambda v: validation.email(v, "email")),
        "phone": _changed_or(structure.phone, edit.phone, lambda v: validation.phone(v, "phone")),
        "website": _changed_or(structure.website, edit.website, _website),
        "phases": _code_list(Phase, edit.phases),
        "support_types": _code_list(SupportType, edit.support_types),
        "active": bool(edit.active),
    }
    written = _apply(structure, values)
    logger.info("structure %s edited: %s", structure.id.hex[:8], ", ".join(written) or "nothing")
    return Changes(catalogue=bool(written))


def edit_dispositif(session: Session, actor: Actor, dispositif_id: uuid.UUID, edit: DispositifEdit) -> Changes:
    dispositif = _load(session, Dispositif, dispositif_id, "Dispositif introuvable.")
    _check_right(actor, dispositif.operator_id)
    values = {
        "name": validation.required_text(edit.name, "name", "Nom", max_length=200),
        "targets": validation.optional_text(edit.targets, "targets", "Publics visés", max_length=2000),
        "phases": _code_list(Phase, edit.phases),
        "support_types": _code_list(SupportType, edit.support_types),
        "active": bool(edit.active),
    }
    written = _apply(dispositif, values)
    logger.info("dispositif %s edited: %s", dispositif.id.hex[:8], ", ".join(written) or "nothing")
    return Changes(catalogue=bool(written))


# ---- Helpers -------------------------------------------------------------------------------------


def _load(session: Session, model: type[Any], row_id: uuid.UUID, missing: str) -> Any:
    row = session.get(model, row_id)
    if row is None or row.deleted_at is not None:
        raise NotFoundError(missing, field="catalogue")
    return row


def _check_right(actor: Actor, structure_id: uuid.UUID) -> None:
    actor.require_writer()
    if actor.role is not AdvisorRole.RESPONSABLE and actor.structure_id != structure_id:
        raise RuleError("Seul un responsable peut modifier la fiche d'une autre structure que la sienne.",
                        field="catalogue")


def _codes(enum_cls: type[Any], values: Iterable[str] | None) -> tuple[Any, ...]:
    known = {member.value: member for member in enum_cls}
    return tuple(known[v] for v in values or () if v in known)


def _code_list(enum_cls: type[Phase] | type[SupportType], chosen: Iterable[Any]) -> list[str]:
    """The chosen codes in the enum's order, each once; an unknown code is a French error."""
    wanted = set()
    for value in chosen:
        try:
            wanted.add(enum_cls(value))
        except ValueError:
            raise ValidationError(f"Code inconnu : « {value} ».", field=enum_cls.__name__.lower()) from None
    return [member.value for member in enum_cls if member in wanted]


def _changed_or(current: str | None, typed: str | None, check: Any) -> str | None:
    """``current`` when ``typed`` is it unchanged; else ``typed`` checked (None when emptied)."""
    text = (typed or "").strip()
    if not text:
        return None
    if text == (current or ""):
        return current
    return str(check(text))


def _website(value: str) -> str:
    address = value if "://" in value else f"https://{value}"
    host = address.split("://", 1)[1].split("/", 1)[0]
    if not address.startswith(("http://", "https://")) or "." not in host or " " in address:
        raise ValidationError("Site web : adresse invalide (exemple attendu : https://www.exemple.fr).",
                              field="website")
    return address[:200]


def _apply(row: Structure | Dispositif, values: dict[str, Any]) -> list[str]:
    """Set each attribute that differs; returns the names written."""
    written = []
    for column, value in values.items():
        current = getattr(row, column)
        same = set(current or []) == set(value) if isinstance(value, list) else current == value
        if same:  # an unchanged field (lists in any order) must stay equal to the catalogue's value
            continue
        setattr(row, column, value)
        written.append(column)
    if "name" in written:
        row.sort_key = sort_key(row.name)
    return written
