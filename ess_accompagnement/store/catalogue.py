"""The reference catalogue of structures and dispositifs: shipped as TOML, merged into the database.

``resources/catalogue/catalogue.toml`` is read with ``tomllib`` and checked strictly (codes, operator
references, lengths): a malformed entry is a bug in a shipped file, so it raises ``ValueError`` naming
the entry and the field, never a ``UserFacingError``.

Loading is idempotent and respects users' edits, by a three-way merge per field. ``catalogue_values``
holds the values last loaded from the catalogue into the row. For each field:

- row value == last catalogue value: nobody edited it, so it takes the new catalogue value;
- row value != last catalogue value: a user edited it, so the user's value stays;

then ``catalogue_values`` records the new catalogue values. A soft-deleted row is never brought back.
Attributes are set only when their value differs, so loading the same file twice writes nothing.
Row ids are ``catalogue_id(table, key)``: every copy of the database derives the same ones.
"""

from __future__ import annotations

import logging
import re
import tomllib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import codes
from ess_accompagnement.domain.entities import Dispositif, Structure
from ess_accompagnement.domain.ids import catalogue_id
from ess_accompagnement.domain.text import fold, sort_key
from ess_accompagnement.resources import resource_path

logger = logging.getLogger(__name__)

CATALOGUE_PATH = resource_path("catalogue", "catalogue.toml")
TERRITORIES = ("CVL", "NAT", "EX")
STRUCTURE = "structure"
DISPOSITIF = "dispositif"

_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_REF = re.compile(r"[0-9]{3}:[0-9]+(?:-[0-9]+)?")
_DEPARTEMENT = re.compile(r"[0-9]{2}|2[AB]|97[1-6]")
_KEY_MAX = 64


# ---- Entries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueEntry:
    """One checked entry of the catalogue file.

    ``values`` maps column names to JSON-ready values (codes as strings): the form they take in
    ``catalogue_values``. A dispositif's ``operator`` is the key of its operating structure.
    """

    table: str  # STRUCTURE or DISPOSITIF
    key: str
    values: Mapping[str, Any]
    operator: str | None = None
    refs: tuple[str, ...] = ()

    @property
    def id(self) -> uuid.UUID:
        return catalogue_id(self.table, self.key)

    def column_values(self) -> dict[str, Any]:
        """The catalogue's value for every merged column, operator included (as an id string)."""
        values = dict(self.values)
        if self.operator is not None:
            values["operator_id"] = str(catalogue_id(STRUCTURE, self.operator))
        return values


@dataclass(frozen=True)
class Catalogue:
    structures: tuple[CatalogueEntry, ...]
    dispositifs: tuple[CatalogueEntry, ...]


@dataclass(frozen=True)
class CatalogueResult:
    """What a load did. ``added``, ``updated`` and ``unchanged`` count entries (a soft-deleted row
    counts as unchanged); ``kept_user_edits`` counts fields where the catalogue brought a new value
    but a user's edit was kept."""

    added: int = 0
    updated: int = 0
    kept_user_edits: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


# ---- Parsing and checking the file --------------------------------------------------------------


class _Invalid(Exception):
    """A value that does not fit its field; re-raised as ValueError with the entry and field."""


Parser = Callable[[Any], Any]


