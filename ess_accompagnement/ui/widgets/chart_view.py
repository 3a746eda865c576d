"""A chart drawn by ``reports/charts.py``, shown from its SVG at any width, keeping its proportions.

The drawing is the one the PDF prints; ``to_svg`` made it QtSvg-safe. The DejaVu Sans faces the PDF
embeds are registered with Qt once, so the screen draws the same letters as the paper.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QRectF, QSize
from PySide6.QtGui import QFontDatabase, QPainter, QPaintEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QSizePolicy, QWidget

from ess_accompagnement.reports import fonts
from ess_accompagnement.resources import resource_path

logger = logging.getLogger(__name__)

_fonts_loaded = False


def load_chart_fonts() -> None:
    """Register the vendored DejaVu Sans faces with Qt (once), whatever the system has."""
    global _fonts_loaded  # noqa: PLW0603 - once per process, like reports.fonts
    if _fonts_loaded:
        return
    for filename in fonts.FACES.values():
        if QFontDatabase.addApplicationFont(str(resource_path("fonts", filename))) < 0:
            logger.warning("chart font not loaded: %s", filename)
    _fonts_loaded = True


class ChartView(QWidget):
    """Paints one SVG chart, as wide as it is given, its height following its proportions."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        load_chart_fonts()
        self._renderer = QSvgRenderer(self)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMinimumWidth(320)

    def set_svg(self, svg: bytes, name: str) -> None:
        if not self._renderer.load(QByteArray(svg)):
            logger.warning("chart SVG not readable")
        self.setAccessibleName(name)
        self.setToolTip(name)
        self.updateGeometry()
        self.update()

    @property
    def ratio(self) -> float:
        box = self._renderer.viewBoxF()
        return box.height() / box.width() if box.width() > 0 else 0.5

    # ---- Qt overrides

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return max(40, int(width * self.ratio))

    def sizeHint(self) -> QSize:
        return QSize(560, self.heightForWidth(560))

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._renderer.isValid():
            return
        width = float(self.width())
        height = min(float(self.height()), width * self.ratio)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self._renderer.render(painter, QRectF(0, 0, height / self.ratio, height))
        painter.end()
