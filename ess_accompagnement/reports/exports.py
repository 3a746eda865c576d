"""Every list to a spreadsheet: XLSX for funders and CSV for French Excel, streamed from the database.

- **Columns** of each kind (projects, persons, appointments, referrals, financing) are declared once,
  in ``_SOURCES`` below: French header, value getter, type, width. The project sheet is also the
  import format of ``reports/imports.py``: its headers are names the import recognises, so an export
  re-imported into an empty database gives the same projects and holders back.
- **XLSX**: openpyxl write-only mode (rows stream to a temporary file, never held in memory); dates are
  real dates shown ``DD/MM/YYYY``, amounts numbers rounded to cents shown ``# ##0,00 €`` (the format
  code is written locale-neutral, ``#,##0.00 "€"``, and Excel displays it the French way), booleans
  « oui »/« non »; bold, frozen header row with a filter; column widths set.
- **CSV** for French Excel: UTF-8 with BOM, ``;``, CRLF, ``JJ/MM/AAAA`` dates, decimal commas, no
  thousands separator, no ``sep=;`` line (it breaks every reader but Excel).
- **Formula injection** (OWASP « CSV Injection »): a text starting with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return is never a formula. In XLSX such a cell is forced to the string type
  (openpyxl would otherwise store ``=…`` as a formula). In CSV the rule chosen is OWASP's: prefix the
  cell with a single quote ``'``, which Excel and LibreOffice show as text; a text that already starts
  with ``'`` followed by one of those characters gets a quote too, so the import can remove exactly
  one quote and give every text back unchanged. Only text columns are concerned: numbers and dates
  are written by us and never start with these characters.
- **Batches**: rows are read 2 000 at a time with a keyset on the id (``id > last ORDER BY id``), inside
  one read transaction (a consistent snapshot), selecting columns rather than ORM objects, so
  100 000 rows never sit in memory. ``progress(done, total)`` is called after each batch and
  ``cancelled()`` before each one.
- **Nothing half-written**: the file is written beside the target under a temporary name, then renamed
  over it; on an error or a cancellation the temporary file is removed and the target left untouched.
- Only rows not deleted; ``structure_id`` keeps a structure's own data (projects it leads, persons,
  appointments and financing lines it owns or funds, referrals it sent or received).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, Protocol

import phonenumbers
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from ess_accompagnement.domain import settings
from ess_accompagnement.domain.codes import Coded, Phase
from ess_accompagnement.domain.entities import (
    Advisor,
    Appointment,
    Commune,
    Dispositif,
    Financing,
    Permanence,
    Person,
    Project,
    ProjectMember,
    Referral,
    Structure,
)
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.domain.queries.projects import ProjectFilter, filtered_project_ids, role_order
from ess_accompagnement.domain.referrals import derived_status
from ess_accompagnement.domain.validation import PARIS, format_phone
from ess_accompagnement.reports.files import write_atomically
from ess_accompagnement.store.db import Database
from ess_accompagnement.store.derived import project_state

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TEXT_LIMIT = 32_767  # characters in one Excel cell
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
AMOUNT_FORMAT = '#,##0.00 "€"'
DECIMAL_FORMAT = "#,##0.00"
Record = dict[str, Any]
_METROPOLITAN = re.compile(r"\+33([1-79]\d{8})")  # 08… numbers have their own grouping (0 800 12 34 56)
Progress = Callable[[int, int], None]


class ExportKind(StrEnum):
    PROJECTS = "projects"
    PERSONS = "persons"
    APPOINTMENTS = "appointments"
    REFERRALS = "referrals"
    FINANCING = "financing"


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class ColumnType(Enum):
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    AMOUNT = "amount"  # euros
    DECIMAL = "decimal"  # ETP and other numbers with two decimals
    INTEGER = "integer"
    BOOL = "bool"


@dataclass(frozen=True)
class Column:
    header: str
    get: Callable[[Record], Any]
    type: ColumnType = ColumnType.TEXT
    width: int = 14


@dataclass(frozen=True)
class ExportOptions:
    structure_id: uuid.UUID | None
    today: dt.date
    projects: ProjectFilter | None = None
    """For the projects list: only the projects this filter picks (the list the advisor is looking at)."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    kind: ExportKind
    format: ExportFormat
    rows: int


