"""Projects and their holders from a spreadsheet (CSV or XLSX): column mapping, preview, all-or-nothing apply.

1. ``read_table``: CSV separated by ``;``, ``,`` or tabs, in UTF-8 (with or without BOM), UTF-16 (with
   BOM) or Windows-1252, detected and reported; or the first sheet of an XLSX workbook. The first
   non-empty row holds the headers; rows are numbered as a spreadsheet shows them (headers: line 1).
2. ``propose_mapping``: each header is folded (accents, case, punctuation), small words dropped
   (« du », « de la »…), a final number read as the holder's rank (« Prénom 2 »), then looked up in
   the synonyms of ``FIELDS``; « porteur »/« contact » may qualify a holder field (« Nom du porteur »)
   and « projet » a project field (« Commune du projet »). A second column for the same field is
   ignored with a note. The caller overrides any column (``overrides``: header → field or None).
3. ``preview_import``: every line parsed with the domain's validators, giving the project and holders
   to create, or French line-level errors (« Ligne 14, colonne SIRET : … »); each holder is matched
   against existing persons with the cascade SIRET of the project + name → e-mail + first name →
   phone + first name → last name + first name + commune (certain), then a near-identical name in the
   same commune (rapidfuzz, « probable », linked only when asked); and against earlier holders of the
   same file (same keys), so one person holding two projects is created once.
4. ``apply_import``: refuses a file with any error; otherwise writes everything in one transaction
   through the domain's use cases (``add_person``, ``create_project``, ``edit_project``).

A cell that starts with a quote followed by a formula character (``'=…``, ``'+262…``) loses that quote:
it is how the CSV export protects such texts (see ``reports/exports.py``), so an export re-imports as is.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import logging
import re
import uuid
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import Coded, LegalForm, MemberRole, Phase, Prescripteur, ProjectStatus, Sector
from ess_accompagnement.domain.entities import Person, Project, ProjectMember
from ess_accompagnement.domain.errors import UserFacingError, ValidationError
from ess_accompagnement.domain.projects import (
    HolderDraft,
    ProjectDraft,
    ProjectEdit,
    add_person,
    create_project,
    edit_project,
)
from ess_accompagnement.domain.queries.communes import commune_key, find_communes, get_commune, resolve_commune
from ess_accompagnement.domain.text import fold, sort_key
from ess_accompagnement.reports.exports import is_formula_like
from ess_accompagnement.store.db import Database

logger = logging.getLogger(__name__)

MAX_ROWS = 50_000
MAX_ERRORS_SHOWN = 50
IN_CHUNK = 5000  # values per IN (…) query, well under SQLite's 32 766 parameters
SIMILAR_NAME_CUTOFF = 90  # rapidfuzz ratio on folded « prénom nom »: « helene dupont » / « helene dupond » = 92
_STOP_WORDS = frozenset({"a", "au", "aux", "d", "dans", "de", "des", "du", "en", "et", "l", "la", "le", "les", "n",
                         "no", "numero"})
_HOLDER_WORDS = frozenset({"porteur", "porteuse", "contact", "principal", "principale", "dirigeant", "representant"})
_PROJECT_WORDS = frozenset({"projet", "structure", "entreprise"})
_TRUE = frozenset({"oui", "o", "vrai", "x", "1", "yes", "y", "true"})
_FALSE = frozenset({"non", "n", "faux", "0", "no", "false"})
_IGNORE = frozenset({"", "-", "ignorer", "ignore", "aucun", "aucune"})
_QUOTED = re.compile(r"«[^»]*»")
E = TypeVar("E", bound=Coded)


class ImportFileError(UserFacingError):
    """The file cannot be read at all (empty, damaged, unknown format)."""


# ---- Reading the file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceInfo:
    name: str
    format: str  # « CSV » or « XLSX »
    encoding: str | None = None
    delimiter: str | None = None

    def describe(self) -> str:
        if self.format != "CSV":
            return f"{self.name} ({self.format})"
        shown = {";": "« ; »", ",": "« , »", "\t": "tabulation"}.get(self.delimiter or "", repr(self.delimiter))
        return f"{self.name} (CSV, séparateur {shown}, encodage {self.encoding})"


@dataclass(frozen=True)
class Table:
    source: SourceInfo
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Any, ...]], ...]  # (line number as a spreadsheet shows it, cells)


def read_table(path: Path | str) -> Table:
    """The headers and rows of a CSV or XLSX file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            start = handle.read(4)
    except OSError as exc:
        raise ImportFileError(f"Impossible de lire le fichier {path} : {exc.strerror}.", field="file") from exc
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ImportFileError("Le format .xls (Excel 97-2003) n'est pas lu : enregistrez le fichier au format .xlsx "
                              "ou .csv.", field="file")
    if suffix in (".xlsx", ".xlsm") or start == b"PK\x03\x04":
        return _read_xlsx(path)
    return _read_csv(path)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "UTF-8 avec BOM"
        except UnicodeDecodeError:
            raise ImportFileError(f"Le fichier {name} s'annonce en UTF-8 mais contient des caractères invalides.",
                                  field="file") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252 (cp1252)"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "ISO-8859-1"


