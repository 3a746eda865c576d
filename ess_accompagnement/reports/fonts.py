"""The fonts of the PDF reports: DejaVu Sans, vendored in resources/fonts/, registered once.

Helvetica and reportlab's bundled Vera cannot draw U+202F, the thousands separator of French
amounts (« 15 000,50 € »); DejaVu Sans can (resources/fonts/README.md).
"""

from __future__ import annotations

import logging
import threading

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from ess_accompagnement.resources import resource_path

logger = logging.getLogger(__name__)

FAMILY = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
BOLD_ITALIC = "DejaVuSans-BoldOblique"
# reportlab font name → file under resources/fonts/ (the names are the files' own PostScript names)
FACES: dict[str, str] = {
    FAMILY: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf",
}

_lock = threading.Lock()
_registered = False


def register_fonts() -> str:
    """Register the four DejaVu Sans faces as one family (once per process); return the family name.

    Safe to call from several threads (a batch of PDFs may be printed from a worker thread).
    """
    global _registered
    with _lock:
        if not _registered:
            for name, filename in FACES.items():
                pdfmetrics.registerFont(TTFont(name, str(resource_path("fonts", filename))))
            # The family mapping is what makes <b> and <i> inside a Paragraph pick the right face.
            pdfmetrics.registerFontFamily(FAMILY, normal=FAMILY, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)
            _registered = True
            logger.debug("report fonts registered: %s", ", ".join(FACES))
    return FAMILY
