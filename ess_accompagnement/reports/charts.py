"""The charts of the dashboard and of the « rapport d'activité », drawn once for the screen and the PDF.

Each chart is a reportlab ``Drawing`` built from an ``Indicators`` value. The same object is put in
the PDF as a flowable and turned into SVG (``to_svg``, pure Python) for the desktop, which shows it
with ``QSvgRenderer`` (ecosystem.md rows 11 and 27): one drawing code, no QtCharts.

Conventions: horizontal bars (long French labels stay readable), the biggest value on top unless the
categories have a natural order (phases); the Okabe–Ito colour-blind-safe palette, and every bar
carries its value, so colour is never the only cue; numbers in French (« 1 234 », « 15 000 € »);
titles and axis labels from ``reports/texts.py``; the embedded DejaVu Sans font, which draws every
French character, including the narrow no-break space of French thousands.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import format_decimal
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ess_accompagnement.domain import indicators as ind
from ess_accompagnement.domain.codes import Phase
from ess_accompagnement.reports import fonts
from ess_accompagnement.reports.texts import Charts

logger = logging.getLogger(__name__)

# Okabe & Ito (2008), « Color Universal Design »: told apart with every common colour-vision deficiency.
PALETTE = tuple(colors.HexColor(c) for c in ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"))
TEXT = colors.HexColor("#1F2A30")
MUTED = colors.HexColor("#5A6670")
GRID = colors.HexColor("#D5DCE1")
WIDTH = 500.0  # points: the text width of an A4 page with the reports' margins
MAX_BARS = 12
TITLE_SIZE, LABEL_SIZE = 10.5, 8
BAR_ROOM = 15.0  # points per category and series
Number = int | float | Decimal


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Number, ...]
    labels: tuple[str, ...]  # the text drawn at the end of each bar


@dataclass(frozen=True)
class Chart:
    """One chart: its drawing and the figure (« indicateur.dimension ») whose projects it shows."""

    key: str
    title: str
    figure_key: str
    drawing: Drawing
    empty: bool = False


# ---- French numbers ----------------------------------------------------------------------------


def french_number(value: Number, decimals: int = 0) -> str:
    """« 1 234 », « 12,5 »: CLDR French (narrow no-break space between thousands)."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(Decimal(str(value)), format=pattern, locale="fr_FR")


def french_euros(value: Number) -> str:
    """« 15 000 € » (rounded to the euro: a chart label, not an account)."""
    return french_number(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)) + "\u00a0€"


