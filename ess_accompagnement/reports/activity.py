"""« Rapport d'activité »: the dashboard's indicators as a printable PDF and as an XLSX workbook.

``build_activity_report`` computes the indicators of a scope and the names printed with them;
``key_figures`` gives the headline numbers (the dashboard's tiles, the report's first table), each
with the projects it counts; ``sections`` lays every indicator family out as typed tables, which the
PDF formats the French way and the XLSX writes as typed cells, so both files say the same thing.
Charts come from ``reports/charts.py``, the very drawings the dashboard shows. Files are written
whole or not at all (``reports/files.py``).

Internal document: small counts are shown as they are (the observatory export is the one that hides them).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import indicators as ind
from ess_accompagnement.domain.entities import Commune, Project, Structure
from ess_accompagnement.domain.errors import RuleError, ValidationError
from ess_accompagnement.domain.validation import format_amount, format_date
from ess_accompagnement.reports import fonts
from ess_accompagnement.reports.charts import Chart, build_charts, french_number
from ess_accompagnement.reports.exports import AMOUNT_FORMAT, DATE_FORMAT, FORMULA_STARTS, XLSX_TEXT_LIMIT
from ess_accompagnement.reports.files import write_atomically
from ess_accompagnement.reports.pdf import (
    STYLES,
    NumberedCanvas,
    PageFrame,
    ReportDoc,
    SectionStart,
    data_table,
    key_value_table,
    paragraph,
)
from ess_accompagnement.reports.texts import Activity, Common

logger = logging.getLogger(__name__)


class Kind(Enum):
    """How a column is typed in XLSX and formatted in the PDF."""

    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"  # one decimal: days, hours, ETP
    AMOUNT = "amount"  # euros
    PERCENT = "percent"  # a fraction, shown « 12,5 % »
    MEASURE = "measure"  # a ``Measure``: a number with its own unit


@dataclass(frozen=True)
class Measure:
    value: Decimal
    unit: str  # « € », « ETP », « h », « jours »


@dataclass(frozen=True)
class KeyFigure:
    """A headline number (a dashboard tile) and the projects it counts."""

    key: str
    label: str
    count: int
    unit: str
    project_ids: Sequence[uuid.UUID]
    measure: Measure | None = None

    @property
    def count_text(self) -> str:
        return f"{french_number(self.count)}\u00a0{self.unit}"

    @property
    def measure_text(self) -> str:
        return format_measure(self.measure) if self.measure is not None else ""

    @property
    def headline(self) -> str:
        """What a tile shows big: the amount, ETP or count."""
        return format_measure(self.measure) if self.measure is not None and self.measure.unit != "h" \
            else french_number(self.count)

    @property
    def detail(self) -> str:
        """What a tile shows under the headline: the unit, the hours, or the count behind an amount."""
        if self.measure is None:
            return self.unit
        return self.measure_text if self.measure.unit == "h" else self.count_text


@dataclass(frozen=True)
class ReportTable:
    title: str
    headers: tuple[str, ...]
    kinds: tuple[Kind, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Section:
    key: str  # the XLSX sheet's name
    title: str
    tables: tuple[ReportTable, ...]
    charts: tuple[str, ...] = ()  # keys of ``charts.Chart`` drawn in the PDF section


@dataclass(frozen=True)
class ActivityReport:
    indicators: ind.Indicators
    printed_by: str  # the structure printing the report
    structure: str | None  # the structure filter's name (None: every structure)
    departement: str | None
    printed_on: dt.date

    @property
    def parameters(self) -> tuple[tuple[str, Any], ...]:
        scope, a = self.indicators.scope, Activity
        return ((a.PARAM_START, scope.start), (a.PARAM_END, scope.end),
                (a.PARAM_STRUCTURE, self.structure or a.ALL_STRUCTURES),
                (a.PARAM_DEPARTEMENT, self.departement or a.ALL_DEPARTEMENTS),
                (a.PARAM_PRINTED_BY, self.printed_by), (a.PARAM_PRINTED_ON, self.printed_on),
                (a.PARAM_COUNTING, a.COUNTING.format(end=format_date(scope.end))))


def build_activity_report(session: Session, scope: ind.Scope, *, printing_structure_id: uuid.UUID,
                          today: dt.date) -> ActivityReport:
    """Compute the indicators of ``scope`` and the names the report prints with them."""
    figures = ind.compute_indicators(session, scope)
    names = {row[0]: row[1] for row in session.execute(select(Structure.id, Structure.name))}
    return ActivityReport(figures, printed_by=names.get(printing_structure_id, ""),
                          structure=names.get(scope.structure_id) if scope.structure_id else None,
                          departement=scope.departement, printed_on=today)


def report_departements(session: Session) -> list[str]:
    """The départements of the projects' communes: the choices of the report's département filter."""
    query = (select(Commune.departement).join(Project, Project.commune_code == Commune.code)
             .where(Project.deleted_at.is_(None)).distinct().order_by(Commune.departement))
    return list(session.scalars(query))


def write_activity_report(report: ActivityReport, out: Path | str) -> Path:
    """Write the report as PDF or XLSX, chosen by the file's extension; the file is written whole or not at all."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        render_pdf(report, path)
    elif suffix == ".xlsx":
        render_xlsx(report, path)
    else:
        raise ValidationError(Activity.UNKNOWN_FORMAT, field="out")
    logger.info("activity report written (%s)", suffix)
    return path


