"""A project's timeline, newest first: phases, appointments, referrals, financing and notes.

A list model over ``domain.queries.project_detail.TimelineEntry``; ``ui/widgets/timeline.py`` draws
each entry with a coloured marker per kind, its French date, title, detail and structure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from ess_accompagnement.domain.queries.project_detail import TimelineEntry
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.ui.widgets.french import clock, long_date

ModelIndex = QModelIndex | QPersistentModelIndex

EntryRole = Qt.ItemDataRole.UserRole + 1
"""The ``TimelineEntry``."""
KindRole = Qt.ItemDataRole.UserRole + 2
"""« phase », « appointment », « referral », « financing », « note »."""
WhenRole = Qt.ItemDataRole.UserRole + 3
"""The French date (« mardi 12 mars 2026 », « … à 09:30 » for appointments)."""
IdRole = Qt.ItemDataRole.UserRole + 4

KIND_LABELS: dict[str, str] = {
    "phase": QT_TRANSLATE_NOOP("TimelineModel", "Phase"),
    "appointment": QT_TRANSLATE_NOOP("TimelineModel", "Rendez-vous"),
    "referral": QT_TRANSLATE_NOOP("TimelineModel", "Orientation"),
    "financing": QT_TRANSLATE_NOOP("TimelineModel", "Financement"),
    "note": QT_TRANSLATE_NOOP("TimelineModel", "Note"),
}


def kind_label(kind: str) -> str:
    return QCoreApplication.translate("TimelineModel", KIND_LABELS.get(kind, kind))


def when_text(entry: TimelineEntry) -> str:
    if isinstance(entry.when, dt.datetime):
        moment = entry.when.astimezone(PARIS)
        return QCoreApplication.translate("TimelineModel", "{day} à {time}").format(day=long_date(moment.date()),
                                                                                  time=clock(moment))
    return long_date(entry.when)


class TimelineModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._entries: list[TimelineEntry] = []
        self._kinds: frozenset[str] | None = None
        self._all: list[TimelineEntry] = []

    def set_entries(self, entries: Sequence[TimelineEntry]) -> None:
        """Entries in any order; shown newest first."""
        self._all = sorted(entries, key=lambda e: e.sort_key, reverse=True)
        self._apply()

    def set_kinds(self, kinds: frozenset[str] | None) -> None:
        """Show only these kinds (None: all)."""
        self._kinds = kinds
        self._apply()

    def _apply(self) -> None:
        self.beginResetModel()
        self._entries = [e for e in self._all if self._kinds is None or e.kind in self._kinds]
        self.endResetModel()

    def entry(self, row: int) -> TimelineEntry:
        return self._entries[row]

    # ---- Qt overrides

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        values = {
            Qt.ItemDataRole.DisplayRole: entry.title,
            Qt.ItemDataRole.ToolTipRole: entry.detail,
            Qt.ItemDataRole.AccessibleTextRole: f"{when_text(entry)} – {entry.title}",
            EntryRole: entry,
            KindRole: entry.kind,
            WhenRole: when_text(entry),
            IdRole: entry.id,
        }
        return values.get(role)