def _delimiter(text: str) -> tuple[str, str]:
    """The separator of the first line (outside quotes), and the text without a « sep=; » line."""
    first, _, rest = text.partition("\n")
    declared = re.fullmatch(r"\s*sep=(.)\s*", first)
    if declared:
        return declared.group(1), rest
    line = next((candidate for candidate in text.splitlines() if candidate.strip()), "")
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {sep: outside.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda sep: counts[sep])
    return (best if counts[best] else ";"), text


def _read_csv(path: Path) -> Table:
    data = path.read_bytes()
    text, encoding = _decode(data, path.name)
    if not text.strip():
        raise ImportFileError(f"Le fichier {path.name} est vide.", field="file")
    delimiter, text = _delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(f"Le fichier {path.name} n'est pas un CSV lisible ({exc}).", field="file") from exc
    source = SourceInfo(path.name, "CSV", encoding, delimiter)
    return _table(source, enumerate(records, 1))


def _read_xlsx(path: Path) -> Table:
    try:
        with warnings.catch_warnings():  # openpyxl warns about features it drops (validations…): data is intact
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                records = [list(row) for row in sheet.iter_rows(values_only=True)]
            finally:
                book.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, ValueError, EOFError, zlib.error,
            ParseError, OSError) as exc:
        logger.debug("unreadable workbook: %s", type(exc).__name__)
        raise ImportFileError(f"Le classeur {path.name} est illisible ou incomplet (fichier tronqué ou abîmé ?). "
                              "Ouvrez-le et enregistrez-le de nouveau au format .xlsx.", field="file") from exc
    return _table(SourceInfo(path.name, "XLSX"), enumerate(records, 1))


def _table(source: SourceInfo, records: Iterable[tuple[int, list[Any]]]) -> Table:
    rows = [(number, cells) for number, cells in records if any(_filled(c) for c in cells)]
    if not rows:
        raise ImportFileError(f"Le fichier {source.name} est vide.", field="file")
    (_, header_cells), data = rows[0], rows[1:]
    headers = tuple("" if cell is None else str(cell).strip() for cell in header_cells)
    while headers and not headers[-1]:
        headers = headers[:-1]
    if len(data) > MAX_ROWS:
        raise ImportFileError(f"Le fichier {source.name} a {len(data)} lignes : {MAX_ROWS} au plus par import, "
                              "découpez-le.", field="file")
    width = len(headers)
    shaped = tuple((number, tuple(cells[:width]) + (None,) * (width - len(cells))) for number, cells in data)
    return Table(source, headers, shaped)


def _filled(cell: Any) -> bool:
    return cell is not None and str(cell).strip() != ""


# ---- Column mapping -----------------------------------------------------------------------------


class Kind(StrEnum):
    TEXT = "text"
    CODE = "code"  # a coded value (phase, statut…), given by its label or code
    DATE = "date"
    DECIMAL = "decimal"
    BOOL = "bool"
    SIRET = "siret"
    POSTAL = "postal"  # five characters, leading zero lost by spreadsheets
    PHONE = "phone"


@dataclass(frozen=True)
class Field:
    key: str  # what ``--map`` accepts: « titre », « prenom »…
    label: str
    synonyms: tuple[str, ...]  # folded, small words dropped
    kind: Kind = Kind.TEXT
    holder: bool = False


FIELDS: tuple[Field, ...] = (
    Field("titre", "nom du projet", ("nom projet", "projet", "titre", "titre projet", "intitule", "intitule projet",
                                     "raison sociale", "denomination", "nom structure")),
    Field("resume", "résumé", ("resume", "description", "presentation", "resume projet")),
    Field("phase", "phase", ("phase", "phase actuelle", "etape"), Kind.CODE),
    Field("date_entree", "date d'entrée dans la phase",
          ("date entree", "date entree phase", "entree phase", "date phase", "depuis", "date debut",
           "date debut accompagnement", "date entree accompagnement"), Kind.DATE),
    Field("statut", "statut", ("statut", "etat", "statut projet"), Kind.CODE),
    Field("forme_juridique", "forme juridique", ("forme juridique", "statut juridique", "forme juridique actuelle"),
          Kind.CODE),
    Field("forme_envisagee", "forme juridique envisagée",
          ("forme juridique envisagee", "forme envisagee", "statut juridique envisage", "forme juridique visee"),
          Kind.CODE),
    Field("secteur", "secteur", ("secteur", "secteur activite", "activite", "domaine", "domaine activite"),
          Kind.CODE),
    Field("prescripteur", "prescripteur", ("prescripteur", "origine", "envoye par"), Kind.CODE),
    Field("siret", "SIRET", ("siret",), Kind.SIRET),
    Field("rna", "RNA", ("rna",)),
    Field("commune", "commune", ("commune", "ville", "localite", "nom commune")),
    Field("code_postal", "code postal", ("code postal", "cp"), Kind.POSTAL),
    Field("code_insee", "code INSEE", ("code insee", "insee", "code commune", "code insee commune"), Kind.POSTAL),
    Field("emplois_crees", "emplois créés (ETP)", ("emplois crees", "emplois crees etp", "etp crees"), Kind.DECIMAL),
    Field("emplois_maintenus", "emplois maintenus (ETP)",
          ("emplois maintenus", "emplois maintenus etp", "etp maintenus"), Kind.DECIMAL),
    Field("innovation_sociale", "innovation sociale", ("innovation sociale",), Kind.BOOL),
    Field("esus", "ESUS", ("esus", "agrement esus"), Kind.BOOL),
    Field("confidentiel", "confidentiel", ("confidentiel", "confidentialite"), Kind.BOOL),
    Field("prenom", "prénom", ("prenom", "first name", "prenom usuel"), holder=True),
    Field("nom", "nom", ("nom", "nom famille", "nom usage", "nom naissance", "last name"), holder=True),
    Field("porteur", "porteur (« Prénom Nom »)",
          ("porteur", "porteuse", "porteur projet", "prenom nom", "nom prenom", "nom complet"), holder=True),
    Field("courriel", "courriel", ("courriel", "e mail", "email", "mail", "mel", "adresse mail", "adresse e mail",
                                   "adresse electronique", "adresse courriel"), holder=True),
    Field("telephone", "téléphone", ("telephone", "tel", "portable", "mobile", "telephone portable", "tel portable",
                                     "telephone mobile"), Kind.PHONE, holder=True),
    Field("role", "rôle", ("role", "fonction"), Kind.CODE, holder=True),
)
_BY_KEY = {f.key: f for f in FIELDS}
_BY_SYNONYM = {synonym: f for f in FIELDS for synonym in f.synonyms}