def check_output(out: Path | str) -> Path:
    """The report file to write, or a French error (bad extension, missing folder) before any work."""
    path = Path(out).expanduser()
    if path.suffix.lower() not in (".pdf", ".xlsx") or not path.stem:
        raise ValidationError(Activity.UNKNOWN_FORMAT, field="out")
    if not path.parent.is_dir() or path.is_dir():
        raise RuleError(Activity.CANNOT_WRITE, field="out")
    return path


# ---- Formatting --------------------------------------------------------------------------------


def format_measure(measure: Measure) -> str:
    """« 15 000,50 € », « 12,5 ETP », « 468,5 h », « 4,5 jours »."""
    if measure.unit == "€":
        return _euros(measure.value)
    return f"{french_number(measure.value, 1)}\u00a0{measure.unit}"


def _euros(value: Decimal) -> str:
    return format_amount(value.quantize(Decimal("0.01")))


def format_cell(kind: Kind, value: Any) -> str:
    """A typed cell as the PDF prints it."""
    if value is None or value == "":
        return "—"
    if kind is Kind.INT:
        return french_number(value)
    if kind is Kind.DECIMAL:
        return french_number(value, 1)
    if kind is Kind.AMOUNT:
        return _euros(Decimal(value))
    if kind is Kind.PERCENT:
        return format_decimal(Decimal(str(value)) * 100, format="#,##0.0", locale="fr_FR") + "\u00a0%"
    if kind is Kind.MEASURE:
        return format_measure(value)
    return str(value)


# ---- Key figures -------------------------------------------------------------------------------


def _union(figures: Sequence[ind.Figure]) -> ind.ProjectIds:
    return ind.ProjectIds.union(f.project_ids for f in figures)


def _total(figures: ind.Indicators, indicator: str) -> ind.Figure | None:
    return figures.figure(indicator)


