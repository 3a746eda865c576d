"""The page furniture every printed report shares: A4 frame with header and footer, « page x / y »
numbering, paragraph styles, and the table helpers (headers repeated on each page, cells as Paragraphs).

Used by the accompaniment summary (``summary.py``) and the activity report (``activity.py``). Every font
comes from ``fonts`` (an embedded family that draws every French character, the narrow no-break space of
« 15 000,50 € » included).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from ess_accompagnement.reports import fonts
from ess_accompagnement.reports.texts import Common

# ---- Page frame: header, footer, « page x / y » ------------------------------------------------

ACCENT = colors.HexColor("#1F4E5A")
GRID = colors.HexColor("#C5CED6")
HEADER_FILL = colors.HexColor("#E6EEF1")
MUTED = colors.HexColor("#5A6670")
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 16 * mm, 22 * mm, 26 * mm
FRAME_WIDTH = A4[0] - 2 * MARGIN_X


@dataclass(frozen=True)
class PageFrame:
    """What every page of one document (a project's summary, the activity report) carries around its text."""

    key: int  # pages with the same key are numbered together (one project in a combined PDF)
    structure: str
    title: str
    printed: str
    confidentiality: str
    outline: str | None = None  # the project's entry in the PDF outline (bookmarks) of a combined PDF


class SectionStart(Flowable):
    """A zero-size mark: the pages from here on belong to ``frame`` (header, numbering)."""

    def __init__(self, frame: PageFrame) -> None:
        super().__init__()
        self.frame = frame

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 - reportlab API
        return 0, 0

    def draw(self) -> None:
        self.canv.ess_frame = self.frame  # type: ignore[attr-defined]
        if self.frame.outline:
            name = f"projet-{self.frame.key}"
            self.canv.bookmarkPage(name)
            self.canv.addOutlineEntry(self.frame.outline, name, level=0)


class NumberedCanvas(Canvas):
    """Keeps every page until the end, to write « page x / y » once y is known (ecosystem.md row 25)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pages: list[dict[str, Any]] = []
        self.ess_frame: PageFrame | None = None
        super().__init__(*args, **kwargs)

    def showPage(self) -> None:  # noqa: N802 - reportlab API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        totals = Counter(state["ess_frame"].key for state in self._pages)
        numbers: Counter[int] = Counter()
        for state in self._pages:
            self.__dict__.update(state)
            frame: PageFrame = state["ess_frame"]
            numbers[frame.key] += 1
            draw_frame(self, frame, numbers[frame.key], totals[frame.key])
            super().showPage()
        super().save()


def draw_frame(canv: Canvas, frame: PageFrame, page: int, total: int) -> None:
    width, height = A4
    right = width - MARGIN_X
    canv.saveState()
    canv.setFillColor(ACCENT)
    canv.setFont(fonts.BOLD, 8.5)
    structure = fit_text(frame.structure, fonts.BOLD, 8.5, FRAME_WIDTH * 0.45)
    canv.drawString(MARGIN_X, height - 13 * mm, structure)
    canv.setFont(fonts.FAMILY, 8.5)
    room = FRAME_WIDTH - stringWidth(structure, fonts.BOLD, 8.5) - 8 * mm
    canv.drawRightString(right, height - 13 * mm, fit_text(frame.title, fonts.FAMILY, 8.5, room))
    canv.setStrokeColor(ACCENT)
    canv.setLineWidth(0.6)
    canv.line(MARGIN_X, height - 15 * mm, right, height - 15 * mm)
    canv.setStrokeColor(GRID)
    canv.line(MARGIN_X, 20 * mm, right, 20 * mm)
    canv.setFillColor(MUTED)
    canv.setFont(fonts.ITALIC, 7)
    for index, line in enumerate(simpleSplit(frame.confidentiality, fonts.ITALIC, 7, FRAME_WIDTH)[:2]):
        canv.drawCentredString(width / 2, 16.5 * mm - index * 3.2 * mm, line)
    canv.setFont(fonts.FAMILY, 7.5)
    canv.drawString(MARGIN_X, 7.5 * mm, frame.printed)
    canv.drawRightString(right, 7.5 * mm, Common.PAGE.format(page=page, total=total))
    canv.restoreState()


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` points."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


class ReportDoc(SimpleDocTemplate):
    """A4 document that can pull the next project's flowables when the current ones run out."""

    def __init__(self, target: Any, *, feed: Callable[[], list[Flowable] | None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(target, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
                         bottomMargin=MARGIN_BOTTOM, lang="fr-FR", creator=Common.CREATOR,
                         initialFontName=fonts.FAMILY, initialFontSize=9, **kwargs)
        self._feed = feed
        self._story: list[Flowable] = []

    def build(self, flowables: list[Flowable], *args: Any, **kwargs: Any) -> None:
        self._story = flowables
        super().build(flowables, *args, **kwargs)

    def handle_flowable(self, flowables: list[Flowable]) -> None:
        # Platypus also passes its own list of page-begin actions here: only the story is extended.
        if self._feed is not None and flowables is self._story and len(flowables) <= 1:
            more = self._feed()
            if more is None:
                self._feed = None
            else:
                flowables.extend(more)
        super().handle_flowable(flowables)


# ---- Text styles and table helpers -------------------------------------------------------------


class CachedParagraph(Paragraph):
    """A Paragraph that remembers its line breaks for the last width it was wrapped to.

    A long table is wrapped again, every cell of every remaining row, each time it is split across a page;
    breaking lines is most of the drawing time, and only depends on the width.
    """

    _wrapped_width: float | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 - reportlab API
        if availWidth == self._wrapped_width:
            return self.width, self.height
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        self._wrapped_width = availWidth
        return size


def paragraph_style(name: str, **kwargs: Any) -> ParagraphStyle:
    base: dict[str, Any] = {"fontName": fonts.FAMILY, "fontSize": 9, "leading": 12}
    return ParagraphStyle(name, **{**base, **kwargs})


STYLES = {
    "body": paragraph_style("body", spaceAfter=4),
    "intro": paragraph_style("intro", spaceAfter=4, keepWithNext=1),
    "title": paragraph_style("title", fontName=fonts.BOLD, fontSize=17, leading=21, textColor=ACCENT, spaceAfter=2),
    "subtitle": paragraph_style("subtitle", fontName=fonts.ITALIC, textColor=MUTED, spaceAfter=8),
    "h2": paragraph_style("h2", fontName=fonts.BOLD, fontSize=11.5, leading=14, textColor=ACCENT, spaceBefore=10,
                 spaceAfter=4, keepWithNext=1),
    "cell": paragraph_style("cell", fontSize=8, leading=10),
    "num": paragraph_style("num", fontSize=8, leading=10, alignment=TA_RIGHT),
    "th": paragraph_style("th", fontName=fonts.BOLD, fontSize=8, leading=10, textColor=ACCENT),
    "th_num": paragraph_style("th_num", fontName=fonts.BOLD, fontSize=8, leading=10, textColor=ACCENT, alignment=TA_RIGHT),
    "key": paragraph_style("key", fontName=fonts.BOLD, fontSize=8.5, leading=11, textColor=MUTED),
    "value": paragraph_style("value", fontSize=8.5, leading=11),
    "small": paragraph_style("small", fontName=fonts.ITALIC, fontSize=7.5, leading=9.5, textColor=MUTED, spaceBefore=3),
}
TABLE_STYLE = TableStyle([
    ("FONT", (0, 0), (-1, -1), fonts.FAMILY, 8),  # what reportlab sets before each cell, Paragraph or not
    ("GRID", (0, 0), (-1, -1), 0.4, GRID),
    ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
])
KEY_VALUE_STYLE = TableStyle([
    ("FONT", (0, 0), (-1, -1), fonts.FAMILY, 8.5),
    ("LINEBELOW", (0, 0), (-1, -1), 0.3, GRID),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
])
Cell = str | Paragraph | None
SPLIT_IN_ROW = 30  # a row taller than what is left of a page is cut, keeping at least this many points each side


def escaped_text(value: str | None) -> str:
    """User text made safe for a Paragraph: escaped, line breaks kept."""
    return escape(value or "").replace("\n", "<br/>")


def paragraph(markup: str, style: str = "body") -> Paragraph:
    return CachedParagraph(markup, STYLES[style])


def escaped_lines(*parts: str | None) -> str:
    """Escaped parts, one per line, skipping the empty ones."""
    return "<br/>".join(escaped_text(part) for part in parts if part)


def data_table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], widths: Sequence[float],
           numeric: frozenset[int] = frozenset()) -> Table:
    """A table with a repeated header row; ``str`` cells are markup, ``widths`` are fractions of the frame."""
    head = [paragraph(escape(h), "th_num" if i in numeric else "th") for i, h in enumerate(headers)]
    body = [[table_cell(value, "num" if i in numeric else "cell") for i, value in enumerate(row)] for row in rows]
    table = Table([head, *body], colWidths=[w * FRAME_WIDTH for w in widths], repeatRows=1, hAlign="LEFT",
                  splitInRow=SPLIT_IN_ROW)
    table.setStyle(TABLE_STYLE)
    return table


def table_cell(value: Cell, style: str) -> Paragraph:
    if isinstance(value, Paragraph):
        return value
    return paragraph(value if value else Common.EMPTY, style)


def key_value_table(pairs: Sequence[tuple[str, str | None]]) -> Table:
    rows = [[paragraph(escape(key), "key"), paragraph(value, "value")] for key, value in pairs if value]
    table = Table(rows, colWidths=[0.25 * FRAME_WIDTH, 0.75 * FRAME_WIDTH], hAlign="LEFT")
    table.setStyle(KEY_VALUE_STYLE)
    return table