@dataclass(frozen=True, order=True)
class Target:
    """Where a column goes: a project field, or a field of the ``holder``-th holder (0: the first)."""

    field: str
    holder: int = 0

    def describe(self) -> str:
        spec = _BY_KEY[self.field]
        return f"{spec.label} (porteur {self.holder + 1})" if spec.holder else spec.label


@dataclass(frozen=True)
class ColumnMapping:
    targets: tuple[Target | None, ...]  # one per column, None: ignored
    notes: tuple[str, ...] = ()

    def header_of(self, headers: tuple[str, ...], target: Target) -> str | None:
        return next((headers[i] for i, t in enumerate(self.targets) if t == target), None)


def _words(text: str) -> list[str]:
    return [w for w in re.sub(r"[^0-9a-z]+", " ", fold(text)).split() if w not in _STOP_WORDS]


def match_header(header: str) -> Target | None:
    """The field a header names (« Prénom 2 » → prénom of the second holder), or None."""
    words = _words(header)
    rank = None
    if len(words) > 1 and words[-1].isdigit():
        rank, words = int(words[-1]), words[:-1]
    spec = _BY_SYNONYM.get(" ".join(words))
    if spec is None:
        candidate = _BY_SYNONYM.get(" ".join(w for w in words if w not in _HOLDER_WORDS))
        spec = candidate if candidate is not None and candidate.holder else None
    if spec is None:
        candidate = _BY_SYNONYM.get(" ".join(w for w in words if w not in _PROJECT_WORDS))
        spec = candidate if candidate is not None and not candidate.holder else None
    if spec is None or (rank is not None and (not spec.holder or rank < 1)):
        return None
    return Target(spec.key, (rank or 1) - 1 if spec.holder else 0)


def propose_mapping(headers: tuple[str, ...]) -> ColumnMapping:
    """The field of each column, from its header; a field claimed twice keeps its first column."""
    targets: list[Target | None] = []
    notes: list[str] = []
    for header in headers:
        target = match_header(header) if header else None
        if target is not None and target in targets:
            first = headers[targets.index(target)]
            notes.append(f"La colonne « {header} » désigne aussi {target.describe()}, déjà lu dans "
                         f"« {first} » : elle est ignorée.")
            target = None
        targets.append(target)
    return ColumnMapping(tuple(targets), tuple(notes))


def parse_target(text: str | None) -> Target | None:
    """A field named by its key (« prenom2 », « prenom_2 ») or like a header (« Prénom 2 »); None: ignore it."""
    if text is None or fold(text).strip() in _IGNORE:
        return None
    compact = re.fullmatch(r"([a-z_]+?)[_: ]?(\d*)", fold(text).strip())
    if compact and compact.group(1) in _BY_KEY:
        spec, rank = _BY_KEY[compact.group(1)], int(compact.group(2) or 1)
        if rank >= 1 and (spec.holder or rank == 1):
            return Target(spec.key, rank - 1 if spec.holder else 0)
    target = match_header(text)
    if target is None:
        keys = ", ".join(f.key + ("[N]" if f.holder else "") for f in FIELDS)
        raise ValidationError(f"Correspondance : champ « {text} » inconnu. Champs possibles : {keys}, "
                              "ou « ignorer ».", field="map")
    return target