def key_figures(figures: ind.Indicators) -> list[KeyFigure]:
    """The headline numbers, in the dashboard's order."""
    a = Activity
    entered = _union(figures.breakdown("parcours_entres", ind.Dimension.STRUCTURE))
    started = _union(figures.breakdown("parcours_demarres", ind.Dimension.STRUCTURE))
    result = [
        _simple(figures, "projets_accompagnes", a.KF_ACCOMPANIED, a.UNIT_PROJECTS),
        KeyFigure("nouveaux", a.KF_NEW, len(entered), a.UNIT_PROJECTS, entered),
        KeyFigure("demarres", a.KF_STARTED, len(started), a.UNIT_PROJECTS, started),
        _simple(figures, "emplois_crees", a.KF_JOBS_CREATED, a.UNIT_PROJECTS, "ETP"),
        _simple(figures, "emplois_maintenus", a.KF_JOBS_MAINTAINED, a.UNIT_PROJECTS, "ETP"),
        _simple(figures, "orientations_envoyees", a.KF_SENT, a.UNIT_REFERRALS),
        _simple(figures, "orientations_recues", a.KF_RECEIVED, a.UNIT_REFERRALS),
        _simple(figures, "orientations_acceptees", a.KF_ACCEPTED, a.UNIT_REFERRALS),
        _simple(figures, "rendez_vous_realises", a.KF_APPOINTMENTS, a.UNIT_APPOINTMENTS, "h"),
        _simple(figures, "financements_accordes", a.KF_FINANCING, a.UNIT_LINES, "€"),
        _simple(figures, "porteurs", a.KF_HOLDERS, a.UNIT_HOLDERS),
    ]
    return result


def _simple(figures: ind.Indicators, indicator: str, label: str, unit: str, measure: str | None = None) \
        -> KeyFigure:
    found = _total(figures, indicator)
    value = found.value if found is not None and found.value is not None else Decimal(0)
    return KeyFigure(indicator, label, found.count if found else 0, unit, found.project_ids if found else (),
                     Measure(value, measure) if measure else None)


# ---- Sections: every indicator family as typed tables ------------------------------------------


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def _breakdown(figures: ind.Indicators, indicator: str, dimension: ind.Dimension) -> ReportTable:
    total = figures.count(indicator)
    rows = tuple((f.label, f.count, _share(f.count, total)) for f in figures.breakdown(indicator, dimension))
    title = Activity.BY.format(indicator=ind.INDICATORS[indicator].label, dimension=dimension.label)
    return ReportTable(title, (Activity.HEADER_VALUE, Activity.HEADER_COUNT, Activity.HEADER_SHARE),
                       (Kind.TEXT, Kind.INT, Kind.PERCENT), rows)


def _key_table(figures: ind.Indicators) -> ReportTable:
    a = Activity
    rows = tuple((k.label, k.count, k.unit, k.measure) for k in key_figures(figures))
    return ReportTable(a.KEY_FIGURES, (a.HEADER_INDICATOR, a.HEADER_COUNT, a.HEADER_UNIT, a.HEADER_MEASURE),
                       (Kind.TEXT, Kind.INT, Kind.TEXT, Kind.MEASURE), rows)


def _pipeline(figures: ind.Indicators, dimension: ind.Dimension, title: str, header: str) -> ReportTable:
    a = Activity
    rows = tuple((line.label, line.entered.count, line.started.count, line.sentence)
                 for line in figures.pipeline(dimension))
    return ReportTable(title, (header, a.HEADER_ENTERED, a.HEADER_STARTED, a.HEADER_SENTENCE),
                       (Kind.TEXT, Kind.INT, Kind.INT, Kind.TEXT), rows)


_REFERRAL_KEYS = ("orientations_envoyees", "orientations_recues", "orientations_acceptees", "orientations_refusees",
                  "orientations_expirees")


def _referrals_by_structure(figures: ind.Indicators) -> ReportTable:
    a = Activity
    counts: dict[str, dict[str, int]] = {}
    for key in _REFERRAL_KEYS:
        for f in figures.breakdown(key, ind.Dimension.STRUCTURE):
            counts.setdefault(f.label, {})[key] = f.count
    rows = tuple((name, *(by_key.get(k, 0) for k in _REFERRAL_KEYS)) for name, by_key in sorted(counts.items()))
    return ReportTable(a.REFERRALS_BY_STRUCTURE, (a.HEADER_STRUCTURE, a.HEADER_SENT, a.HEADER_RECEIVED,
                                                  a.HEADER_ACCEPTED, a.HEADER_REFUSED, a.HEADER_EXPIRED),
                       (Kind.TEXT, *(Kind.INT,) * 5), rows)


