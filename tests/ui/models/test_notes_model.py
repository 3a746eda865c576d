"""Notes: Qt's checks and French cells."""

from __future__ import annotations

import datetime as dt
import uuid

from PySide6.QtCore import Qt

from ess_accompagnement.domain.queries.project_records import NoteItem
from ess_accompagnement.ui.models.notes_model import NotesModel

ROWS = [NoteItem(uuid.uuid4(), dt.date(2026, 3, 2), "URSCOP", "Camille Martin", "Ligne 1\nLigne 2", False),
        NoteItem(uuid.uuid4(), dt.date(2026, 3, 1), "France Active", None, "Partagée", True)]


def test_model_passes_qt_checks(qtmodeltester) -> None:
    model = NotesModel()
    model.set_rows(ROWS)
    qtmodeltester.check(model)


def test_cells_are_french() -> None:
    model = NotesModel()
    model.set_rows(ROWS)

    assert [model.index(0, c).data() for c in range(model.columnCount())] == [
        "02/03/2026", "URSCOP", "Camille Martin", "Interne", "Ligne 1 Ligne 2"]
    assert model.index(1, 3).data() == "Partagée"
    assert model.index(0, 4).data(Qt.ItemDataRole.ToolTipRole) == "Ligne 1\nLigne 2"