def resolve_mapping(headers: tuple[str, ...], overrides: MappingABC[str, str | None] | None = None) -> ColumnMapping:
    """The proposed mapping with the caller's choices applied (header → field, or None to ignore a column)."""
    proposed = propose_mapping(headers)
    if not overrides:
        return proposed
    targets, notes = list(proposed.targets), list(proposed.notes)
    chosen: dict[int, Target | None] = {}
    for header, wanted in overrides.items():
        index = _column_index(headers, header)
        chosen[index] = parse_target(wanted)
    for index, target in chosen.items():
        if target is not None and sum(1 for t in chosen.values() if t == target) > 1:
            raise ValidationError(f"Correspondance : plusieurs colonnes désignent {target.describe()}.", field="map")
        if target is not None and target in targets and targets.index(target) not in chosen:
            dropped = targets.index(target)
            targets[dropped] = None
            notes.append(f"La colonne « {headers[dropped]} » est ignorée : {target.describe()} est lu dans "
                         f"« {headers[index]} ».")
        targets[index] = target
    return ColumnMapping(tuple(targets), tuple(notes))


def _column_index(headers: tuple[str, ...], header: str) -> int:
    for candidates in (headers, tuple(fold(h) for h in headers)):
        wanted = header.strip() if candidates is headers else fold(header)
        if wanted in candidates:
            return candidates.index(wanted)
    raise ValidationError(f"Correspondance : aucune colonne « {header} » dans le fichier. Colonnes lues : "
                          f"{', '.join(f'« {h} »' for h in headers if h)}.", field="map")


def _mapping_errors(headers: tuple[str, ...], mapping: ColumnMapping) -> list[str]:
    mapped = {t for t in mapping.targets if t is not None}
    errors = []
    if Target("titre") not in mapped:
        errors.append("Colonnes : aucune colonne ne donne le nom du projet (« Nom du projet », « Projet » ou "
                      f"« Titre »). Colonnes lues : {', '.join(f'« {h} »' for h in headers if h)}.")
    if not ({Target("prenom"), Target("nom")} <= mapped or Target("porteur") in mapped):
        errors.append("Colonnes : aucune colonne ne donne le porteur (« Prénom » et « Nom », ou « Porteur »).")
    return errors


# ---- Reading one line ---------------------------------------------------------------------------


def _unprotect(text: str) -> str:
    """Remove the quote the CSV export puts before a formula-like text."""
    return text[1:] if text.startswith("'") and is_formula_like(text[1:]) else text


def _cell_text(value: Any, kind: Kind) -> str:
    """A cell as text; numbers that spreadsheets turned codes into get their leading zeros back."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        digits = str(value)
        if kind is Kind.SIRET:
            return digits.zfill(14)
        if kind is Kind.POSTAL:
            return digits.zfill(5)
        if kind is Kind.PHONE and len(digits) == 9:
            return "0" + digits
        return digits
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return _unprotect(str(value).strip())


def _message(exc: UserFacingError) -> str:
    """A validator's message without its own label (« SIRET « 123 » : reason » → « « 123 », reason »)."""
    if not isinstance(exc, ValidationError):
        return exc.message
    head, separator, reason = exc.message.partition(" : ")
    if not separator:
        return exc.message
    quoted = _QUOTED.search(head)
    return f"{quoted.group(0)}, {reason}" if quoted else reason


class _Line:
    """The cells of one line by target, and the errors found while reading them."""

    def __init__(self, number: int, cells: dict[Target, Any], headers: dict[Target, str]) -> None:
        self.number, self._cells, self._headers = number, cells, headers
        self.errors: list[str] = []

    def is_blank(self) -> bool:
        return all(self.raw(target) is None for target in self._cells)

    def holder_ranks(self) -> list[int]:
        """The ranks of the holders with at least one value on this line."""
        return sorted({t.holder for t in self._cells if _BY_KEY[t.field].holder and self.raw(t) is not None})

    def raw(self, target: Target) -> Any:
        value = self._cells.get(target)
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    def text(self, target: Target) -> str | None:
        value = self.raw(target)
        return None if value is None else _cell_text(value, _BY_KEY[target.field].kind) or None

    def fail(self, target: Target | None, message: str) -> None:
        where = f", colonne {self._headers[target]}" if target in self._headers else ""
        if target is not None and target not in self._headers and _BY_KEY[target.field].holder:
            where = f", porteur {target.holder + 1}"
        self.errors.append(f"Ligne {self.number}{where} : {message}")

    def check(self, target: Target, text: str | None, parser: Callable[[str], Any]) -> Any:
        """``parser(text)``, or None (the error recorded) when it fails; None for no text."""
        if text is None:
            return None
        try:
            return parser(text)
        except UserFacingError as exc:
            self.fail(target, _message(exc))
            return None

    def parse(self, target: Target, parser: Callable[[str], Any]) -> Any:
        return self.check(target, self.text(target), parser)

    def code(self, target: Target, enum_cls: type[E]) -> E | None:
        def parse(text: str) -> E:
            member = enum_cls.parse(text)
            if member is None:
                choices = ", ".join(m.label for m in enum_cls)
                raise ValidationError(f"« {text} » : valeur inconnue. Valeurs possibles : {choices}.")
            return member  # type: ignore[return-value]

        return self.parse(target, parse)  # type: ignore[no-any-return]

    def date(self, target: Target) -> dt.date | None:
        value = self.raw(target)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return self.parse(target, lambda text: validation.french_date(text))  # type: ignore[no-any-return]

    def decimal(self, target: Target) -> Decimal | None:
        value = self.raw(target)
        if isinstance(value, float) and abs(value * 100 - round(value * 100)) < 1e-6:
            return self.check(target, f"{value:.2f}", _number)  # type: ignore[no-any-return]  # binary noise
        return self.parse(target, _number)  # type: ignore[no-any-return]

    def flag(self, target: Target) -> bool:
        value = self.parse(target, _bool)
        return bool(value)