def _delays(figures: ind.Indicators) -> ReportTable:
    a = Activity
    overall = figures.breakdown("delai_reponse", ind.Dimension.ALL)
    rows = tuple((a.DELAY_OVERALL if f.dimension is ind.Dimension.ALL else f.label, f.count, f.value)
                 for f in (*overall, *figures.breakdown("delai_reponse", ind.Dimension.PAIR)))
    return ReportTable(a.DELAYS, (a.HEADER_PAIR, a.HEADER_ANSWERS, a.HEADER_MEDIAN),
                       (Kind.TEXT, Kind.INT, Kind.DECIMAL), rows)


def _with_hours(figures: ind.Indicators, indicator: str, dimension: ind.Dimension, title: str) -> ReportTable:
    rows = tuple((f.label, f.count, f.value) for f in figures.breakdown(indicator, dimension))
    return ReportTable(title, (Activity.HEADER_VALUE, Activity.HEADER_COUNT, Activity.HEADER_HOURS),
                       (Kind.TEXT, Kind.INT, Kind.DECIMAL), rows)


def _jobs(figures: ind.Indicators) -> ReportTable:
    a = Activity
    rows = tuple((ind.INDICATORS[key].label, figures.count(key), _value(figures, key))
                 for key in ("emplois_crees", "emplois_maintenus"))
    return ReportTable(a.JOBS, (a.HEADER_INDICATOR, a.HEADER_PROJECTS, a.HEADER_ETP),
                       (Kind.TEXT, Kind.INT, Kind.DECIMAL), rows)


def _value(figures: ind.Indicators, key: str) -> Decimal:
    found = figures.figure(key)
    return found.value if found is not None and found.value is not None else Decimal(0)


def _financing(figures: ind.Indicators, dimension: ind.Dimension, title: str) -> ReportTable:
    a = Activity
    merged: dict[str, list[Any]] = {}
    for column, key in ((0, "financements_demandes"), (2, "financements_accordes")):
        for f in figures.breakdown(key, dimension):
            row = merged.setdefault(f.label, [0, Decimal(0), 0, Decimal(0)])
            row[column], row[column + 1] = f.count, f.value or Decimal(0)
    rows = tuple((label, *values) for label, values in sorted(merged.items(), key=lambda item: -item[1][3]))
    return ReportTable(title, (a.HEADER_VALUE, a.HEADER_LINES, a.HEADER_REQUESTED, a.HEADER_LINES,
                               a.HEADER_GRANTED), (Kind.TEXT, Kind.INT, Kind.AMOUNT, Kind.INT, Kind.AMOUNT), rows)


def sections(figures: ind.Indicators) -> list[Section]:
    """Every indicator family, as the PDF's sections and the XLSX's sheets."""
    a, d = Activity, ind.Dimension
    projects = tuple(_breakdown(figures, "projets_accompagnes", dim) for dim in (*ind.PROJECT_DIMENSIONS, d.STRUCTURE))
    return [
        Section("Chiffres clés", a.KEY_FIGURES, (_key_table(figures),)),
        Section("Projets", a.SECTION_PROJECTS, projects, ("phase", "departement")),
        Section("Porteurs", a.SECTION_HOLDERS, tuple(_breakdown(figures, "porteurs", dim)
                                                     for dim in ind.HOLDER_DIMENSIONS)),
        Section("Parcours", a.SECTION_PIPELINE, (
            _pipeline(figures, d.STRUCTURE, a.PIPELINE_BY_STRUCTURE, a.HEADER_STRUCTURE),
            _pipeline(figures, d.DISPOSITIF, a.PIPELINE_BY_DISPOSITIF, a.HEADER_DISPOSITIF)), ("parcours_structure",)),
        Section("Orientations", a.SECTION_REFERRALS, (
            _referrals_by_structure(figures), _breakdown(figures, "orientations_refusees", d.REASON),
            _delays(figures)), ("orientations", "refus")),
        Section("Rendez-vous", a.SECTION_APPOINTMENTS, (
            _with_hours(figures, "rendez_vous", d.STATUS, a.APPOINTMENTS_BY_STATUS),
            _with_hours(figures, "rendez_vous_realises", d.MODE, a.APPOINTMENTS_BY_MODE),
            _with_hours(figures, "rendez_vous_realises", d.PERMANENCE, a.APPOINTMENTS_BY_PERMANENCE)),
            ("rendez_vous",)),
        Section("Emplois", a.SECTION_JOBS, (_jobs(figures),)),
        Section("Financements", a.SECTION_FINANCING, (
            _financing(figures, d.INSTRUMENT, a.FINANCING_BY_INSTRUMENT),
            _financing(figures, d.FUNDER, a.FINANCING_BY_FUNDER)), ("financements",)),
    ]


