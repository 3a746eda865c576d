"""The persons list: a table model over ``domain.queries.persons``, filtered and sorted in SQL."""

from __future__ import annotations

import logging
import re
import uuid
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from sqlalchemy.orm import Session

from ess_accompagnement.domain.queries.persons import (
    PersonFilter,
    PersonRow,
    PersonSort,
    count_persons,
    person_ids,
    person_rows,
)
from ess_accompagnement.store.db import Database
from ess_accompagnement.ui.models.paged import PagedTableModel, SortRole

logger = logging.getLogger(__name__)

_FRENCH_NUMBER = re.compile(r"\+33(\d{9})")


class PersonColumn(IntEnum):
    NAME = 0
    COMMUNE = 1
    EMAIL = 2
    PHONE = 3
    PROJECTS = 4
    CONSENT = 5


_CONTEXT = "PersonsTableModel"
HEADERS: dict[PersonColumn, str] = {
    PersonColumn.NAME: QT_TRANSLATE_NOOP("PersonsTableModel", "Nom"),
    PersonColumn.COMMUNE: QT_TRANSLATE_NOOP("PersonsTableModel", "Commune"),
    PersonColumn.EMAIL: QT_TRANSLATE_NOOP("PersonsTableModel", "Courriel"),
    PersonColumn.PHONE: QT_TRANSLATE_NOOP("PersonsTableModel", "Téléphone"),
    PersonColumn.PROJECTS: QT_TRANSLATE_NOOP("PersonsTableModel", "Projets"),
    PersonColumn.CONSENT: QT_TRANSLATE_NOOP("PersonsTableModel", "Consentement"),
}
SORTS: dict[PersonColumn, PersonSort] = {
    PersonColumn.NAME: PersonSort.NAME,
    PersonColumn.COMMUNE: PersonSort.COMMUNE,
    PersonColumn.EMAIL: PersonSort.EMAIL,
    PersonColumn.PROJECTS: PersonSort.PROJECTS,
}


def french_phone(e164: str | None) -> str:
    """« +33612345678 » → « 06 12 34 56 78 »; other numbers as stored."""
    if not e164:
        return ""
    match = _FRENCH_NUMBER.fullmatch(e164)
    if match is None:
        return e164
    digits = "0" + match.group(1)
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def display_text(row: PersonRow, column: PersonColumn) -> str:
    match column:
        case PersonColumn.NAME:
            return f"{row.last_name.upper()} {row.first_name}"
        case PersonColumn.COMMUNE:
            return row.commune or ""
        case PersonColumn.EMAIL:
            return row.email or ""
        case PersonColumn.PHONE:
            return french_phone(row.phone)
        case PersonColumn.PROJECTS:
            return str(row.projects)
        case PersonColumn.CONSENT:
            yes, no = QT_TRANSLATE_NOOP("PersonsTableModel", "Oui"), QT_TRANSLATE_NOOP("PersonsTableModel", "Non")
            return QCoreApplication.translate(_CONTEXT, yes if row.consent else no)


class PersonsTableModel(PagedTableModel[PersonFilter, PersonRow]):
    """The persons matching a ``PersonFilter``, sorted by name, commune, e-mail or number of projects."""

    def __init__(self, db: Database, parent: Any = None) -> None:
        super().__init__(db, PersonFilter(), PersonColumn.NAME, parent)
        self.refresh()

    def person_id(self, row: int) -> uuid.UUID | None:
        return self.id_at(row)

    # ---- PagedTableModel

    def count(self, session: Session, criteria: PersonFilter) -> int:
        return count_persons(session, criteria)

    def ids(self, session: Session, criteria: PersonFilter, column: int, descending: bool, limit: int,
            offset: int) -> list[uuid.UUID]:
        return person_ids(session, criteria, sort=SORTS[PersonColumn(column)], descending=descending, limit=limit,
                          offset=offset)

    def rows(self, session: Session, ids: list[uuid.UUID]) -> list[PersonRow]:
        return person_rows(session, ids)

    def is_sortable(self, column: int) -> bool:
        return column in SORTS

    def cell(self, row: PersonRow, column: int, role: int) -> Any:
        col = PersonColumn(column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in (PersonColumn.PROJECTS, PersonColumn.CONSENT):
                return int(Qt.AlignmentFlag.AlignCenter)
            return None
        if role == SortRole:
            if col == PersonColumn.PROJECTS:
                return row.projects
            if col == PersonColumn.CONSENT:
                return row.consent
            return display_text(row, col).casefold()
        return display_text(row, col)

    # ---- Qt overrides

    def columnCount(self, parent: Any = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(PersonColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(PersonColumn):
            return super().headerData(section, orientation, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate(_CONTEXT, HEADERS[PersonColumn(section)])
        return None