def _number(text: str) -> Decimal:
    try:
        return validation.amount(text)
    except ValidationError:
        raise ValidationError(f"« {text} » : nombre positif attendu, deux décimales au plus (ex. 2,5).") from None


def _bool(text: str) -> bool:
    folded = fold(text)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValidationError(f"« {text} » : « oui » ou « non » attendu.")


# ---- Preview ------------------------------------------------------------------------------------


class MatchRule(StrEnum):
    SIRET = "siret"
    EMAIL = "email"
    PHONE = "phone"
    NAME_COMMUNE = "name_commune"
    SIMILAR_NAME = "similar_name"

    @property
    def label(self) -> str:
        return _RULE_LABELS[self]


_RULE_LABELS = {
    MatchRule.SIRET: "même SIRET de projet, mêmes nom et prénom",
    MatchRule.EMAIL: "même courriel et même prénom",
    MatchRule.PHONE: "même téléphone et même prénom",
    MatchRule.NAME_COMMUNE: "mêmes nom, prénom et commune",
    MatchRule.SIMILAR_NAME: "nom très proche dans la même commune",
}


@dataclass(frozen=True)
class PersonMatch:
    """An existing person the holder is (``certain``) or may be (« probable ») ."""

    person_id: uuid.UUID
    rule: MatchRule
    certain: bool
    name: str  # « Prénom Nom » of the existing person, for the advisor to check


@dataclass(frozen=True)
class HolderPlan:
    number: int  # 1-based rank in the line
    draft: HolderDraft
    match: PersonMatch | None = None  # an existing person
    linked: bool = False  # the match is used (certain, or probable and linking probable matches was asked)
    same_as: tuple[int, int] | None = None  # (line, number) of an earlier holder of the file: the same person
    same_rule: MatchRule | None = None


@dataclass(frozen=True)
class LinePlan:
    line: int
    draft: ProjectDraft | None  # None when the line has errors
    holders: tuple[HolderPlan, ...] = ()
    edit: ProjectEdit | None = None  # status and jobs, set after creation
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preview:
    source: SourceInfo
    headers: tuple[str, ...]
    mapping: ColumnMapping
    lines: tuple[LinePlan, ...]
    file_errors: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[str, ...]:
        return self.file_errors + tuple(e for line in self.lines for e in line.errors)

    @property
    def projects(self) -> int:
        return sum(1 for line in self.lines if line.draft is not None)

    @property
    def holders(self) -> int:
        return sum(len(line.holders) for line in self.lines)

    @property
    def matches(self) -> int:
        """Holders found among existing persons or earlier in the file (probable ones included)."""
        return sum(1 for line in self.lines for h in line.holders if h.match is not None or h.same_as is not None)

    @property
    def new_persons(self) -> int:
        return sum(1 for line in self.lines for h in line.holders if not h.linked and h.same_as is None)


def preview_import(
    session: Session,
    actor: Actor,
    table: Table,
    *,
    today: dt.date,
    overrides: MappingABC[str, str | None] | None = None,
    link_probable: bool = False,
) -> Preview:
    """Every line of ``table`` parsed, validated and matched; nothing is written."""
    mapping = resolve_mapping(table.headers, overrides)
    file_errors = _mapping_errors(table.headers, mapping)
    if not table.rows:
        file_errors.append("Le fichier ne contient aucune ligne de données sous les en-têtes.")
    if file_errors:
        return Preview(table.source, table.headers, mapping, (), tuple(file_errors))
    headers = {t: table.headers[i] for i, t in enumerate(mapping.targets) if t is not None}
    communes = _CommuneCache(session)
    lines = [_parse_line(_Line(number, _cells(mapping, cells), headers), actor, today, communes)
             for number, cells in table.rows]
    lines = [line for line in lines if line is not None]
    matched = _Matcher(session, lines, link_probable).run()
    logger.debug("import preview: %d lines, %d errors", len(matched), sum(len(line.errors) for line in matched))
    return Preview(table.source, table.headers, mapping, tuple(matched))


def _cells(mapping: ColumnMapping, cells: tuple[Any, ...]) -> dict[Target, Any]:
    return {t: cells[i] for i, t in enumerate(mapping.targets) if t is not None}