# ---- PDF ---------------------------------------------------------------------------------------

_WEIGHTS = {Kind.TEXT: 3.0, Kind.MEASURE: 1.6, Kind.AMOUNT: 1.4}
_TABLE_TITLE = ParagraphStyle("activity_table_title", parent=STYLES["th"], fontSize=9, leading=12, spaceAfter=3,
                              keepWithNext=1)


def render_pdf(report: ActivityReport, out: Path | str) -> int:
    """Draw the report as an A4 PDF (written whole or not at all); return the number of pages."""
    fonts.register_fonts()
    charts = {chart.key: chart for chart in build_charts(report.indicators)}
    story: list[Any] = [SectionStart(_page_frame(report)), *_pdf_heading(report), Spacer(1, 4)]
    for section in sections(report.indicators):
        story += _pdf_section(section, charts)
    with write_atomically(out, message=Activity.CANNOT_WRITE, error=RuleError) as temporary:
        doc = ReportDoc(str(temporary), title=Activity.TITLE, author=report.printed_by, subject=Activity.SUBJECT)
        doc.build(story, canvasmaker=NumberedCanvas)
    return int(doc.page)


def _period(report: ActivityReport) -> tuple[str, str]:
    scope = report.indicators.scope
    return format_date(scope.start), format_date(scope.end)


def _page_frame(report: ActivityReport) -> PageFrame:
    start, end = _period(report)
    printed = babel_format_date(report.printed_on, format="full", locale="fr_FR")
    return PageFrame(key=0, structure=report.printed_by, title=f"{Activity.TITLE} – "
                     f"{Activity.PERIOD.format(start=start, end=end).lower()}",
                     printed=Common.PRINTED_ON.format(date=printed),
                     confidentiality=Activity.CONFIDENTIALITY.format(structure=report.printed_by))


def _pdf_heading(report: ActivityReport) -> list[Flowable]:
    start, end = _period(report)
    pairs = [(label, escape(format_cell(Kind.TEXT, format_date(value) if isinstance(value, dt.date) else value)))
             for label, value in report.parameters[2:-1]]
    return [paragraph(escape(Activity.TITLE), "title"), paragraph(escape(Activity.SUBTITLE.format(start=start, end=end)),
                                                           "subtitle"),
            key_value_table(pairs), paragraph(escape(report.parameters[-1][1]), "small")]


def _pdf_section(section: Section, charts: dict[str, Chart]) -> list[Flowable]:
    title = paragraph(escape(section.title), "h2")
    drawings = [KeepTogether([charts[key].drawing, Spacer(1, 8)]) for key in section.charts]
    if drawings:  # the section's title stays with its first chart
        story: list[Flowable] = [KeepTogether([title, drawings[0]]), *drawings[1:]]
    else:
        story = [CondPageBreak(120), title]
    for table in section.tables:
        if table.title != section.title:
            story.append(Paragraph(escape(table.title), _TABLE_TITLE))
        story += [_pdf_table(table), Spacer(1, 8)]
    return story


