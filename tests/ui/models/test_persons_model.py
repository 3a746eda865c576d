"""PersonsTableModel: Qt's model checks, French cells, SQL sort and search."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt

from ess_accompagnement.domain.queries.persons import PersonFilter, count_persons, person_rows
from ess_accompagnement.store.db import Database
from ess_accompagnement.ui.models import paged
from ess_accompagnement.ui.models.paged import IdRole, SortRole
from ess_accompagnement.ui.models.persons_model import PersonColumn, PersonsTableModel, french_phone


def test_model_passes_qt_checks(qtmodeltester, demo_db: Database) -> None:
    qtmodeltester.check(PersonsTableModel(demo_db))


def test_paged_model_passes_qt_checks_while_fetching(qtmodeltester, demo_db: Database,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paged, "PAGE_SIZE", 50)
    monkeypatch.setattr(paged, "ID_CHUNK", 100)
    model = PersonsTableModel(demo_db)
    qtmodeltester.check(model)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    with demo_db.read() as session:
        assert model.rowCount() == count_persons(session, PersonFilter()) > 100


def test_headers_are_french(demo_db: Database) -> None:
    model = PersonsTableModel(demo_db)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Nom", "Commune", "Courriel", "Téléphone", "Projets", "Consentement"]


def test_cells_are_formatted_in_french(demo_db: Database) -> None:
    model = PersonsTableModel(demo_db)
    with demo_db.read() as session:
        row = person_rows(session, [model.person_id(0)])[0]
    cell = lambda column: model.index(0, column).data()  # noqa: E731
    assert cell(PersonColumn.NAME) == f"{row.last_name.upper()} {row.first_name}"
    assert cell(PersonColumn.PROJECTS) == str(row.projects)
    assert cell(PersonColumn.CONSENT) == ("Oui" if row.consent else "Non")
    assert cell(PersonColumn.PHONE) == french_phone(row.phone)
    assert model.index(0, PersonColumn.NAME).data(IdRole) == row.id
    assert model.index(0, PersonColumn.PROJECTS).data(SortRole) == row.projects


@pytest.mark.parametrize(("stored", "shown"), [("+33612345678", "06 12 34 56 78"), ("+262692123456", "+262692123456"),
                                               (None, "")])
def test_french_phone(stored: str | None, shown: str) -> None:
    assert french_phone(stored) == shown


def test_sort_by_projects_descending_and_search(demo_db: Database) -> None:
    model = PersonsTableModel(demo_db)
    model.sort(PersonColumn.PROJECTS, Qt.SortOrder.DescendingOrder)
    counts = [model.index(r, PersonColumn.PROJECTS).data(SortRole) for r in range(model.rowCount())]
    assert counts == sorted(counts, reverse=True)
    name = model.index(0, PersonColumn.NAME).data().split()[0]
    model.set_filter(PersonFilter(search=name))
    assert 0 < model.total < 300
    assert all(name in model.index(r, PersonColumn.NAME).data() for r in range(model.rowCount()))


def test_phone_column_is_not_sortable(demo_db: Database) -> None:
    model = PersonsTableModel(demo_db)
    model.sort(PersonColumn.PHONE, Qt.SortOrder.AscendingOrder)
    assert model.sort_column == PersonColumn.NAME