class ExportCancelled(UserFacingError):
    """The user stopped the export; no file was written."""

    def __init__(self) -> None:
        super().__init__("Export annulé : aucun fichier n'a été écrit.")


# ---- Cell values --------------------------------------------------------------------------------


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula (or as a quote-protected formula)."""
    if text.startswith(FORMULA_STARTS):
        return True
    return text.startswith("'") and is_formula_like(text[1:])


def protect_csv_text(text: str) -> str:
    """OWASP's rule: a single quote before any text a spreadsheet could take for a formula."""
    return "'" + text if is_formula_like(text) else text


def _label(value: Any) -> str | None:
    return value.label if isinstance(value, Coded) else value


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """A stored UTC datetime as the naive local time of France (Excel has no time zones)."""
    return value.astimezone(PARIS).replace(tzinfo=None) if value is not None else None


def _phone(value: str | None) -> str | None:
    """A stored E.164 number as advisors write it; metropolitan numbers formatted without phonenumbers (slow)."""
    if not value:
        return None
    metropolitan = _METROPOLITAN.fullmatch(value)
    if metropolitan:
        digits = "0" + metropolitan.group(1)
        return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    try:
        return format_phone(value)
    except phonenumbers.NumberParseException:  # a malformed stored number is exported as stored
        return value


def _created_day(record: Record) -> dt.date:
    return record["created_at"].astimezone(PARIS).date()


def csv_value(kind: ColumnType, value: Any) -> str:
    """A value as French Excel reads it from a CSV file."""
    if value is None or value == "":
        return ""
    if kind is ColumnType.TEXT:
        return protect_csv_text(str(_label(value)))
    if kind is ColumnType.BOOL:
        return "oui" if value else "non"
    if kind is ColumnType.DATE:
        return value.strftime("%d/%m/%Y")
    if kind is ColumnType.DATETIME:
        return value.strftime("%d/%m/%Y %H:%M")
    if kind in (ColumnType.AMOUNT, ColumnType.DECIMAL):
        return f"{Decimal(value).quantize(Decimal('0.01'))}".replace(".", ",")
    return str(int(value))


# ---- Writers ------------------------------------------------------------------------------------


class _Writer(Protocol):
    def row(self, values: list[Any]) -> None: ...

    def finish(self) -> None: ...

    def abort(self) -> None: ...


class _CsvWriter:
    def __init__(self, path: Path, columns: tuple[Column, ...]) -> None:
        self._columns = columns
        self._file = open(path, "w", encoding="utf-8-sig", newline="")  # closed by finish() or abort()
        self._csv = csv.writer(self._file, delimiter=";", lineterminator="\r\n")
        self._csv.writerow([protect_csv_text(c.header) for c in columns])

    def row(self, values: list[Any]) -> None:
        self._csv.writerow([csv_value(c.type, v) for c, v in zip(self._columns, values, strict=True)])

    def finish(self) -> None:
        self._file.close()

    def abort(self) -> None:
        self._file.close()


