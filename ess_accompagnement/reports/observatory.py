"""The yearly figures for the regional ESS observatory (CRESS): aggregated, de-identified, documented.

The format is described for the CRESS in ``docs/observatory-format.md`` (French): one row per
(indicator, dimension, value) with a count and, for some indicators, an amount; CSV (``;``, UTF-8
with BOM, CRLF, decimal comma) or JSON. The figures are those of ``domain.indicators`` for the
calendar year, every structure and territory of the database included, with these changes:

- **No identifier, name or free text**: structures, dispositifs and funders are named by their
  catalogue key; those outside the catalogue are merged into « hors_catalogue »; permanences (named
  after places) are left out; labels come from the app's fixed code lists only.
- **Statistical secret**: every count under ``THRESHOLD`` (5) is suppressed (empty count and amount,
  ``secret`` flag). Secondary suppression: in a breakdown where exactly one cell is suppressed, the
  next smallest cell is suppressed too, so the published total cannot give the hidden cell back.
  Within a breakdown, rows are ordered by value code, never by count, so their order reveals nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.indicators import (
    ID_PREFIX,
    INDICATORS,
    OUTSIDE_CATALOGUE,
    Dimension,
    Figure,
    Scope,
    compute_indicators,
)
from ess_accompagnement.reports.files import write_bytes_atomically

logger = logging.getLogger(__name__)

FORMAT_NAME = "ess-accompagnement-observatoire"
FORMAT_VERSION = "1.0"
THRESHOLD = 5
FIRST_YEAR = 2000
CSV_HEADER = ("version", "annee", "extrait_le", "indicateur", "dimension", "valeur", "libelle", "effectif",
              "unite_effectif", "montant", "unite_montant", "secret")
# Dimensions whose values are the app's own code lists: their French label is published.
_LABELLED = frozenset({Dimension.ALL, Dimension.PHASE, Dimension.STATUS, Dimension.LEGAL_FORM, Dimension.SECTOR,
                       Dimension.TERRITORY, Dimension.GENDER, Dimension.AGE, Dimension.REASON, Dimension.MODE,
                       Dimension.INSTRUMENT})
_ORGANISATIONS = frozenset({Dimension.STRUCTURE, Dimension.DISPOSITIF, Dimension.FUNDER, Dimension.PAIR})
_LEFT_OUT = frozenset({Dimension.PERMANENCE})


class ObservatoryFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True)
class ObservatoryRow:
    indicator: str
    dimension: str
    value: str
    label: str
    count: int | None  # None when secret
    amount: Decimal | None  # None when secret or when the indicator has no amount
    secret: bool

    @property
    def count_unit(self) -> str:
        return INDICATORS[self.indicator].counts

    @property
    def amount_unit(self) -> str | None:
        return INDICATORS[self.indicator].value_unit


@dataclass(frozen=True)
class ObservatoryReport:
    year: int
    extracted_on: dt.date
    rows: tuple[ObservatoryRow, ...]


def build_observatory(session: Session, year: int, *, today: dt.date) -> ObservatoryReport:
    """The observatory figures of ``year`` (as of 31 December, or of today for the current year)."""
    if not FIRST_YEAR <= year <= today.year:
        raise ValidationError(f"Année {year} : entre {FIRST_YEAR} et {today.year}.", field="year")
    indicators = compute_indicators(session, Scope(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    rows = [_row(figure) for figure in _public(indicators.figures)]
    report = ObservatoryReport(year, today, tuple(suppress(rows)))
    logger.info("observatory %d: %d rows, %d secret", year, len(report.rows), sum(r.secret for r in report.rows))
    return report


def export_observatory(session: Session, year: int, out: Path | str, fmt: ObservatoryFormat, *,
                       today: dt.date) -> ObservatoryReport:
    report = build_observatory(session, year, today=today)
    write_bytes_atomically(out, render_csv(report) if fmt is ObservatoryFormat.CSV else render_json(report))
    return report


# ---- De-identification ---------------------------------------------------------------------------


def _public(figures: Iterable[Figure]) -> list[Figure]:
    """The figures with organisations outside the catalogue merged and place-named breakdowns left out."""
    merged: dict[tuple[str, Dimension, str], Figure] = {}
    for figure in figures:
        if figure.dimension in _LEFT_OUT:
            continue
        bucket = _public_bucket(figure)
        key = (figure.indicator, figure.dimension, bucket)
        if key not in merged:
            merged[key] = replace(figure, bucket=bucket)
        elif figure.indicator == "delai_reponse":
            del merged[key]  # medians cannot be merged: the pair stays out
        else:
            merged[key] = _merge(merged[key], figure)
    return list(merged.values())


def _public_bucket(figure: Figure) -> str:
    if figure.dimension not in _ORGANISATIONS:
        return figure.bucket
    return ">".join(OUTSIDE_CATALOGUE if part.startswith(ID_PREFIX) else part for part in figure.bucket.split(">"))


def _merge(first: Figure, second: Figure) -> Figure:
    value = None if first.value is None else first.value + (second.value or Decimal(0))
    return replace(first, count=first.count + second.count, value=value)


def _row(figure: Figure) -> ObservatoryRow:
    if ID_PREFIX in figure.bucket:  # an identifier must never leave in this file
        raise AssertionError(f"identifier bucket in {figure.key}")
    label = figure.label if figure.dimension in _LABELLED else ""
    return ObservatoryRow(figure.indicator, figure.dimension.value, figure.bucket, label, figure.count,
                          figure.value, secret=False)


def suppress(rows: list[ObservatoryRow], threshold: int = THRESHOLD) -> list[ObservatoryRow]:
    """Primary (count < threshold) and secondary suppression, breakdown by breakdown, rows sorted."""
    groups: dict[tuple[str, str], list[ObservatoryRow]] = {}
    for row in rows:
        groups.setdefault((row.indicator, row.dimension), []).append(row)
    order = {key: index for index, key in enumerate(INDICATORS)}
    dimensions = {d.value: index for index, d in enumerate(Dimension)}
    result = []
    for key in sorted(groups, key=lambda k: (order[k[0]], dimensions[k[1]])):
        result += sorted(_suppress_group(groups[key], threshold), key=lambda r: r.value)
    return result


def _suppress_group(cells: list[ObservatoryRow], threshold: int) -> list[ObservatoryRow]:
    secret = {index for index, cell in enumerate(cells) if cell.count is not None and cell.count < threshold}
    if len(secret) == 1 and len(cells) > 1:
        visible = [index for index in range(len(cells)) if index not in secret]
        secret.add(min(visible, key=lambda index: (cells[index].count or 0, cells[index].value)))
    return [replace(cell, count=None, amount=None, secret=True) if index in secret else cell
            for index, cell in enumerate(cells)]


# ---- Files ---------------------------------------------------------------------------------------


def _french_decimal(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f").replace(".", ",")


def render_csv(report: ObservatoryReport) -> bytes:
    """UTF-8 with BOM, ``;``, CRLF, decimal comma, no thousands separator."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in report.rows:
        writer.writerow((FORMAT_VERSION, report.year, report.extracted_on.isoformat(), r.indicator, r.dimension,
                         r.value, r.label, "" if r.count is None else r.count, r.count_unit,
                         _french_decimal(r.amount), r.amount_unit or "", int(r.secret)))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_json(report: ObservatoryReport) -> bytes:
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "annee": report.year,
        "periode": {"debut": f"{report.year}-01-01", "fin": f"{report.year}-12-31"},
        "extrait_le": report.extracted_on.isoformat(),
        "seuil_secret": THRESHOLD,
        "lignes": [
            {"indicateur": r.indicator, "dimension": r.dimension, "valeur": r.value, "libelle": r.label,
             "effectif": r.count, "unite_effectif": r.count_unit,
             "montant": None if r.amount is None else float(r.amount), "unite_montant": r.amount_unit,
             "secret": r.secret}
            for r in report.rows
        ],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