def _text(max_length: int, *, required: bool = False) -> Parser:
    def parse(value: Any) -> str | None:
        if value is None:
            if required:
                raise _Invalid("is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise _Invalid(f"expected a non-empty string, got {value!r}")
        if value != value.strip() or len(value) > max_length:
            raise _Invalid(f"expected at most {max_length} characters without surrounding spaces, got {value!r}")
        return value

    return parse


def _list(item: Parser) -> Parser:
    """A list of distinct items, each checked by ``item`` (absent: an empty list)."""

    def parse(value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise _Invalid(f"expected a list, got {value!r}")
        items = [item(element) for element in value]
        if len(set(items)) != len(items):
            raise _Invalid(f"duplicate values in {value!r}")
        return items

    return parse


def _code(enum_cls: type[codes.Coded], *, required: bool = False) -> Parser:
    allowed = [member.value for member in enum_cls]

    def parse(value: Any) -> str | None:
        if value is None and not required:
            return None
        if value not in allowed:
            raise _Invalid(f"unknown {enum_cls.__name__} code {value!r} (expected one of {', '.join(allowed)})")
        return str(value)

    return parse


def _matching(pattern: re.Pattern[str], *, required: bool = False) -> Parser:
    def parse(value: Any) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise _Invalid(f"{value!r} does not match {pattern.pattern}")
        return value

    return parse


def _territory(value: Any) -> str:
    if value not in TERRITORIES:
        raise _Invalid(f"expected one of {', '.join(TERRITORIES)}, got {value!r}")
    return str(value)


def _flag(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {value!r}")
    return value


# TOML field → (column, parser). "key", "refs" and "operator" are handled apart: they are not merged columns.
_COMMON: dict[str, tuple[str, Parser]] = {
    "name": ("name", _text(200, required=True)),
    "support": ("support_types", _list(_code(codes.SupportType, required=True))),
    "phases": ("phases", _list(_code(codes.Phase, required=True))),
    "targets": ("targets", _text(2000)),
    "territory": ("territory", _territory),
    "former_names": ("former_names", _list(_text(200, required=True))),
    "active": ("active", _flag),
}
_SPECS: dict[str, dict[str, tuple[str, Parser]]] = {
    STRUCTURE: {
        **_COMMON,
        "short_name": ("short_name", _text(60)),
        "kind": ("kind", _code(codes.StructureKind, required=True)),
        "departement": ("departement", _matching(_DEPARTEMENT)),
    },
    DISPOSITIF: {**_COMMON, "instrument": ("instrument", _code(codes.Instrument))},
}
_EXTRA_FIELDS = {STRUCTURE: {"key", "refs"}, DISPOSITIF: {"key", "refs", "operator"}}


def _checked(table: str, key: str, field_name: str, parser: Parser, value: Any) -> Any:
    try:
        return parser(value)
    except _Invalid as exc:
        raise ValueError(f"catalogue: {table} {key!r}, field {field_name!r}: {exc}") from None


def _parse_entry(table: str, raw: Any, position: int) -> CatalogueEntry:
    if not isinstance(raw, dict):
        raise ValueError(f"catalogue: {table} #{position} is not a table")
    key = _checked(table, f"#{position}", "key", _matching(_KEY, required=True), raw.get("key"))
    if len(key) > _KEY_MAX:
        raise ValueError(f"catalogue: {table} {key!r}, field 'key': longer than {_KEY_MAX} characters")
    spec = _SPECS[table]
    unknown = sorted(set(raw) - set(spec) - _EXTRA_FIELDS[table])
    if unknown:
        raise ValueError(f"catalogue: {table} {key!r}, field {unknown[0]!r}: unknown field")
    values = {column: _checked(table, key, name, parser, raw.get(name)) for name, (column, parser) in spec.items()}
    if values["territory"] == "EX" and values["active"]:
        raise ValueError(f"catalogue: {table} {key!r}, field 'active': an EX entry must be shipped with active = false")
    refs = tuple(_checked(table, key, "refs", _list(_matching(_REF, required=True)), raw.get("refs")))
    operator = None
    if table == DISPOSITIF:
        operator = _checked(table, key, "operator", _matching(_KEY, required=True), raw.get("operator"))
    return CatalogueEntry(table, key, values, operator, refs)


def _parse_table(data: dict[str, Any], table: str) -> tuple[CatalogueEntry, ...]:
    raw_entries = data.get(table, [])
    if not isinstance(raw_entries, list):
        raise ValueError(f"catalogue: {table!r} must be an array of tables ([[{table}]])")
    entries = tuple(_parse_entry(table, raw, position) for position, raw in enumerate(raw_entries, start=1))
    _check_unique(table, entries, "key", lambda entry: entry.key)
    _check_unique(table, entries, "name", lambda entry: fold(entry.values["name"]))
    return entries


def _check_unique(table: str, entries: Iterable[CatalogueEntry], field_name: str,
                  value_of: Callable[[CatalogueEntry], str]) -> None:
    seen: set[str] = set()
    for entry in entries:
        value = value_of(entry)
        if value in seen:
            raise ValueError(f"catalogue: {table} {entry.key!r}, field {field_name!r}: {value!r} is used twice")
        seen.add(value)


def _check_operators(structures: Iterable[CatalogueEntry], dispositifs: Iterable[CatalogueEntry]) -> None:
    known = {entry.key for entry in structures}
    for entry in dispositifs:
        if entry.operator not in known:
            raise ValueError(
                f"catalogue: dispositif {entry.key!r}, field 'operator': no structure has the key {entry.operator!r}"
            )


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    """Check the content of a catalogue file (as ``tomllib`` returns it) and return its entries."""
    unknown = sorted(set(data) - {STRUCTURE, DISPOSITIF})
    if unknown:
        raise ValueError(f"catalogue: unknown top-level table {unknown[0]!r}")
    structures = _parse_table(data, STRUCTURE)
    dispositifs = _parse_table(data, DISPOSITIF)
    _check_operators(structures, dispositifs)
    return Catalogue(structures, dispositifs)


def load_catalogue_file(path: Path | str = CATALOGUE_PATH) -> Catalogue:
    """Read and check the catalogue file at ``path`` (by default the shipped one)."""
    with open(path, "rb") as stream:
        data = tomllib.load(stream)
    catalogue = parse_catalogue(data)
    logger.debug("catalogue file %s: %d structures, %d dispositifs", path, len(catalogue.structures),
                 len(catalogue.dispositifs))
    return catalogue


# ---- Merging into the database ------------------------------------------------------------------


@dataclass
class _Tally:
    added: int = 0
    updated: int = 0
    kept: int = 0
    unchanged: int = 0

    def result(self) -> CatalogueResult:
        return CatalogueResult(self.added, self.updated, self.kept, self.unchanged)


# Columns whose attribute is not the JSON value itself.
_ATTRIBUTE_TYPES: dict[str, Callable[[Any], Any]] = {
    "kind": codes.StructureKind,
    "instrument": codes.Instrument,
    "operator_id": uuid.UUID,
}


def _to_json(value: Any) -> Any:
    """An attribute value in the form ``catalogue_values`` stores it."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        return list(value)
    return value


def _to_attribute(column: str, value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    convert = _ATTRIBUTE_TYPES.get(column)
    return value if value is None or convert is None else convert(value)


def load_catalogue(session: Session, catalogue: Catalogue | None = None) -> CatalogueResult:
    """Merge the catalogue (by default the shipped file) into the database. Does not commit."""
    if catalogue is None:
        catalogue = load_catalogue_file()
    tally = _Tally()
    _merge_table(session, Structure, catalogue.structures, tally)
    _merge_table(session, Dispositif, catalogue.dispositifs, tally)
    session.flush()
    result = tally.result()
    logger.info("catalogue loaded: %d added, %d updated, %d unchanged, %d user edits kept", result.added,
                result.updated, result.unchanged, result.kept_user_edits)
    return result


def _merge_table(session: Session, model: type[Structure] | type[Dispositif],
                 entries: tuple[CatalogueEntry, ...], tally: _Tally) -> None:
    ids = [entry.id for entry in entries]
    existing = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}
    for entry in entries:
        row = existing.get(entry.id)
        if row is None:
            session.add(_new_row(model, entry))
            tally.added += 1
        elif row.deleted_at is not None:
            logger.debug("catalogue: %s %s was deleted by a user, left deleted", entry.table, entry.key)
            tally.unchanged += 1
        else:
            _merge_row(row, entry, tally)


def _new_row(model: type[Structure] | type[Dispositif], entry: CatalogueEntry) -> Structure | Dispositif:
    values = entry.column_values()
    attributes = {column: _to_attribute(column, value) for column, value in values.items()}
    row = model(id=entry.id, catalogue_key=entry.key, catalogue_values=values, sort_key=sort_key(values["name"]),
                **attributes)
    row.owner_structure_id = entry.id if model is Structure else attributes["operator_id"]
    return row


def _merge_row(row: Structure | Dispositif, entry: CatalogueEntry, tally: _Tally) -> None:
    new_values = entry.column_values()
    last_values = row.catalogue_values or {}
    changed = False
    for column, new_value in new_values.items():
        current = _to_json(getattr(row, column))
        if current == new_value:
            continue
        if _edited_by_user(current, column, last_values):
            logger.debug("catalogue: %s %s, %s edited by a user, kept", entry.table, entry.key, column)
            tally.kept += 1
            continue
        setattr(row, column, _to_attribute(column, new_value))
        changed = True
    _refresh_derived(row, new_values)
    if changed:
        tally.updated += 1
    else:
        tally.unchanged += 1


def _edited_by_user(current: Any, column: str, last_values: Mapping[str, Any]) -> bool:
    """Whether the row's value is a user's: it differs from what the catalogue last put there.

    A column the catalogue never set before (a field added in a later version) counts as edited
    only when the row already holds something.
    """
    if column in last_values:
        return bool(current != last_values[column])
    return current not in (None, "", [])


def _refresh_derived(row: Structure | Dispositif, new_values: dict[str, Any]) -> None:
    """Sort key, owner and recorded catalogue values, each written only if it changed."""
    key = sort_key(row.name)
    if row.sort_key != key:
        row.sort_key = key
    owner = row.id if isinstance(row, Structure) else row.operator_id
    if row.owner_structure_id != owner:
        row.owner_structure_id = owner
    if row.catalogue_values != new_values:
        row.catalogue_values = new_values