class _CommuneCache:
    """Communes resolved once per distinct (INSEE code, name, postal code) of the file."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[tuple[str | None, str | None, str | None], str | UserFacingError | None] = {}

    def code(self, insee: str | None, name: str | None, postal: str | None) -> str | None:
        key = (insee, name, postal)
        if key not in self._known:
            try:
                self._known[key] = self._resolve(insee, name, postal)
            except UserFacingError as exc:
                self._known[key] = exc
        found = self._known[key]
        if isinstance(found, UserFacingError):
            raise found
        return found

    def _resolve(self, insee: str | None, name: str | None, postal: str | None) -> str | None:
        if insee:
            commune = get_commune(self._session, insee)
            if commune is None:
                raise ValidationError(f"« {insee} » : code INSEE inconnu.")
            return commune.code
        if name and postal:
            same = [c for c in find_communes(self._session, postal, limit=100)
                    if commune_key(c.name) == commune_key(name)]
            if len(same) == 1:
                return same[0].code
            commune = resolve_commune(self._session, name)
            if postal not in commune.postal_codes:
                raise ValidationError(f"« {name} » : aucune commune de ce nom au code postal {postal}.")
            return commune.code
        if name or postal:
            return resolve_commune(self._session, name or postal or "").code
        return None


def _parse_line(line: _Line, actor: Actor, today: dt.date, communes: _CommuneCache) -> LinePlan | None:
    """The project and holders of one line, or its errors; None for a line without any value."""
    if line.is_blank():
        return None
    t = Target
    title = line.parse(t("titre"), lambda s: validation.required_text(s, "titre", "Titre", max_length=200))
    if line.text(t("titre")) is None:
        line.fail(t("titre"), "le nom du projet est obligatoire.")
    phase_date = line.date(t("date_entree"))
    if phase_date is not None and phase_date > today:
        line.fail(t("date_entree"), f"le {validation.format_date(phase_date)} est dans le futur.")
    commune = _line_commune(line, communes)
    fields = dict(
        summary=line.parse(t("resume"), lambda s: validation.optional_text(s, "resume", "Résumé")),
        phase=line.code(t("phase"), Phase) or Phase.EMERGENCE,
        legal_form=line.code(t("forme_juridique"), LegalForm) or LegalForm.NON_DEFINIE,
        envisaged_legal_form=line.code(t("forme_envisagee"), LegalForm), sector=line.code(t("secteur"), Sector),
        prescripteur=line.code(t("prescripteur"), Prescripteur),
        siret=line.parse(t("siret"), validation.siret), rna=line.parse(t("rna"), validation.rna),
        innovation_sociale=line.flag(t("innovation_sociale")), esus=line.flag(t("esus")),
        confidential=line.flag(t("confidentiel")),
    )
    edit = _line_edit(line)
    holders = _line_holders(line)
    if line.errors:
        return LinePlan(line.number, None, errors=tuple(line.errors))
    draft = ProjectDraft(title=title, lead_structure_id=actor.structure_id, commune_code=commune,
                         holders=tuple(h.draft for h in holders), phase_date=phase_date, **fields)
    return LinePlan(line.number, draft, tuple(holders), edit)


def _line_commune(line: _Line, communes: _CommuneCache) -> str | None:
    insee, name, postal = (line.text(Target(key)) for key in ("code_insee", "commune", "code_postal"))
    try:
        return communes.code(insee, name, postal)
    except UserFacingError as exc:
        target = Target("code_insee") if insee else Target("commune") if name else Target("code_postal")
        line.fail(target, _message(exc))
        return None


def _line_edit(line: _Line) -> ProjectEdit | None:
    status = line.code(Target("statut"), ProjectStatus)
    created, maintained = line.decimal(Target("emplois_crees")), line.decimal(Target("emplois_maintenus"))
    if status in (None, ProjectStatus.ACTIF) and created is None and maintained is None:
        return None
    return ProjectEdit(status=status, jobs_created=created, jobs_maintained=maintained)


def _line_holders(line: _Line) -> list[HolderPlan]:
    ranks = line.holder_ranks()
    if not ranks:
        line.fail(None, "un porteur est attendu (prénom et nom).")
    return [h for rank in ranks if (h := _line_holder(line, rank)) is not None]


def _line_holder(line: _Line, rank: int) -> HolderPlan | None:
    def t(key: str) -> Target:
        return Target(key, rank)

    first, last, full = line.text(t("prenom")), line.text(t("nom")), line.text(t("porteur"))
    if full and not (first or last):
        parsed = line.parse(t("porteur"), HolderDraft.parse)
        first, last = (parsed.first_name, parsed.last_name) if parsed else (None, None)
    elif not (first and last):
        missing = t("prenom") if not first else t("nom")
        line.fail(missing, f"le {'prénom' if not first else 'nom'} du porteur est obligatoire.")
        return None
    first = line.check(t("prenom"), first, lambda s: validation.required_text(s, "prenom", "Prénom", max_length=100))
    last = line.check(t("nom"), last, lambda s: validation.required_text(s, "nom", "Nom", max_length=100))
    email = line.parse(t("courriel"), validation.email)
    phone = line.parse(t("telephone"), validation.phone)
    role = line.code(t("role"), MemberRole) or MemberRole.PORTEUR
    if not (first and last):
        return None
    return HolderPlan(rank + 1, HolderDraft(first, last, role, email=email, phone=phone))


# ---- Matching holders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    id: uuid.UUID
    first_name: str
    last_name: str
    commune_code: str | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _keys(draft: HolderDraft, siret: str | None, commune: str | None) -> list[tuple[MatchRule, tuple[Any, ...]]]:
    """The identity keys of a holder, in the order of the cascade (certain rules only)."""
    first = fold(draft.first_name)
    keys: list[tuple[MatchRule, tuple[Any, ...]]] = []
    if siret:
        keys.append((MatchRule.SIRET, (siret, fold(draft.last_name), first)))
    if draft.email:
        keys.append((MatchRule.EMAIL, (draft.email.lower(), first)))
    if draft.phone:
        keys.append((MatchRule.PHONE, (draft.phone, first)))
    if commune:
        keys.append((MatchRule.NAME_COMMUNE, (fold(draft.last_name), first, commune)))
    return keys


@dataclass
class _Matcher:
    """Matches the holders of parsed lines with existing persons, then with earlier holders of the file."""

    session: Session
    lines: list[LinePlan]
    link_probable: bool
    _known: dict[tuple[MatchRule, tuple[Any, ...]], list[_Known]] = field(default_factory=dict)
    _by_commune: dict[str, list[_Known]] = field(default_factory=dict)
    _folded: dict[str, list[str]] = field(default_factory=dict)  # folded « prénom nom » of _by_commune

    def run(self) -> list[LinePlan]:
        self._load()
        seen: dict[tuple[MatchRule, tuple[Any, ...]], tuple[int, int, PersonMatch | None, bool]] = {}
        return [self._line(plan, seen) if plan.draft is not None else plan for plan in self.lines]

    def _line(self, plan: LinePlan, seen: dict[Any, Any]) -> LinePlan:
        assert plan.draft is not None
        holders, errors = [], list(plan.errors)
        for holder in plan.holders:
            keys = _keys(holder.draft, plan.draft.siret, plan.draft.commune_code)
            resolved = self._resolve(holder, keys, plan, seen)
            twin = next((h for h in holders if _same_person(plan.line, h, resolved)), None)
            if twin is not None:
                errors.append(f"Ligne {plan.line} : les porteurs {twin.number} et {holder.number} semblent être la "
                              "même personne.")
            for rule, key in keys:
                seen.setdefault((rule, key), (plan.line, holder.number, resolved.match, resolved.linked))
            holders.append(resolved)
        if errors:
            return dataclasses.replace(plan, draft=None, holders=(), edit=None, errors=tuple(errors))
        return dataclasses.replace(plan, holders=tuple(holders))

    def _resolve(self, holder: HolderPlan, keys: list[Any], plan: LinePlan, seen: dict[Any, Any]) -> HolderPlan:
        match = self._existing(holder.draft, keys, plan.draft.commune_code if plan.draft else None)
        if match is not None and match.certain:
            return dataclasses.replace(holder, match=match, linked=True)
        earlier = next(((rule, seen[(rule, key)]) for rule, key in keys if (rule, key) in seen), None)
        if earlier is not None:
            rule, (line, number, first_match, first_linked) = earlier
            return dataclasses.replace(holder, match=first_match, linked=first_linked, same_as=(line, number),
                                       same_rule=rule)
        return dataclasses.replace(holder, match=match, linked=match is not None and self.link_probable)

    def _existing(self, draft: HolderDraft, keys: list[Any], commune: str | None) -> PersonMatch | None:
        for rule, key in keys:
            found = self._known.get((rule, key))
            if found:
                person = min(found, key=lambda p: p.id)  # existing duplicates: the oldest
                return PersonMatch(person.id, rule, True, person.name)
        if commune and self._by_commune.get(commune):
            pool = self._by_commune[commune]
            wanted = fold(f"{draft.first_name} {draft.last_name}")
            hit = process.extractOne(wanted, self._folded[commune], scorer=fuzz.ratio,
                                     score_cutoff=SIMILAR_NAME_CUTOFF)
            if hit is not None:
                person = pool[hit[2]]
                return PersonMatch(person.id, MatchRule.SIMILAR_NAME, False, person.name)
        return None

    def _load(self) -> None:
        """Existing persons sharing a key with a holder of the file, with a few IN queries."""
        drafts = [(h.draft, p.draft) for p in self.lines if p.draft is not None for h in p.holders]
        columns = (Person.id, Person.first_name, Person.last_name, Person.commune_code)
        live = Person.deleted_at.is_(None)
        lookups: tuple[tuple[MatchRule, set[Any], Callable[[Any], tuple[Any, ...]], Callable[[list[Any]], Any]], ...]
        lookups = (
            (MatchRule.SIRET, {d.siret for _, d in drafts if d.siret}, lambda r: (r.siret, fold(r.last_name),
             fold(r.first_name)),
             lambda chunk: select(*columns, Project.siret).join(ProjectMember, ProjectMember.person_id == Person.id)
             .join(Project, Project.id == ProjectMember.project_id)
             .where(live, ProjectMember.deleted_at.is_(None), Project.deleted_at.is_(None), Project.siret.in_(chunk))),
            (MatchRule.EMAIL, {h.email.lower() for h, _ in drafts if h.email}, lambda r: (r.email.lower(),
             fold(r.first_name)), lambda chunk: select(*columns, Person.email)
             .where(live, func.lower(Person.email).in_(chunk))),
            (MatchRule.PHONE, {h.phone for h, _ in drafts if h.phone}, lambda r: (r.phone, fold(r.first_name)),
             lambda chunk: select(*columns, Person.phone).where(live, Person.phone.in_(chunk))),
            (MatchRule.NAME_COMMUNE, {sort_key(f"{h.last_name} {h.first_name}") for h, _ in drafts},
             lambda r: (fold(r.last_name), fold(r.first_name), r.commune_code),
             lambda chunk: select(*columns).where(live, Person.sort_key.in_(chunk))),
        )
        for rule, values, key, query in lookups:
            for row in self._chunked(query, values):
                self._known.setdefault((rule, key(row)), []).append(_Known(*row[:4]))
        communes = {d.commune_code for _, d in drafts if d.commune_code}
        for row in self._chunked(lambda chunk: select(*columns).where(live, Person.commune_code.in_(chunk)), communes):
            self._by_commune.setdefault(row.commune_code, []).append(_Known(*row[:4]))
        self._folded = {code: [fold(p.name) for p in pool] for code, pool in self._by_commune.items()}

    def _chunked(self, query: Callable[[list[Any]], Any], values: set[Any]) -> Iterator[Any]:
        """The rows of ``query(chunk)`` for chunks of ``values`` small enough for SQLite's parameter limit."""
        ordered = sorted(values)
        for start in range(0, len(ordered), IN_CHUNK):
            yield from self.session.execute(query(ordered[start:start + IN_CHUNK]))


