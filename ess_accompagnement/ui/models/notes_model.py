"""The notes of a project the advisor's structure may read, newest first."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from ess_accompagnement.domain.queries.project_records import NoteItem
from ess_accompagnement.ui.models.rows_model import Column, RowsTableModel
from ess_accompagnement.ui.widgets.french import short_date


def _shared(n: NoteItem) -> str:
    return QCoreApplication.translate("NotesModel", "Partagée") if n.shared else \
        QCoreApplication.translate("NotesModel", "Interne")


class NotesModel(RowsTableModel[NoteItem]):
    CONTEXT: ClassVar[str] = "NotesModel"
    COLUMNS: ClassVar[tuple[Column[Any], ...]] = (
        Column(QT_TRANSLATE_NOOP("NotesModel", "Date"), lambda n: short_date(n.written_on), lambda n: n.written_on),
        Column(QT_TRANSLATE_NOOP("NotesModel", "Structure"), lambda n: n.structure),
        Column(QT_TRANSLATE_NOOP("NotesModel", "Auteur"), lambda n: n.advisor or ""),
        Column(QT_TRANSLATE_NOOP("NotesModel", "Diffusion"), _shared),
        Column(QT_TRANSLATE_NOOP("NotesModel", "Note"), lambda n: " ".join(n.text.split()), tooltip=lambda n: n.text),
    )