# ---- Drawing -----------------------------------------------------------------------------------


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _nice_step(top: float, integers: bool) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) giving about five grid lines up to ``top``."""
    rough = max(top, 1.0) / 5
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)
    return max(1.0, round(step)) if integers else step


def _header(drawing: Drawing, title: str, legend: Sequence[str]) -> float:
    """Draw the title (and a legend when there are several series); return the y under them."""
    top = drawing.height - TITLE_SIZE - 2
    drawing.add(String(0, top, _fit(title, fonts.BOLD, TITLE_SIZE, drawing.width), fontName=fonts.BOLD,
                       fontSize=TITLE_SIZE, fillColor=TEXT))
    if len(legend) < 2:
        return top - 8
    x, y = 0.0, top - 15
    for index, name in enumerate(legend):
        drawing.add(Rect(x, y - 1, 9, 9, fillColor=PALETTE[index % len(PALETTE)], strokeColor=None))
        drawing.add(String(x + 13, y, name, fontName=fonts.FAMILY, fontSize=LABEL_SIZE, fillColor=TEXT))
        x += 13 + stringWidth(name, fonts.FAMILY, LABEL_SIZE) + 18
    return y - 8


def empty_drawing(title: str, width: float = WIDTH) -> Drawing:
    drawing = Drawing(width, 60)
    _header(drawing, title, ())
    drawing.add(String(0, 18, Charts.EMPTY, fontName=fonts.ITALIC, fontSize=9, fillColor=MUTED))
    drawing.add(Line(0, 8, width, 8, strokeColor=GRID, strokeWidth=0.5))
    return drawing


def has_data(categories: Sequence[str], series: Sequence[Series]) -> bool:
    return bool(categories) and any(any(s.values) for s in series)


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], *, unit: str,
              integers: bool = True, width: float = WIDTH, note: str | None = None) -> Drawing:
    """Horizontal bars, one group per category (first category on top), one colour per series."""
    fonts.register_fonts()
    if not has_data(categories, series):
        return empty_drawing(title, width)
    plot_height = len(categories) * (len(series) * BAR_ROOM + 6)
    height = plot_height + (62 if len(series) > 1 else 48) + (12 if note else 0)
    drawing = Drawing(width, height)
    plot_top = _header(drawing, title, [s.name for s in series])
    label_width = min(max(stringWidth(c, fonts.FAMILY, LABEL_SIZE) for c in categories) + 6, width * 0.38)
    chart = HorizontalBarChart()
    chart.x, chart.y = label_width + 4, plot_top - plot_height
    chart.width, chart.height = width - chart.x - 56, plot_height
    # reportlab draws the first category at the bottom and the first series at the bottom of its group:
    # both are reversed, so that the page reads from the top.
    chart.data = [[float(v) for v in reversed(s.values)] for s in reversed(series)]
    _style_categories(chart, [_fit(c, fonts.FAMILY, LABEL_SIZE, label_width - 6) for c in reversed(categories)])
    _style_values(chart, max(float(v) for s in series for v in s.values), integers)
    _style_bars(chart, series)
    drawing.add(chart)
    axis_y = chart.y - 24
    drawing.add(String(chart.x + chart.width, axis_y, unit, fontName=fonts.ITALIC, fontSize=LABEL_SIZE - 0.5,
                       fillColor=MUTED, textAnchor="end"))
    if note:
        drawing.add(String(0, axis_y - 11, note, fontName=fonts.ITALIC, fontSize=LABEL_SIZE - 0.5, fillColor=MUTED))
    return drawing


def _style_categories(chart: HorizontalBarChart, names: list[str]) -> None:
    axis = chart.categoryAxis
    axis.categoryNames = names
    axis.labels.fontName, axis.labels.fontSize, axis.labels.fillColor = fonts.FAMILY, LABEL_SIZE, TEXT
    axis.labels.boxAnchor, axis.labels.dx = "e", -4
    axis.strokeColor, axis.strokeWidth = MUTED, 0.6
    axis.visibleTicks = 0


def _style_values(chart: HorizontalBarChart, top: float, integers: bool) -> None:
    axis = chart.valueAxis
    step = _nice_step(top, integers)
    axis.valueMin, axis.valueStep = 0, step
    axis.valueMax = step * math.ceil(max(top, step) / step)
    axis.labels.fontName, axis.labels.fontSize, axis.labels.fillColor = fonts.FAMILY, LABEL_SIZE - 0.5, MUTED
    axis.labelTextFormat = lambda v: french_number(v, 0 if integers or float(v).is_integer() else 1)
    axis.visibleGrid, axis.gridStrokeColor, axis.gridStrokeWidth = 1, GRID, 0.5
    axis.strokeColor, axis.visibleAxis = GRID, 1
    axis.visibleTicks = 0


def _style_bars(chart: HorizontalBarChart, series: Sequence[Series]) -> None:
    chart.barSpacing, chart.groupSpacing = 1, 6
    chart.barLabelFormat = "values"
    chart.barLabelArray = [list(reversed(s.labels)) for s in reversed(series)]
    chart.barLabels.fontName, chart.barLabels.fontSize = fonts.FAMILY, LABEL_SIZE - 0.5
    chart.barLabels.fillColor, chart.barLabels.boxAnchor, chart.barLabels.dx = TEXT, "w", 3
    for index in range(len(series)):
        chart.bars[index].fillColor = PALETTE[(len(series) - 1 - index) % len(PALETTE)]
        chart.bars[index].strokeColor = None


# ---- SVG for the screen ------------------------------------------------------------------------

_CLIP = re.compile(r"<clipPath.*?</clipPath>", re.S)
_FAMILIES = ((fonts.BOLD_ITALIC, "'DejaVu Sans'; font-weight: bold; font-style: oblique"),
             (fonts.BOLD, "'DejaVu Sans'; font-weight: bold"),
             (fonts.ITALIC, "'DejaVu Sans'; font-style: oblique"),
             (fonts.FAMILY, "'DejaVu Sans'"))


def to_svg(drawing: Drawing, title: str = "") -> bytes:
    """The drawing as SVG that QtSvg renders as the PDF does.

    QtSvg paints reportlab's ``<clipPath>`` as a black rectangle (ecosystem.md §2.1.8): it is removed;
    reportlab names fonts by face (« DejaVuSans-Bold »), named here by family, weight and style.
    """
    svg = renderSVG.drawToString(drawing)
    svg = _CLIP.sub("", svg).replace(' style="clip-path: url(#clip)"', "")
    for face, css in _FAMILIES:
        svg = svg.replace(f"font-family: {face};", f"font-family: {css};")
    if title:
        svg = svg.replace("<title>...</title>", f"<title>{_xml(title)}</title>", 1)
    return svg.encode("utf-8")


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---- The charts of a set of indicators ---------------------------------------------------------


def _counts(figures: Sequence[ind.Figure]) -> Series:
    return Series("", tuple(f.count for f in figures), tuple(french_number(f.count) for f in figures))


def _chart(key: str, figure_key: str, title: str, categories: Sequence[str], series: Sequence[Series],
           **options: Any) -> Chart:
    """A ``bar_chart`` and what the dashboard needs to know about it."""
    drawing = bar_chart(title, categories, series, **options)
    return Chart(key, title, figure_key, drawing, empty=not has_data(categories, series))


def _top(figures: Sequence[ind.Figure]) -> tuple[list[ind.Figure], str | None]:
    shown = list(figures[:MAX_BARS])
    note = Charts.FIRST_OF.format(shown=len(shown), total=len(figures)) if len(figures) > MAX_BARS else None
    return shown, note


def phase_chart(figures: ind.Indicators) -> Chart:
    order = {phase.value: index for index, phase in enumerate(Phase)}
    rows = sorted(figures.breakdown("projets_accompagnes", ind.Dimension.PHASE), key=lambda f: order.get(f.bucket, 99))
    return _chart("phase", "projets_accompagnes.phase", Charts.PHASE, [f.label for f in rows], [_counts(rows)],
                  unit=Charts.AXIS_PROJECTS)


def departement_chart(figures: ind.Indicators) -> Chart:
    rows, note = _top(figures.breakdown("projets_accompagnes", ind.Dimension.DEPARTEMENT))
    names = [f.label if f.bucket == ind.UNKNOWN else Charts.DEPARTEMENT_LABEL.format(code=f.label) for f in rows]
    return _chart("departement", "projets_accompagnes.departement", Charts.DEPARTEMENT, names, [_counts(rows)],
                  unit=Charts.AXIS_PROJECTS, note=note)


def pipeline_chart(figures: ind.Indicators, dimension: ind.Dimension = ind.Dimension.STRUCTURE) -> Chart:
    lines = figures.pipeline(dimension)
    shown = lines[:MAX_BARS]
    note = Charts.FIRST_OF.format(shown=len(shown), total=len(lines)) if len(lines) > MAX_BARS else None
    series = [Series(name, tuple(pick(line).count for line in shown), tuple(french_number(pick(line).count)
                                                                            for line in shown))
              for name, pick in ((Charts.ENTERED, _entered), (Charts.STARTED, _started))]
    title = Charts.PIPELINE_STRUCTURE if dimension is ind.Dimension.STRUCTURE else Charts.PIPELINE_DISPOSITIF
    return _chart(f"parcours_{dimension.value}", f"parcours_entres.{dimension.value}", title,
                  [line.label for line in shown], series, unit=Charts.AXIS_PROJECTS, note=note)


def _entered(line: ind.PipelineLine) -> ind.Figure:
    return line.entered


def _started(line: ind.PipelineLine) -> ind.Figure:
    return line.started


def referrals_chart(figures: ind.Indicators) -> Chart:
    accepted = {f.bucket: f for f in figures.breakdown("orientations_acceptees", ind.Dimension.STRUCTURE)}
    refused = {f.bucket: f for f in figures.breakdown("orientations_refusees", ind.Dimension.STRUCTURE)}
    labels = {f.bucket: f.label for f in (*accepted.values(), *refused.values())}

    def total(bucket: str) -> int:
        return sum(source[bucket].count for source in (accepted, refused) if bucket in source)

    buckets = sorted(labels, key=lambda b: (-total(b), labels[b]))
    shown = buckets[:MAX_BARS]
    note = Charts.FIRST_OF.format(shown=len(shown), total=len(buckets)) if len(buckets) > MAX_BARS else None
    series = []
    for name, source in ((Charts.ACCEPTED, accepted), (Charts.REFUSED, refused)):
        values = tuple(source[b].count if b in source else 0 for b in shown)
        series.append(Series(name, values, tuple(french_number(v) for v in values)))
    return _chart("orientations", "orientations_acceptees.structure", Charts.REFERRALS, [labels[b] for b in shown],
                  series, unit=Charts.AXIS_REFERRALS, note=note)


def refusals_chart(figures: ind.Indicators) -> Chart:
    rows, note = _top(figures.breakdown("orientations_refusees", ind.Dimension.REASON))
    return _chart("refus", "orientations_refusees.motif", Charts.REFUSALS, [f.label for f in rows], [_counts(rows)],
                  unit=Charts.AXIS_REFERRALS, note=note)


def appointments_chart(figures: ind.Indicators) -> Chart:
    rows = list(figures.breakdown("rendez_vous_realises", ind.Dimension.MODE))
    labels = tuple(f"{french_number(f.count)} ({french_number(f.value or 0)}\u00a0h)" for f in rows)
    series = Series("", tuple(f.count for f in rows), labels)
    return _chart("rendez_vous", "rendez_vous_realises.mode", Charts.APPOINTMENTS, [f.label for f in rows], [series],
                  unit=Charts.AXIS_APPOINTMENTS)


def financing_chart(figures: ind.Indicators) -> Chart:
    rows = [f for f in figures.breakdown("financements_accordes", ind.Dimension.INSTRUMENT) if f.value]
    series = Series("", tuple(f.value or 0 for f in rows), tuple(french_euros(f.value or 0) for f in rows))
    return _chart("financements", "financements_accordes.instrument", Charts.FINANCING, [f.label for f in rows],
                  [series], unit=Charts.AXIS_EUROS, integers=False)


CHART_BUILDERS: tuple[Callable[[ind.Indicators], Chart], ...] = (
    phase_chart, departement_chart, pipeline_chart, referrals_chart, refusals_chart, appointments_chart,
    financing_chart,
)


def build_charts(figures: ind.Indicators) -> list[Chart]:
    """Every chart of the dashboard and the report, in their order."""
    charts = [build(figures) for build in CHART_BUILDERS]
    logger.debug("charts drawn: %d (%d empty)", len(charts), sum(c.empty for c in charts))
    return charts