def _same_person(line: int, a: HolderPlan, b: HolderPlan) -> bool:
    """Whether ``b`` is ``a`` again, both on ``line``: the same existing person, the same earlier holder of the
    file, or ``a`` itself."""
    if a.linked and b.linked and a.match and b.match and a.match.person_id == b.match.person_id:
        return True
    return b.same_as is not None and b.same_as in (a.same_as, (line, a.number))


# ---- Apply --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    preview: Preview
    project_ids: tuple[uuid.UUID, ...]
    created_persons: int
    linked_persons: int


class ImportRejected(UserFacingError):
    """The file has errors: nothing was written."""

    def __init__(self, preview: Preview) -> None:
        errors = preview.errors
        shown = list(errors[:MAX_ERRORS_SHOWN])
        if len(errors) > MAX_ERRORS_SHOWN:
            shown.append(f"… et {len(errors) - MAX_ERRORS_SHOWN} autres erreurs.")
        count = f"{len(errors)} erreur{'s' if len(errors) > 1 else ''}"
        super().__init__(f"le fichier contient {count} ; rien n'a été importé.\n  " + "\n  ".join(shown),
                         field="file")
        self.preview = preview


def dry_run(db: Database, actor: Actor, table: Table, *, today: dt.date,
            overrides: MappingABC[str, str | None] | None = None, link_probable: bool = False) -> Preview:
    """The preview of an import, in a read-only transaction."""
    with db.read() as session:
        return preview_import(session, actor, table, today=today, overrides=overrides, link_probable=link_probable)


