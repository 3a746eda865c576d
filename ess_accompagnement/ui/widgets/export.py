"""Exporting a list to XLSX or CSV (``reports.exports.export_list``) on the worker, with progress."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from ess_accompagnement.domain.queries.projects import ProjectFilter
from ess_accompagnement.reports.exports import ExportFormat, ExportKind, ExportResult, export_list
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.widgets.long_task import LongTask

logger = logging.getLogger(__name__)

_CONTEXT = "Export"
KIND_LABELS = {
    ExportKind.PROJECTS: (QT_TRANSLATE_NOOP("Export", "Projets"), "projets"),
    ExportKind.PERSONS: (QT_TRANSLATE_NOOP("Export", "Personnes"), "personnes"),
    ExportKind.APPOINTMENTS: (QT_TRANSLATE_NOOP("Export", "Rendez-vous"), "rendez-vous"),
    ExportKind.REFERRALS: (QT_TRANSLATE_NOOP("Export", "Orientations"), "orientations"),
    ExportKind.FINANCING: (QT_TRANSLATE_NOOP("Export", "Financements"), "financements"),
}


def kind_choices() -> list[tuple[ExportKind, str]]:
    return [(kind, QCoreApplication.translate(_CONTEXT, label)) for kind, (label, _file) in KIND_LABELS.items()]


def ask_export_path(parent: QWidget, kind: ExportKind) -> tuple[Path, ExportFormat] | None:
    title = QCoreApplication.translate(_CONTEXT, "Exporter : {what}").format(
        what=QCoreApplication.translate(_CONTEXT, KIND_LABELS[kind][0]))
    filters = QCoreApplication.translate(_CONTEXT, "Classeur Excel (*.xlsx);;Fichier CSV pour tableur (*.csv)")
    path, chosen = QFileDialog.getSaveFileName(parent, title, str(Path.home() / f"{KIND_LABELS[kind][1]}.xlsx"),
                                               filters)
    if not path:
        return None
    csv = path.lower().endswith(".csv") or (not path.lower().endswith(".xlsx") and "csv" in chosen.lower())
    fmt = ExportFormat.CSV if csv else ExportFormat.XLSX
    out = Path(path) if path.lower().endswith(f".{fmt.value}") else Path(f"{path}.{fmt.value}")
    return out, fmt


def export_to_file(ctx: AppContext, parent: QWidget, kind: ExportKind, *,
                   structure_id: uuid.UUID | None = None,
                   project_filter: ProjectFilter | None = None) -> LongTask | None:
    """Ask where, then write the list on the worker; the status bar says how many rows were written."""
    target = ask_export_path(parent, kind)
    if target is None:
        return None
    out, fmt = target
    db, today = ctx.db, ctx.today
    logger.info("exporting %s as %s", kind.value, fmt.value)
    task = LongTask(ctx, parent, QCoreApplication.translate(_CONTEXT, "Export en cours…"),
                    lambda progress, cancelled: export_list(db, kind, fmt, out, structure_id=structure_id,
                                                            project_filter=project_filter, today=today, progress=progress, cancelled=cancelled))
    task.success(lambda result: _report(parent, result)).run()
    return task


def _report(parent: QWidget, result: ExportResult) -> None:
    message = QCoreApplication.translate(_CONTEXT, "{n} lignes exportées dans {path}").format(
        n=result.rows, path=result.path)
    status = getattr(parent.window(), "statusBar", None)
    if callable(status):
        status().showMessage(message, 15_000)
