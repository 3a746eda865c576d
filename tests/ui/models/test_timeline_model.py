"""The timeline list: Qt's checks, newest first, French dates, kind filter."""

from __future__ import annotations

import datetime as dt
import uuid

from PySide6.QtCore import Qt

from ess_accompagnement.domain.queries.project_detail import TimelineEntry
from ess_accompagnement.ui.models.timeline_model import KindRole, TimelineModel, WhenRole, kind_label

ENTRIES = [
    TimelineEntry(dt.date(2025, 1, 6), "phase", uuid.uuid4(), "Phase : émergence", None, "URSCOP"),
    TimelineEntry(dt.datetime(2026, 3, 10, 8, 30, tzinfo=dt.UTC), "appointment", uuid.uuid4(), "Rendez-vous",
                  "Mairie", "URSCOP"),
    TimelineEntry(dt.date(2026, 3, 12), "note", uuid.uuid4(), "Note", "Texte", "URSCOP"),
]


def test_model_passes_qt_checks(qtmodeltester) -> None:
    model = TimelineModel()
    model.set_entries(ENTRIES)
    qtmodeltester.check(model)


def test_newest_first_with_french_dates() -> None:
    model = TimelineModel()
    model.set_entries(ENTRIES)

    assert [model.index(r).data(KindRole) for r in range(3)] == ["note", "appointment", "phase"]
    assert model.index(0).data(WhenRole) == "jeudi 12 mars 2026"
    assert model.index(1).data(WhenRole) == "mardi 10 mars 2026 à 09:30"  # Paris time
    assert model.index(1).data(Qt.ItemDataRole.ToolTipRole) == "Mairie"
    assert kind_label("referral") == "Orientation"


def test_kind_filter() -> None:
    model = TimelineModel()
    model.set_entries(ENTRIES)

    model.set_kinds(frozenset({"phase"}))
    assert model.rowCount() == 1
    model.set_kinds(None)
    assert model.rowCount() == 3