class _XlsxWriter:
    def __init__(self, path: Path, title: str, columns: tuple[Column, ...]) -> None:
        self._path, self._columns, self._rows = path, columns, 0
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title)
        for index, column in enumerate(columns, 1):  # widths and panes must precede the rows
            self._sheet.column_dimensions[get_column_letter(index)].width = max(column.width, len(column.header) + 2)
        self._sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        self._sheet.append([self._text_cell(c.header, font=bold) for c in columns])

    def _text_cell(self, text: str, font: Font | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(self._sheet, value=None)
        cell.value = text  # may bind as a formula ('f') or an error code ('e')…
        cell.data_type = "s"  # …but always stays a string
        if font is not None:
            cell.font = font
        return cell

    def _number_cell(self, value: Any, number_format: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self._sheet, value=value)
        cell.number_format = number_format
        return cell

    def _value(self, kind: ColumnType, value: Any) -> Any:
        if value is None or value == "":
            return None
        if kind is ColumnType.TEXT:
            text = ILLEGAL_CHARACTERS_RE.sub("", str(_label(value)))[:XLSX_TEXT_LIMIT]
            return self._text_cell(text) if text.startswith(FORMULA_STARTS) or text in ERROR_CODES else text
        if kind is ColumnType.BOOL:
            return "oui" if value else "non"
        if kind is ColumnType.DATE:
            return self._number_cell(value, DATE_FORMAT)
        if kind is ColumnType.DATETIME:
            return self._number_cell(value, DATETIME_FORMAT)
        if kind in (ColumnType.AMOUNT, ColumnType.DECIMAL):
            rounded = float(Decimal(value).quantize(Decimal("0.01")))
            return self._number_cell(rounded, AMOUNT_FORMAT if kind is ColumnType.AMOUNT else DECIMAL_FORMAT)
        return int(value)

    def row(self, values: list[Any]) -> None:
        self._sheet.append([self._value(c.type, v) for c, v in zip(self._columns, values, strict=True)])
        self._rows += 1

    def finish(self) -> None:
        self._sheet.auto_filter.ref = f"A1:{get_column_letter(len(self._columns))}{self._rows + 1}"
        self._book.save(self._path)

    def abort(self) -> None:
        """Close the sheet's stream and remove openpyxl's own temporary file (else kept until exit)."""
        with contextlib.suppress(Exception):
            self._sheet.close()
        writer = getattr(self._sheet, "_writer", None)  # openpyxl internals: the sheet's temporary file
        if writer is not None:
            with contextlib.suppress(OSError, ValueError):
                writer.cleanup()


# ---- Sources: one per kind of list --------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    title: str
    id_column: Any
    query: Callable[[ExportOptions], Select[Any]]
    columns: Callable[[Session, ExportOptions], tuple[Column, ...]]
    enrich: Callable[[Session, list[Record], ExportOptions], None] | None = None


def _get(key: str) -> Callable[[Record], Any]:
    return lambda record: record.get(key)


def _common_tail(ident: str = "Identifiant") -> tuple[Column, ...]:
    return (Column(ident, lambda r: str(r["id"]), width=36),)


def _projects_query(options: ExportOptions) -> Select[Any]:
    query = (
        select(Project.id, Project.title, Project.summary, project_state.c.phase, project_state.c.phase_since,
               project_state.c.last_activity, Project.status, Project.legal_form, Project.envisaged_legal_form,
               Project.sector, Project.prescripteur, Project.siret, Project.rna, Project.commune_code,
               Commune.name.label("commune"), Commune.departement, Commune.epci_name,
               Structure.name.label("structure"), Advisor.name.label("advisor"), Project.jobs_created,
               Project.jobs_maintained, Project.innovation_sociale, Project.esus, Project.confidential,
               Project.created_at)
        .outerjoin(project_state, project_state.c.project_id == Project.id)
        .outerjoin(Commune, Commune.code == Project.commune_code)
        .outerjoin(Structure, Structure.id == Project.lead_structure_id)
        .outerjoin(Advisor, Advisor.id == Project.lead_advisor_id)
        .where(Project.deleted_at.is_(None))
    )
    if options.projects is not None:
        query = query.where(Project.id.in_(filtered_project_ids(options.projects)))
    return _led_by(query, options)


def _led_by(query: Select[Any], options: ExportOptions) -> Select[Any]:
    if options.structure_id is not None:
        query = query.where(Project.lead_structure_id == options.structure_id)
    return query


def _live_members() -> Select[Any]:
    return (select(ProjectMember.project_id).join(Person, Person.id == ProjectMember.person_id)
            .where(ProjectMember.deleted_at.is_(None), Person.deleted_at.is_(None)))


def _max_holders(session: Session, options: ExportOptions) -> int:
    """How many holder column groups the project sheet needs (one at least)."""
    projects = _led_by(select(Project.id).where(Project.deleted_at.is_(None)), options)
    counts = (_live_members().add_columns(func.count().label("n"))
              .where(ProjectMember.project_id.in_(projects)).group_by(ProjectMember.project_id).subquery())
    return max(1, int(session.scalar(select(func.max(counts.c.n))) or 0))


def _add_project_details(session: Session, records: list[Record], _options: ExportOptions) -> None:
    ids = [r["id"] for r in records]
    rows = session.execute(
        _live_members().add_columns(ProjectMember.role, Person.first_name, Person.last_name, Person.email,
                                    Person.phone)
        .where(ProjectMember.project_id.in_(ids)).order_by(ProjectMember.project_id, role_order(), Person.sort_key)
    ).all()
    holders: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        holders[row.project_id].append(row)
    for record in records:
        record["holders"] = holders.get(record["id"], [])
        record["phase"] = Phase(record["phase"]) if record["phase"] else None


def _holder(index: int, attribute: str) -> Callable[[Record], Any]:
    def get(record: Record) -> Any:
        holders = record["holders"]
        if index >= len(holders):
            return None
        value = getattr(holders[index], attribute)
        return _phone(value) if attribute == "phone" else value

    return get


def holder_columns(index: int) -> tuple[Column, ...]:
    """The columns of the ``index``-th holder (0: « Prénom », « Nom »…; 1: « Prénom 2 », « Nom 2 »…)."""
    suffix = f" {index + 1}" if index else ""
    return (
        Column(f"Prénom{suffix}", _holder(index, "first_name"), width=14),
        Column(f"Nom{suffix}", _holder(index, "last_name"), width=16),
        Column(f"Courriel{suffix}", _holder(index, "email"), width=26),
        Column(f"Téléphone{suffix}", _holder(index, "phone"), width=16),
        Column(f"Rôle{suffix}", _holder(index, "role"), width=14),
    )


def _project_columns(session: Session, options: ExportOptions) -> tuple[Column, ...]:
    T = ColumnType
    head = (
        Column("Nom du projet", _get("title"), width=36),
        Column("Phase", _get("phase"), width=16),
        Column("Date d'entrée dans la phase", _get("phase_since"), T.DATE),
        Column("Statut", _get("status"), width=16),
        Column("Commune", _get("commune"), width=20),
        Column("Code INSEE", _get("commune_code"), width=10),
        Column("Département", _get("departement"), width=8),
        Column("EPCI", _get("epci_name"), width=30),
        Column("Forme juridique", _get("legal_form"), width=18),
        Column("Forme juridique envisagée", _get("envisaged_legal_form"), width=18),
        Column("Secteur", _get("sector"), width=22),
        Column("Prescripteur", _get("prescripteur"), width=18),
        Column("SIRET", _get("siret"), width=16),
        Column("RNA", _get("rna"), width=12),
        Column("Emplois créés (ETP)", _get("jobs_created"), T.DECIMAL),
        Column("Emplois maintenus (ETP)", _get("jobs_maintained"), T.DECIMAL),
        Column("Innovation sociale", _get("innovation_sociale"), T.BOOL),
        Column("ESUS", _get("esus"), T.BOOL, width=8),
        Column("Confidentiel", _get("confidential"), T.BOOL),
        Column("Résumé", _get("summary"), width=40),
    )
    holders = tuple(c for i in range(_max_holders(session, options)) for c in holder_columns(i))
    tail = (
        Column("Structure", _get("structure"), width=30),
        Column("Conseiller", _get("advisor"), width=20),
        Column("Dernière activité", _get("last_activity"), T.DATE),
        Column("Créé le", _created_day, T.DATE),
    )
    return head + holders + tail + _common_tail()


def _persons_query(options: ExportOptions) -> Select[Any]:
    query = (
        select(Person.id, Person.first_name, Person.last_name, Person.gender, Person.birth_year, Person.email,
               Person.phone, Person.commune_code, Commune.name.label("commune"), Person.situation,
               Person.consent_date, Person.consent_scope, Person.consent_source, Person.created_at)
        .outerjoin(Commune, Commune.code == Person.commune_code)
        .where(Person.deleted_at.is_(None))
    )
    if options.structure_id is not None:
        query = query.where(Person.owner_structure_id == options.structure_id)
    return query


def _add_person_projects(session: Session, records: list[Record], _options: ExportOptions) -> None:
    rows = session.execute(
        select(ProjectMember.person_id, Project.title).join(Project, Project.id == ProjectMember.project_id)
        .where(ProjectMember.person_id.in_([r["id"] for r in records]), ProjectMember.deleted_at.is_(None),
               Project.deleted_at.is_(None))
        .order_by(ProjectMember.person_id, Project.sort_key)
    ).all()
    titles: dict[uuid.UUID, list[str]] = defaultdict(list)
    for person_id, title in rows:
        titles[person_id].append(title)
    for record in records:
        record["projects"] = " ; ".join(titles.get(record["id"], [])) or None


def _person_columns(_session: Session, _options: ExportOptions) -> tuple[Column, ...]:
    T = ColumnType
    return (
        Column("Prénom", _get("first_name")), Column("Nom", _get("last_name"), width=16),
        Column("Genre", _get("gender")), Column("Année de naissance", _get("birth_year"), T.INTEGER),
        Column("Courriel", _get("email"), width=26), Column("Téléphone", lambda r: _phone(r["phone"]), width=16),
        Column("Commune", _get("commune"), width=20), Column("Code INSEE", _get("commune_code"), width=10),
        Column("Situation", _get("situation"), width=18), Column("Projets", _get("projects"), width=40),
        Column("Date du consentement", _get("consent_date"), T.DATE),
        Column("Portée du consentement", _get("consent_scope"), width=30),
        Column("Recueil du consentement", _get("consent_source"), width=14),
        Column("Créé le", _created_day, T.DATE),
        *_common_tail(),
    )


def _appointments_query(options: ExportOptions) -> Select[Any]:
    query = (
        select(Appointment.id, Appointment.project_id, Project.title.label("project"), Appointment.starts_at,
               Appointment.duration_minutes, Appointment.mode, Appointment.status, Appointment.place,
               Permanence.name.label("permanence"), Advisor.name.label("advisor"),
               Structure.name.label("structure"), Appointment.topics, Appointment.shared)
        .join(Project, Project.id == Appointment.project_id)
        .outerjoin(Permanence, Permanence.id == Appointment.permanence_id)
        .outerjoin(Advisor, Advisor.id == Appointment.advisor_id)
        .outerjoin(Structure, Structure.id == Appointment.owner_structure_id)
        .where(Appointment.deleted_at.is_(None), Project.deleted_at.is_(None))
    )
    if options.structure_id is not None:
        query = query.where(Appointment.owner_structure_id == options.structure_id)
    return query


def _appointment_columns(_session: Session, _options: ExportOptions) -> tuple[Column, ...]:
    T = ColumnType
    return (
        Column("Projet", _get("project"), width=36),
        Column("Date et heure", lambda r: _local(r["starts_at"]), T.DATETIME, width=17),
        Column("Durée (min)", _get("duration_minutes"), T.INTEGER, width=10),
        Column("Mode", _get("mode")), Column("Statut", _get("status")),
        Column("Lieu", lambda r: r["place"] or r["permanence"], width=30),
        Column("Conseiller", _get("advisor"), width=20), Column("Structure", _get("structure"), width=30),
        Column("Sujets", lambda r: " ; ".join(r["topics"] or []) or None, width=30),
        Column("Partagé", _get("shared"), T.BOOL, width=9),
        Column("Identifiant du projet", lambda r: str(r["project_id"]), width=36),
        *_common_tail(),
    )


def _referrals_query(options: ExportOptions) -> Select[Any]:
    source, target = aliased(Structure), aliased(Structure)
    query = (
        select(Referral.id, Referral.project_id, Project.title.label("project"), source.name.label("from_name"),
               Advisor.name.label("from_advisor"), target.name.label("to_name"), Dispositif.name.label("dispositif"),
               Referral.motive, Referral.phase_at_referral, Referral.proposed_on, Referral.cancelled_on,
               Referral.answer, Referral.answered_on, Referral.refusal_reason, Referral.started_on,
               Referral.closed_on, Referral.outcome)
        .join(Project, Project.id == Referral.project_id)
        .join(source, source.id == Referral.from_structure_id)
        .join(target, target.id == Referral.to_structure_id)
        .outerjoin(Advisor, Advisor.id == Referral.from_advisor_id)
        .outerjoin(Dispositif, Dispositif.id == Referral.to_dispositif_id)
        .where(Referral.deleted_at.is_(None), Project.deleted_at.is_(None))
    )
    if options.structure_id is not None:
        query = query.where(or_(Referral.from_structure_id == options.structure_id,
                                Referral.to_structure_id == options.structure_id))
    return query


def _add_referral_status(session: Session, records: list[Record], options: ExportOptions) -> None:
    expiry = settings.referral_expiry_days(session)
    for r in records:
        r["status"] = derived_status(r["answer"], r["cancelled_on"], r["proposed_on"], today=options.today,
                                     expiry_days=expiry)


def _referral_columns(_session: Session, _options: ExportOptions) -> tuple[Column, ...]:
    T = ColumnType
    return (
        Column("Projet", _get("project"), width=36), Column("Statut", _get("status")),
        Column("Structure émettrice", _get("from_name"), width=30),
        Column("Conseiller émetteur", _get("from_advisor"), width=20),
        Column("Structure destinataire", _get("to_name"), width=30),
        Column("Dispositif", _get("dispositif"), width=24), Column("Motif", _get("motive"), width=40),
        Column("Phase à l'orientation", _get("phase_at_referral"), width=16),
        Column("Proposée le", _get("proposed_on"), T.DATE), Column("Annulée le", _get("cancelled_on"), T.DATE),
        Column("Réponse le", _get("answered_on"), T.DATE), Column("Motif du refus", _get("refusal_reason"), width=24),
        Column("Démarrée le", _get("started_on"), T.DATE), Column("Close le", _get("closed_on"), T.DATE),
        Column("Résultat", _get("outcome"), width=24),
        Column("Identifiant du projet", lambda r: str(r["project_id"]), width=36),
        *_common_tail(),
    )


def _financing_query(options: ExportOptions) -> Select[Any]:
    query = (
        select(Financing.id, Financing.project_id, Project.title.label("project"), Financing.instrument,
               Dispositif.name.label("dispositif"), Structure.name.label("funder"), Financing.funder_name,
               Financing.amount_requested, Financing.amount_granted, Financing.status, Financing.requested_on,
               Financing.decided_on, Financing.comment)
        .join(Project, Project.id == Financing.project_id)
        .outerjoin(Dispositif, Dispositif.id == Financing.dispositif_id)
        .outerjoin(Structure, Structure.id == Financing.funder_structure_id)
        .where(Financing.deleted_at.is_(None), Project.deleted_at.is_(None))
    )
    if options.structure_id is not None:
        query = query.where(or_(Financing.owner_structure_id == options.structure_id,
                                Financing.funder_structure_id == options.structure_id))
    return query


def _financing_columns(_session: Session, _options: ExportOptions) -> tuple[Column, ...]:
    T = ColumnType
    return (
        Column("Projet", _get("project"), width=36), Column("Instrument", _get("instrument"), width=22),
        Column("Dispositif", _get("dispositif"), width=24),
        Column("Financeur", lambda r: r["funder"] or r["funder_name"], width=30),
        Column("Montant demandé", _get("amount_requested"), T.AMOUNT, width=16),
        Column("Montant accordé", _get("amount_granted"), T.AMOUNT, width=16),
        Column("Statut", _get("status")), Column("Demandé le", _get("requested_on"), T.DATE),
        Column("Décidé le", _get("decided_on"), T.DATE), Column("Commentaire", _get("comment"), width=40),
        Column("Identifiant du projet", lambda r: str(r["project_id"]), width=36),
        *_common_tail(),
    )


_SOURCES: dict[ExportKind, _Source] = {
    ExportKind.PROJECTS: _Source("Projets", Project.id, _projects_query, _project_columns,
                                      _add_project_details),
    ExportKind.PERSONS: _Source("Porteurs", Person.id, _persons_query, _person_columns, _add_person_projects),
    ExportKind.APPOINTMENTS: _Source("Rendez-vous", Appointment.id, _appointments_query, _appointment_columns),
    ExportKind.REFERRALS: _Source("Orientations", Referral.id, _referrals_query, _referral_columns,
                                  _add_referral_status),
    ExportKind.FINANCING: _Source("Financements", Financing.id, _financing_query, _financing_columns),
}


def columns_of(session: Session, kind: ExportKind, options: ExportOptions) -> tuple[Column, ...]:
    """The columns of a kind of list (the project sheet has as many holder groups as needed)."""
    return _SOURCES[kind].columns(session, options)


# ---- Running an export --------------------------------------------------------------------------


def _batches(session: Session, source: _Source, options: ExportOptions, size: int) -> Iterator[list[Record]]:
    """The rows, ``size`` at a time, by increasing id (keyset pagination: no OFFSET, no growing scan)."""
    base, last = source.query(options).order_by(source.id_column).limit(size), None
    while True:
        query = base if last is None else base.where(source.id_column > last)
        records = [dict(row._mapping) for row in session.execute(query)]
        if not records:
            return
        if source.enrich is not None:
            source.enrich(session, records, options)
        yield records
        if len(records) < size:
            return
        last = records[-1]["id"]


def _count(session: Session, source: _Source, options: ExportOptions) -> int:
    return int(session.scalar(select(func.count()).select_from(source.query(options).subquery())) or 0)


def _open_writer(fmt: ExportFormat, path: Path, title: str, columns: tuple[Column, ...]) -> _Writer:
    if fmt is ExportFormat.XLSX:
        return _XlsxWriter(path, title, columns)
    return _CsvWriter(path, columns)


def export_list(
    db: Database,
    kind: ExportKind,
    fmt: ExportFormat,
    out: Path | str,
    *,
    structure_id: uuid.UUID | None = None,
    project_filter: ProjectFilter | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ExportResult:
    """Write the list of ``kind`` to ``out``; raise ``ExportCancelled`` if ``cancelled()`` turns true.

    ``project_filter`` narrows the projects list to what a list screen shows (other kinds ignore it).
    """
    out = Path(out)
    options = ExportOptions(structure_id, today or dt.datetime.now(PARIS).date(), project_filter)
    with write_atomically(out) as temporary:
        rows = _write(db, kind, fmt, temporary, options, progress, cancelled, batch_size)
    logger.info("export %s (%s): %d rows", kind.value, fmt.value, rows)
    return ExportResult(out, kind, fmt, rows)


def _write(db: Database, kind: ExportKind, fmt: ExportFormat, path: Path, options: ExportOptions,
           progress: Progress | None, cancelled: Callable[[], bool] | None, batch_size: int) -> int:
    source = _SOURCES[kind]
    with db.read() as session:
        total = _count(session, source, options)
        columns = source.columns(session, options)
        writer = _open_writer(fmt, path, source.title, columns)
        done = 0
        try:
            if progress is not None:
                progress(0, total)
            for records in _batches(session, source, options, batch_size):
                if cancelled is not None and cancelled():
                    raise ExportCancelled()
                for record in records:
                    writer.row([column.get(record) for column in columns])
                done += len(records)
                if progress is not None:
                    progress(done, max(total, done))
            writer.finish()
        except BaseException:
            writer.abort()
            raise
    return done
