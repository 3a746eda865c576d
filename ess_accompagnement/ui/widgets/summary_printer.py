"""« Imprimer la synthèse… »: ask where to save the PDF, draw it on the database worker, offer to open it."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain.text import fold
from ess_accompagnement.reports.summary import Variant, build_summary, render_summary
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.ops import Query

logger = logging.getLogger(__name__)


def default_file_name(title: str, variant: Variant) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-")[:60].rstrip("-") or "projet"
    return f"synthese-{slug}-{variant.value}.pdf"


def render_to(session: Session, project_id: uuid.UUID, path: str, variant: Variant, *,
              structure_id: uuid.UUID, today: dt.date) -> int:
    """Worker side: read the project and draw its summary to ``path``; returns the page count."""
    data = build_summary(session, project_id, printing_structure_id=structure_id, today=today)
    return render_summary(data, path, variant)


class SummaryPrinter(QObject):
    # ---- Signals

    sig_printed = Signal(str)
    """The PDF was written (its path)."""

    def __init__(self, ctx: AppContext, widget: QWidget) -> None:
        super().__init__(widget)
        self._ctx = ctx
        self._widget = widget
        self.last_box: QMessageBox | None = None

    def print_project(self, project_id: uuid.UUID, title: str, variant: Variant) -> None:
        path = self._ask_path(title, variant)
        if not path:
            return
        ctx = self._ctx
        structure_id, today = ctx.structure_id, ctx.today
        Query(self._widget, lambda s: render_to(s, project_id, path, variant, structure_id=structure_id, today=today),
              ctx=ctx).success(lambda pages: self._printed(path, pages)).run()

    def _ask_path(self, title: str, variant: Variant) -> str:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        suggested = str(Path(folder) / default_file_name(title, variant))
        path, _filter = QFileDialog.getSaveFileName(self._widget, self.tr("Enregistrer la synthèse"), suggested,
                                                    self.tr("Documents PDF (*.pdf)"))
        if path and not path.lower().endswith(".pdf"):
            path += ".pdf"
        return path

    def _printed(self, path: str, pages: int) -> None:
        logger.info("summary printed (%d pages)", pages)
        self.sig_printed.emit(path)
        text = self.tr("La synthèse ({pages} page(s)) est enregistrée dans :\n{path}\n\nL'ouvrir maintenant ?").format(
            pages=pages, path=path)
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Synthèse enregistrée"), text,
                          QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Close, self._widget)
        box.setObjectName("summary_printed_box")
        box.setDefaultButton(QMessageBox.StandardButton.Open)
        box.finished.connect(lambda result: self._maybe_open(box, path, result))
        self.last_box = box
        box.open()

    def _maybe_open(self, box: QMessageBox, path: str, _result: Any) -> None:
        if box.clickedButton() is box.button(QMessageBox.StandardButton.Open):
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))
        box.deleteLater()
        self.last_box = None
