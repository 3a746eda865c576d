"""Read-side services for the reference catalogue: lists of structures and dispositifs, and resolution
of what a user typed on the command line (a UUID, a catalogue key, a name, a short name or a former name).

The catalogue holds tens of rows, not thousands: lists are read whole, and the JSON filters (phases,
support types) are applied in Python, which keeps the queries portable.

Names are matched on their folded words run together (« Alter'Incub » → « alterincub »), so accents,
case, apostrophes, hyphens and spaces never matter: « alter incub » and « Effervesens » both match.
A part of a name matching whole words (« Région ») is preferred to one inside a word (« régional »).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import codes
from ess_accompagnement.domain.entities import Dispositif, Structure
from ess_accompagnement.domain.errors import AmbiguousError, NotFoundError, ValidationError
from ess_accompagnement.domain.text import tokens

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 10
MAX_SUGGESTIONS = 5
REGION = "CVL"  # the territory code of the region the app serves
SUGGESTION_CUTOFF = 75  # rapidfuzz ratio (0–100): « efervesens » / « efferve sens » scores 91

E = TypeVar("E", bound=codes.Coded)


@dataclass(frozen=True, slots=True)
class StructureRow:
    id: uuid.UUID
    key: str | None  # catalogue key; None for a structure a user added
    name: str
    short_name: str | None
    kind: codes.StructureKind
    support_types: tuple[codes.SupportType, ...]
    phases: tuple[codes.Phase, ...]
    territory: str | None
    departement: str | None
    former_names: tuple[str, ...]
    active: bool

    @property
    def ref(self) -> str:
        """What the command line accepts to name this row without ambiguity: its key, else its id."""
        return self.key or str(self.id)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *((self.short_name,) if self.short_name else ()), *self.former_names)


@dataclass(frozen=True, slots=True)
class DispositifRow:
    id: uuid.UUID
    key: str | None
    name: str
    operator_id: uuid.UUID
    operator_name: str
    support_types: tuple[codes.SupportType, ...]
    instrument: codes.Instrument | None
    phases: tuple[codes.Phase, ...]
    territory: str | None
    former_names: tuple[str, ...]
    active: bool

    @property
    def ref(self) -> str:
        return self.key or str(self.id)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.former_names)


# ---- Lists --------------------------------------------------------------------------------------


def _coded(enum_cls: type[E], values: Sequence[str] | None) -> tuple[E, ...]:
    """Stored codes as enum members; a code this version does not know (synced from a newer one) is skipped."""
    members = []
    for value in values or ():
        try:
            members.append(enum_cls(value))
        except ValueError:
            logger.warning("unknown %s code %r in the catalogue, ignored", enum_cls.__name__, value)
    return tuple(members)


def _structure_row(structure: Structure) -> StructureRow:
    return StructureRow(
        id=structure.id, key=structure.catalogue_key, name=structure.name, short_name=structure.short_name,
        kind=structure.kind, support_types=_coded(codes.SupportType, structure.support_types),
        phases=_coded(codes.Phase, structure.phases), territory=structure.territory,
        departement=structure.departement, former_names=tuple(structure.former_names or ()),
        active=structure.active,
    )


def _dispositif_row(dispositif: Dispositif, operator_name: str) -> DispositifRow:
    return DispositifRow(
        id=dispositif.id, key=dispositif.catalogue_key, name=dispositif.name, operator_id=dispositif.operator_id,
        operator_name=operator_name, support_types=_coded(codes.SupportType, dispositif.support_types),
        instrument=dispositif.instrument, phases=_coded(codes.Phase, dispositif.phases),
        territory=dispositif.territory, former_names=tuple(dispositif.former_names or ()), active=dispositif.active,
    )


def _serves(row: StructureRow | DispositifRow, phase: codes.Phase | None, support: codes.SupportType | None) -> bool:
    return (phase is None or phase in row.phases) and (support is None or support in row.support_types)


def list_structures(session: Session, *, phase: codes.Phase | None = None, support: codes.SupportType | None = None,
                    include_inactive: bool = False) -> list[StructureRow]:
    """The structures serving ``phase`` with ``support`` (each filter optional), by name; never deleted ones."""
    query = select(Structure).where(Structure.deleted_at.is_(None)).order_by(Structure.sort_key, Structure.id)
    if not include_inactive:
        query = query.where(Structure.active.is_(True))
    rows = [_structure_row(structure) for structure in session.scalars(query)]
    return [row for row in rows if _serves(row, phase, support)]


def list_dispositifs(session: Session, *, phase: codes.Phase | None = None, support: codes.SupportType | None = None,
                     operator_id: uuid.UUID | None = None, include_inactive: bool = False) -> list[DispositifRow]:
    """The dispositifs serving ``phase`` with ``support``, optionally of one operator, by name; never deleted ones."""
    query = (
        select(Dispositif, Structure.name)
        .join(Structure, Structure.id == Dispositif.operator_id)
        .where(Dispositif.deleted_at.is_(None))
        .order_by(Dispositif.sort_key, Dispositif.id)
    )
    if operator_id is not None:
        query = query.where(Dispositif.operator_id == operator_id)
    if not include_inactive:
        query = query.where(Dispositif.active.is_(True))
    rows = [_dispositif_row(dispositif, operator_name) for dispositif, operator_name in session.execute(query)]
    return [row for row in rows if _serves(row, phase, support)]


# ---- Resolution (command line) ------------------------------------------------------------------


@dataclass(frozen=True)
class _Wording:
    """The French words of the messages, for structures or for dispositifs."""

    field: str
    empty: str
    several: str
    none: str


_STRUCTURE_WORDING = _Wording(
    field="structure",
    empty="Indiquez une structure : sa clé, son nom ou son sigle.",
    several="plusieurs structures",
    none="Aucune structure",
)
_DISPOSITIF_WORDING = _Wording(
    field="dispositif",
    empty="Indiquez un dispositif : sa clé ou son nom.",
    several="plusieurs dispositifs",
    none="Aucun dispositif",
)

Row = TypeVar("Row", StructureRow, DispositifRow)


def resolve_structure(session: Session, text: str) -> StructureRow:
    """The one structure ``text`` designates (inactive ones included, deleted ones never).

    Raises ``NotFoundError`` (with close names when there are some) or ``AmbiguousError``.
    """
    return _resolve(text, list_structures(session, include_inactive=True), _STRUCTURE_WORDING)


def resolve_dispositif(session: Session, text: str, *, operator_id: uuid.UUID | None = None) -> DispositifRow:
    """The one dispositif ``text`` designates, among those of ``operator_id`` when given."""
    rows = list_dispositifs(session, operator_id=operator_id, include_inactive=True)
    wording = _DISPOSITIF_WORDING
    if operator_id is not None:
        wording = _Wording(wording.field, wording.empty, wording.several, "Aucun dispositif de cette structure")
    return _resolve(text, rows, wording)


def _compact(text: str) -> str:
    """The folded words of ``text`` run together: the form names are compared in."""
    return "".join(tokens(text))


def _words(text: str) -> str:
    """The folded words of ``text`` between spaces, so whole words can be looked for: « région » is
    not in « régional »."""
    return f" {' '.join(tokens(text))} "


def _resolve(text: str, rows: list[Row], wording: _Wording) -> Row:
    """Exact key, then exact name (any of a row's names), then whole words of a name, then any part of one.

    The first step with a single match wins; a step with several raises ``AmbiguousError``.
    """
    typed = " ".join(text.split())
    if not typed:
        raise ValidationError(wording.empty, field=wording.field)
    by_id = _by_id(typed, rows, wording)
    if by_id is not None:
        return by_id
    wanted, words = _compact(typed), _words(typed)
    finders: tuple[Callable[[Row], bool], ...] = (
        lambda row: row.key is not None and row.key == typed.casefold(),
        lambda row: any(_compact(name) == wanted for name in row.names),
        lambda row: bool(wanted) and any(words in _words(name) for name in row.names),
        lambda row: bool(wanted) and any(wanted in _compact(name) for name in row.names),
    )
    for matches_text in finders:
        matches = [row for row in rows if matches_text(row)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise _ambiguous(typed, matches, wording)
    raise _not_found(typed, rows, wording)


def _by_id(typed: str, rows: list[Row], wording: _Wording) -> Row | None:
    """The row whose id ``typed`` is, None when ``typed`` is not a UUID."""
    try:
        wanted = uuid.UUID(typed)
    except ValueError:
        return None
    for row in rows:
        if row.id == wanted:
            return row
    raise NotFoundError(f"{wording.none} n'a l'identifiant « {typed} ».", field=wording.field)


def _listing(rows: Sequence[Any]) -> str:
    shown = ", ".join(f"{row.name} ({row.ref})" for row in rows[:MAX_CANDIDATES])
    return shown + (", …" if len(rows) > MAX_CANDIDATES else "")


def _example(matches: list[Row]) -> Row:
    """The candidate to quote as an example: preferably one with a catalogue key (shorter to type than an
    id), active and acting in the region."""
    return min(matches, key=lambda row: (row.key is None, not row.active, row.territory != REGION))


def _ambiguous(typed: str, matches: list[Row], wording: _Wording) -> AmbiguousError:
    return AmbiguousError(
        f"« {typed} » désigne {wording.several} : {_listing(matches)}. "
        f"Précisez avec la clé, par exemple « {_example(matches).ref} ».",
        field=wording.field,
    )


def _not_found(typed: str, rows: list[Row], wording: _Wording) -> NotFoundError:
    message = f"{wording.none} ne correspond à « {typed} »."
    suggestions = _suggestions(typed, rows)
    if suggestions:
        message += f" Vouliez-vous dire : {_listing(suggestions)} ?"
    return NotFoundError(message, field=wording.field)


def _suggestions(typed: str, rows: list[Row]) -> list[Row]:
    """Rows with a name close to ``typed`` (typos), closest first."""
    query = " ".join(tokens(typed))
    pool = [(index, " ".join(tokens(name))) for index, row in enumerate(rows) for name in row.names]
    hits = process.extract(query, [name for _index, name in pool], scorer=fuzz.ratio,
                           score_cutoff=SUGGESTION_CUTOFF, limit=None)
    best: dict[int, float] = {}
    for _choice, score, position in hits:
        row_index = pool[position][0]
        best[row_index] = max(best.get(row_index, 0.0), score)
    ordered = sorted(best, key=lambda row_index: (-best[row_index], row_index))
    return [rows[row_index] for row_index in ordered[:MAX_SUGGESTIONS]]
