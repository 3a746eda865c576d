"""« Imprimer les synthèses… »: choose the variant and the output, then print on the worker with progress.

One PDF per project in a folder, or all of them in one PDF (for a committee), through
``reports.summary.render_many``, which reads and draws one project at a time and stops on Cancel.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement.reports.summary import BatchResult, Variant, render_many
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.widgets.long_task import LongTask

logger = logging.getLogger(__name__)


class PrintSummariesDialog(QDialog):
    """The choices before printing: which variant, one file per project or a single PDF."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Imprimer les synthèses"))
        self.variants = QButtonGroup(self)
        variant_box = QGroupBox(self.tr("Version"), self)
        variant_layout = QVBoxLayout(variant_box)
        texts = {Variant.INTERNE: self.tr("&Interne (toutes les informations de la structure)"),
                 Variant.PARTENAIRE: self.tr("&Partenaire (projets avec consentement au partage)"),
                 Variant.PORTEUR: self.tr("Pour le p&orteur de projet")}
        for number, (variant, text) in enumerate(texts.items()):
            button = QRadioButton(text, variant_box, checked=number == 0)
            button.setProperty("variant", variant.value)
            self.variants.addButton(button, number)
            variant_layout.addWidget(button)
        output_box = QGroupBox(self.tr("Fichiers"), self)
        output_layout = QVBoxLayout(output_box)
        self.single = QRadioButton(self.tr("Un &seul PDF pour les {n} projets").format(n=count), output_box,
                                   checked=True)
        self.separate = QRadioButton(self.tr("Un PDF par projet, dans un &dossier"), output_box)
        output_layout.addWidget(self.single)
        output_layout.addWidget(self.separate)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("&Imprimer…"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(variant_box)
        layout.addWidget(output_box)
        layout.addWidget(buttons)

    @property
    def variant(self) -> Variant:
        return Variant(self.variants.checkedButton().property("variant"))

    @property
    def single_pdf(self) -> bool:
        return self.single.isChecked()


def ask_target(parent: QWidget, single_pdf: bool) -> Path | None:
    """The PDF file or the folder to write to (None if the user cancelled)."""
    if single_pdf:
        path, _filter = QFileDialog.getSaveFileName(parent, parent.tr("Enregistrer les synthèses"),
                                                    str(Path.home() / "syntheses.pdf"),
                                                    parent.tr("Document PDF (*.pdf)"))
        if not path:
            return None
        return Path(path) if path.lower().endswith(".pdf") else Path(path + ".pdf")
    folder = QFileDialog.getExistingDirectory(parent, parent.tr("Dossier des synthèses"), str(Path.home()))
    return Path(folder) if folder else None


def print_summaries(ctx: AppContext, parent: QWidget, project_ids: Sequence[uuid.UUID]) -> LongTask | None:
    """Ask the choices, then print ``project_ids`` on the worker; returns the running task (or None)."""
    dialog = PrintSummariesDialog(len(project_ids), parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    target = ask_target(parent, dialog.single_pdf)
    if target is None:
        return None
    variant, ids, structure_id, today = dialog.variant, list(project_ids), ctx.structure_id, ctx.today
    logger.info("printing %d summaries (%s)", len(ids), variant.value)
    task = LongTask(ctx, parent, parent.tr("Impression des synthèses…"),
                    lambda progress, cancelled: render_many(ctx.db, ids, target, variant, progress, cancelled,
                                                            printing_structure_id=structure_id, today=today))
    task.success(lambda result: report_batch(parent, result)).run()
    return task


def report_batch(parent: QWidget, result: BatchResult) -> None:
    """Say in the status bar what was printed."""
    window = parent.window()
    if result.cancelled:
        text = parent.tr("Impression annulée : {n} fichier(s) écrit(s).").format(n=len(result.written))
    else:
        text = parent.tr("{n} synthèse(s) imprimée(s)").format(n=len(result.written))
        if result.written and len(result.written) == 1:
            text += " — " + str(result.written[0])
    if result.skipped:
        text += parent.tr(" ; {n} projet(s) écarté(s) (supprimés ou sans consentement)").format(n=len(result.skipped))
    status = getattr(window, "statusBar", None)
    if callable(status):
        status().showMessage(text, 15_000)