def _pdf_table(table: ReportTable) -> Flowable:
    if not table.rows:
        return paragraph(escape(Activity.NONE), "small")
    weights = [_WEIGHTS.get(kind, 1.0) for kind in table.kinds]
    widths = [w / sum(weights) for w in weights]
    numeric = frozenset(i for i, kind in enumerate(table.kinds) if kind is not Kind.TEXT)
    rows = [[escape(format_cell(kind, value)) for kind, value in zip(table.kinds, row, strict=True)]
            for row in table.rows]
    return data_table(table.headers, rows, widths, numeric)


# ---- XLSX --------------------------------------------------------------------------------------

_MEASURE_FORMATS = {"€": '#,##0.00 "€"', "ETP": '#,##0.00 "ETP"', "h": '#,##0.0 "h"'}


def render_xlsx(report: ActivityReport, out: Path | str) -> None:
    """One sheet of parameters, then one sheet per indicator family; typed cells (written whole or not at all)."""
    book = Workbook()
    sheet = book.active
    sheet.title = Activity.PARAMETERS
    _xlsx_parameters(sheet, report)
    for section in sections(report.indicators):
        _xlsx_section(book.create_sheet(section.key[:31]), section)
    with write_atomically(out, message=Activity.CANNOT_WRITE, error=RuleError) as temporary:
        book.save(temporary)


def _xlsx_text(sheet: Any, row: int, column: int, text: str, *, bold: bool = False) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", text)[:XLSX_TEXT_LIMIT]
    if str(cell.value).startswith(FORMULA_STARTS) or cell.value in ERROR_CODES:
        cell.data_type = "s"  # text starting with « = » stays text (exports.py: formula injection)
    if bold:
        cell.font = Font(bold=True)


def _xlsx_number(sheet: Any, row: int, column: int, kind: Kind, value: Any) -> None:

    if value is None:
        return
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, dt.date):
        cell.value, cell.number_format = value, DATE_FORMAT
    elif kind is Kind.INT:
        cell.value = int(value)
    elif kind is Kind.MEASURE:
        cell.value, cell.number_format = float(value.value), _MEASURE_FORMATS.get(value.unit, "#,##0.00")
    else:
        number_format = {Kind.AMOUNT: AMOUNT_FORMAT, Kind.PERCENT: "0.0 %", Kind.DECIMAL: "#,##0.0"}[kind]
        cell.value, cell.number_format = float(value), number_format


def _xlsx_parameters(sheet: Any, report: ActivityReport) -> None:
    _xlsx_text(sheet, 1, 1, Activity.TITLE, bold=True)
    for index, (label, value) in enumerate(report.parameters, 3):
        _xlsx_text(sheet, index, 1, label, bold=True)
        if isinstance(value, dt.date):
            _xlsx_number(sheet, index, 2, Kind.TEXT, value)
        else:
            _xlsx_text(sheet, index, 2, str(value))
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 34, 60


def _xlsx_section(sheet: Any, section: Section) -> None:

    widths: dict[int, int] = {}
    row = 1
    for table in section.tables:
        _xlsx_text(sheet, row, 1, table.title, bold=True)
        for column, header in enumerate(table.headers, 1):
            _xlsx_text(sheet, row + 1, column, header, bold=True)
            widths[column] = max(widths.get(column, 10), len(header) + 2)
        for offset, values in enumerate(table.rows, row + 2):
            for column, (kind, value) in enumerate(zip(table.kinds, values, strict=True), 1):
                if kind is Kind.TEXT:
                    _xlsx_text(sheet, offset, column, str(value))
                    widths[column] = min(max(widths[column], len(str(value)) + 2), 60)
                else:
                    _xlsx_number(sheet, offset, column, kind, value)
        row += len(table.rows) + 3
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A3"