def apply_import(db: Database, actor: Actor, table: Table, *, today: dt.date,
                 overrides: MappingABC[str, str | None] | None = None, link_probable: bool = False) -> ImportResult:
    """Import every line in one transaction, or nothing: the preview is made again inside the transaction,
    so the matches written are those of the data as it is when writing."""
    with db.transaction() as session:
        preview = preview_import(session, actor, table, today=today, overrides=overrides,
                                 link_probable=link_probable)
        if preview.errors:
            raise ImportRejected(preview)
        actor.require_writer()
        persons: dict[tuple[int, int], uuid.UUID] = {}
        counts = {"created": 0, "linked": 0}
        project_ids = tuple(_write_line(session, actor, line, persons, counts, today) for line in preview.lines)
    logger.info("import: %d projects, %d persons created, %d linked", len(project_ids), counts["created"],
                counts["linked"])
    return ImportResult(preview, project_ids, counts["created"], counts["linked"])


def _write_line(session: Session, actor: Actor, plan: LinePlan, persons: dict[tuple[int, int], uuid.UUID],
                counts: dict[str, int], today: dt.date) -> uuid.UUID:
    assert plan.draft is not None
    try:
        drafts = []
        for holder in plan.holders:
            person_id = _person_of(session, actor, plan, holder, persons, counts)
            persons[(plan.line, holder.number)] = person_id
            drafts.append(dataclasses.replace(holder.draft, person_id=person_id))
        draft = dataclasses.replace(plan.draft, holders=tuple(drafts))
        project_id = create_project(session, actor, draft, today=today).id
        if plan.edit is not None:
            edit_project(session, actor, project_id, plan.edit)
    except UserFacingError as exc:
        raise UserFacingError(f"Ligne {plan.line} : {exc.message} Rien n'a été importé.", field="file") from exc
    return project_id


def _person_of(session: Session, actor: Actor, plan: LinePlan, holder: HolderPlan,
               persons: dict[tuple[int, int], uuid.UUID], counts: dict[str, int]) -> uuid.UUID:
    if holder.same_as is not None:
        return persons[holder.same_as]
    if holder.linked and holder.match is not None:
        counts["linked"] += 1
        return holder.match.person_id
    counts["created"] += 1
    commune = plan.draft.commune_code if plan.draft else None
    return add_person(session, actor, holder.draft, commune_code=commune).id
