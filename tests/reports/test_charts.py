"""The charts drawn once: reportlab drawings for the PDF, the same drawings as SVG for the screen."""

from __future__ import annotations

from decimal import Decimal

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing

from ess_accompagnement.reports import charts
from ess_accompagnement.reports.texts import Charts
from tests.reports.indicator_samples import empty_indicators, sample_indicators


def _strings(drawing: Drawing) -> list[str]:
    """Every text the drawing draws (its SVG's text), no-break spaces made plain."""
    svg = charts.to_svg(drawing).decode("utf-8")
    return [part.split("<", 1)[0].replace("\u202f", " ").replace("\u00a0", " ") for part in svg.split(">")[1:]]


def test_french_numbers() -> None:
    assert charts.french_number(1234) == "1\u202f234"
    assert charts.french_number(Decimal("12.5"), 1) == "12,5"
    assert charts.french_euros(Decimal("15000.50")) == "15\u202f001\u00a0€"  # rounded half up to the euro
    assert charts.french_euros(Decimal("15000.49")) == "15\u202f000\u00a0€"


def test_every_chart_is_built_with_french_titles_and_values() -> None:
    built = {chart.key: chart for chart in charts.build_charts(sample_indicators())}
    assert list(built) == ["phase", "departement", "parcours_structure", "orientations", "refus", "rendez_vous",
                           "financements"]
    phase = _strings(built["phase"].drawing)
    assert Charts.PHASE in phase and "émergence" in phase and "734" in phase and Charts.AXIS_PROJECTS in phase
    bars = next(c for c in built["phase"].drawing.contents if isinstance(c, HorizontalBarChart))
    assert bars.categoryAxis.categoryNames[::-1] == ["émergence", "création"]  # natural order, top down
    assert "Département 37" in _strings(built["departement"].drawing)
    pipeline = _strings(built["parcours_structure"].drawing)
    assert {"92", "41", Charts.ENTERED, Charts.STARTED} <= set(pipeline)
    assert "2 000 (1 000 h)" in _strings(built["rendez_vous"].drawing)
    assert "15 001 €" in _strings(built["financements"].drawing)
    assert not any(chart.empty for chart in built.values())
    assert built["phase"].figure_key == "projets_accompagnes.phase"


def test_empty_period_draws_a_message() -> None:
    for chart in charts.build_charts(empty_indicators()):
        assert chart.empty
        assert Charts.EMPTY in _strings(chart.drawing)


def test_svg_is_safe_for_qtsvg_and_names_the_font_family() -> None:
    chart = charts.phase_chart(sample_indicators())
    svg = charts.to_svg(chart.drawing, chart.title).decode("utf-8")
    assert "<clipPath" not in svg and "clip-path" not in svg  # QtSvg paints it as a black box
    assert "font-family: 'DejaVu Sans'" in svg and "DejaVuSans-Bold;" not in svg
    assert f"<title>{chart.title}</title>" in svg


def test_long_labels_are_cut_and_bars_capped() -> None:
    names = [f"Structure au nom vraiment très très long numéro {n}" for n in range(20)]
    series = [charts.Series("", tuple(range(20, 0, -1)), tuple(str(v) for v in range(20, 0, -1)))]
    drawing = charts.bar_chart("Titre", names, series, unit="projets", note="note")
    texts = _strings(drawing)
    assert any(t.endswith("…") for t in texts)
    assert drawing.width == charts.WIDTH
    assert charts._nice_step(1, integers=True) == 1  # no « 0,25 » steps for counts
