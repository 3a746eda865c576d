"""Looking communes up: by INSEE code, postal code or name (accent-, case- and hyphen-insensitive).

Names are matched on ``commune.sort_key``, the folded words of the name joined by single spaces
(« Saint-Amand-Montrond » → « saint amand montrond »), with index range scans: a prefix ``p`` is
``sort_key >= p AND sort_key < p'`` where ``p'`` is ``p`` with its last character incremented.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import text
from sqlalchemy.orm import Session

from ess_accompagnement.domain.errors import AmbiguousError, NotFoundError, ValidationError
from ess_accompagnement.domain.text import tokens

logger = logging.getLogger(__name__)

FIELD = "commune"
MAX_CANDIDATES = 10
MAX_SUGGESTIONS = 5
SUGGESTION_CUTOFF = 75  # rapidfuzz ratio (0–100): « tuors » / « tours » scores 80

_CODE = re.compile(r"[0-9][0-9AB][0-9]{3}", re.IGNORECASE)  # INSEE (2A004…) or postal code
_POSTAL_PREFIX = re.compile(r"[0-9]{2,4}")
_WITH_DEPARTEMENT = re.compile(r"(?P<name>.*?\S)\s*\(\s*(?P<dep>[0-9]{2,3}|2[AB])\s*\)", re.IGNORECASE)
_EXPLICIT_INSEE = re.compile(r"(?:.*\s)?(?:code\s+)?insee\s*:?\s*(?P<code>[0-9][0-9AB][0-9]{3})", re.IGNORECASE)
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}

_COLUMNS = "c.code, c.name, c.postal_codes, c.departement, c.epci_siren, c.epci_name, c.population, c.current"
_ORDER = "ORDER BY c.current DESC, c.population IS NULL, c.population DESC, c.sort_key, c.code"


@dataclass(frozen=True, slots=True)
class CommuneRow:
    """A commune as lists and forms show it."""

    code: str  # code INSEE
    name: str
    postal_codes: tuple[str, ...]
    departement: str
    epci_siren: str | None
    epci_name: str | None
    population: int | None
    current: bool = True  # False once the commune has left the official list (merged away)

    @property
    def label(self) -> str:
        """« Tours (37) »: the name with its département, as the command line accepts it back."""
        return f"{self.name} ({self.departement})"


def commune_key(name: str) -> str:
    """The search key of a commune name: folded words joined by spaces (« L'Haÿ-les-Roses » → « l hay les roses »)."""
    return " ".join(tokens(name))


def _query_key(typed: str, *, prefix: bool) -> str:
    """The key of what the user typed, « st »/« ste » expanded (not the last word of a prefix: « st » → Strasbourg)."""
    words = tokens(typed)
    last = len(words) - 1 if prefix else len(words)
    return " ".join(_ABBREVIATIONS.get(word, word) if i < last else word for i, word in enumerate(words))


def _next_prefix(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _to_row(row: Any) -> CommuneRow:
    code, name, postal_codes, departement, epci_siren, epci_name, population, current = row
    return CommuneRow(code, name, tuple(postal_codes.split()), departement, epci_siren, epci_name, population,
                      bool(current))


def _select(session: Session, where: str, params: dict[str, Any], limit: int | None = None) -> list[CommuneRow]:
    sql = f"SELECT {_COLUMNS} FROM commune c WHERE {where} {_ORDER}"
    if limit is not None:
        sql += " LIMIT :limit"
        params = {**params, "limit": limit}
    return [_to_row(row) for row in session.execute(text(sql), params)]


# ---- Search -------------------------------------------------------------------------------------

_BY_CODE = "c.code = :code OR c.code IN (SELECT pc.commune_code FROM postal_code pc WHERE pc.postal_code = :code)"
_BY_POSTAL_PREFIX = """c.code IN (SELECT pc.commune_code FROM postal_code pc
    WHERE pc.postal_code >= :low AND pc.postal_code < :high)"""
_BY_NAME_PREFIX = "c.sort_key >= :low AND c.sort_key < :high"
_BY_NAME = "c.sort_key = :key"


def find_communes(session: Session, typed: str, limit: int = 20) -> list[CommuneRow]:
    """Communes matching what the user typed, current ones first, then the most populous.

    5 characters of a code → that INSEE code or that postal code; 2 to 4 digits → postal codes
    starting with them; anything else → names starting with it (« chateau » finds Châteauroux).
    """
    typed = typed.strip()
    if _CODE.fullmatch(typed):
        return _select(session, _BY_CODE, {"code": typed.upper()}, limit)
    if _POSTAL_PREFIX.fullmatch(typed):
        return _select(session, _BY_POSTAL_PREFIX, {"low": typed, "high": _next_prefix(typed)}, limit)
    key = _query_key(typed, prefix=True)
    if not key:
        return []
    return _select(session, _BY_NAME_PREFIX, {"low": key, "high": _next_prefix(key)}, limit)


def get_commune(session: Session, code: str) -> CommuneRow | None:
    """The commune with this INSEE code, current or not."""
    rows = _select(session, "c.code = :code", {"code": code.strip().upper()})
    return rows[0] if rows else None


# ---- Resolution (command line) ------------------------------------------------------------------


def resolve_commune(session: Session, typed: str) -> CommuneRow:
    """The one commune the user means by an INSEE code, a postal code, a name or « Name (37) ».

    Raises ``NotFoundError`` (with close names to choose from) or ``AmbiguousError`` (listing the
    candidates and how to tell them apart).
    """
    typed = " ".join(typed.split())
    if not typed:
        raise ValidationError("Indiquez une commune : son nom, son code postal ou son code INSEE.", field=FIELD)
    explicit = _EXPLICIT_INSEE.fullmatch(typed)
    if explicit:
        return _resolve_insee(session, explicit["code"].upper(), typed)
    if _CODE.fullmatch(typed):
        return _resolve_code(session, typed.upper())
    match = _WITH_DEPARTEMENT.fullmatch(typed)
    if match:
        return _resolve_name(session, typed, match["name"], match["dep"].upper())
    return _resolve_name(session, typed, typed, None)


def _resolve_insee(session: Session, code: str, typed: str) -> CommuneRow:
    commune = get_commune(session, code)
    if commune is None:
        raise NotFoundError(f"Commune inconnue : « {typed} ».", field=FIELD)
    return commune


def _resolve_code(session: Session, code: str) -> CommuneRow:
    """A 5-character code: an INSEE code, a postal code, or both for different communes (3 000 cases)."""
    candidates = _prefer_current(_select(session, _BY_CODE, {"code": code}))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise NotFoundError(f"Commune inconnue : « {code} » n'est ni un code INSEE ni un code postal connu.",
                            field=FIELD)
    first = candidates[0]
    raise AmbiguousError(
        f"« {code} » désigne plusieurs communes (code INSEE ou code postal) : {_listing(candidates)}. "
        f"Précisez le nom et le département, par exemple « {first.label} », ou écrivez « INSEE {first.code} ».",
        field=FIELD,
    )


def _resolve_name(session: Session, typed: str, name: str, departement: str | None) -> CommuneRow:
    """Exact folded name first, then a name prefix; the département narrows both."""
    where, params = _with_departement(_BY_NAME, {"key": _query_key(name, prefix=False)}, departement)
    exact = _prefer_current(_select(session, where, params))
    if len(exact) == 1:
        return exact[0]
    if exact:
        raise _ambiguous(f"Plusieurs communes s'appellent « {exact[0].name} »", exact, departement)
    key = _query_key(name, prefix=True)
    if key:
        where, params = _with_departement(_BY_NAME_PREFIX, {"low": key, "high": _next_prefix(key)}, departement)
        starting = _prefer_current(_select(session, where, params, MAX_CANDIDATES + 1))
        if len(starting) == 1:
            return starting[0]
        if starting:
            raise _ambiguous(f"Plusieurs communes commencent par « {name} »", starting, departement)
    raise _not_found(session, typed, name, departement)


def _with_departement(where: str, params: dict[str, Any], departement: str | None) -> tuple[str, dict[str, Any]]:
    if departement is None:
        return where, params
    return f"({where}) AND c.departement = :departement", {**params, "departement": departement}


def _prefer_current(candidates: list[CommuneRow]) -> list[CommuneRow]:
    """Current communes only, when there are any: a merged-away namesake is not a real choice."""
    current = [commune for commune in candidates if commune.current]
    return current or candidates


def _listing(candidates: list[CommuneRow]) -> str:
    shown = ", ".join(f"{c.label} – code INSEE {c.code}" for c in candidates[:MAX_CANDIDATES])
    return shown + (", …" if len(candidates) > MAX_CANDIDATES else "")


def _ambiguous(opening: str, candidates: list[CommuneRow], departement: str | None) -> AmbiguousError:
    if departement is not None:
        advice = "Précisez le code INSEE."
    else:
        advice = f"Précisez le département, par exemple « {candidates[0].label} », ou le code INSEE."
    return AmbiguousError(f"{opening} : {_listing(candidates)}. {advice}", field=FIELD)


def _not_found(session: Session, typed: str, name: str, departement: str | None) -> NotFoundError:
    message = f"Commune inconnue : « {typed} »."
    suggestions = _suggestions(session, name, departement)
    if suggestions:
        message += f" Vouliez-vous dire : {', '.join(c.label for c in suggestions)} ?"
    return NotFoundError(message, field=FIELD)


def _suggestions(session: Session, name: str, departement: str | None) -> list[CommuneRow]:
    """Current communes whose name is close to ``name`` (typos), those of ``departement`` first among equals."""
    key = _query_key(name, prefix=False)
    if not key:
        return []
    pool = session.execute(text("SELECT sort_key, departement, population, code FROM commune WHERE current = 1")).all()
    hits = process.extract(key, [row[0] for row in pool], scorer=fuzz.ratio, score_cutoff=SUGGESTION_CUTOFF, limit=None)
    hits.sort(key=lambda hit: (-hit[1], pool[hit[2]][1] != departement, -(pool[hit[2]][2] or 0)))
    codes = [pool[index][3] for _choice, _score, index in hits[:MAX_SUGGESTIONS]]
    return [commune for commune in map(partial(get_commune, session), codes) if commune is not None]
