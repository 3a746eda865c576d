"""ProjectsTableModel: Qt's model checks, cell formatting, SQL sort and filter, paging."""

from __future__ import annotations

import re
import uuid

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlalchemy import select

from ess_accompagnement.domain.codes import Phase
from ess_accompagnement.domain.entities import Person
from ess_accompagnement.domain.queries.projects import (
    ProjectFilter,
    ProjectSort,
    count_projects,
    project_ids,
    project_rows,
)
from ess_accompagnement.domain.text import fold
from ess_accompagnement.store.db import Database
from ess_accompagnement.ui.models import paged
from ess_accompagnement.ui.models.projects_model import Column, IdRole, ProjectsTableModel, SortRole
from tests.ui.conftest import DEMO_PROJECTS

ASC = Qt.SortOrder.AscendingOrder
DESC = Qt.SortOrder.DescendingOrder


def model_ids(model: ProjectsTableModel) -> list[uuid.UUID]:
    return [model.index(row, 0).data(IdRole) for row in range(model.rowCount())]


def fetch_all(model: ProjectsTableModel) -> None:
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 50 rows, ids read 100 at a time, one page cached: paging shows on 120 projects."""
    monkeypatch.setattr(paged, "PAGE_SIZE", 50)
    monkeypatch.setattr(paged, "ID_CHUNK", 100)
    monkeypatch.setattr(paged, "MAX_CACHED_PAGES", 1)


def test_model_passes_qt_checks(qtmodeltester, demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)

    qtmodeltester.check(model)


@pytest.mark.usefixtures("small_pages")
def test_paged_model_passes_qt_checks_while_fetching(qtmodeltester, demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)
    qtmodeltester.check(model)

    fetch_all(model)

    assert model.rowCount() == DEMO_PROJECTS


def test_headers_are_french(demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)

    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]

    assert headers == ["Titre", "Porteurs", "Commune", "Phase", "Statut", "Structure", "Dernière activité"]


def test_cells_show_french_labels_and_dates(demo_db: Database) -> None:
    # GIVEN the rows the query service builds
    model = ProjectsTableModel(demo_db)
    with demo_db.read() as session:
        rows = project_rows(session, model_ids(model))
    # WHEN the model displays them / THEN labels are French, capitalised, and dates dd/mm/yyyy
    for number, row in enumerate(rows):
        cell = lambda column, n=number: model.index(n, column).data()  # noqa: E731
        assert cell(Column.TITLE) == row.title
        assert cell(Column.HOLDERS) == row.holders
        assert cell(Column.STRUCTURE) == row.lead_structure
        assert cell(Column.PHASE) == (row.phase.label[0].upper() + row.phase.label[1:] if row.phase else "")
        assert cell(Column.STATUS)[0].isupper()
        if row.last_activity is not None:
            assert cell(Column.LAST_ACTIVITY) == f"{row.last_activity:%d/%m/%Y}"
            assert re.fullmatch(r"\d\d/\d\d/\d{4}", cell(Column.LAST_ACTIVITY))
    assert {row.phase for row in rows} >= {Phase.EMERGENCE}
    first_emergence = next(n for n, row in enumerate(rows) if row.phase == Phase.EMERGENCE)
    assert model.index(first_emergence, Column.PHASE).data() == "Émergence"


def test_id_and_sort_roles(demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)
    with demo_db.read() as session:
        first = project_rows(session, [model.project_id(0)])[0]

    assert model.index(0, Column.STATUS).data(IdRole) == first.id
    assert model.index(0, Column.TITLE).data(SortRole) == first.title.casefold()
    assert model.index(0, Column.LAST_ACTIVITY).data(SortRole) == first.last_activity
    assert isinstance(model.index(0, Column.STATUS).data(SortRole), int)


@pytest.mark.parametrize("order", [ASC, DESC])
def test_sort_by_title_follows_sql(demo_db: Database, order: Qt.SortOrder) -> None:
    model = ProjectsTableModel(demo_db)

    model.sort(Column.TITLE, order)

    with demo_db.read() as session:
        expected = project_ids(session, ProjectFilter(), sort=ProjectSort.TITLE, descending=order == DESC)
    assert model_ids(model) == expected
    titles = [fold(model.index(row, Column.TITLE).data()) for row in range(model.rowCount())]
    assert titles == sorted(titles, reverse=order == DESC)


def test_sort_by_last_activity_descending(demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)

    model.sort(Column.LAST_ACTIVITY, DESC)

    dates = [model.index(row, Column.LAST_ACTIVITY).data(SortRole) for row in range(model.rowCount())]
    assert dates == sorted(dates, reverse=True)
    assert (model.sort_column, model.sort_order) == (Column.LAST_ACTIVITY, DESC)


def test_unsortable_column_keeps_the_sort(demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)
    model.sort(Column.COMMUNE, DESC)
    before = model_ids(model)

    model.sort(Column.HOLDERS, ASC)

    assert (model.sort_column, model.sort_order) == (Column.COMMUNE, DESC)
    assert model_ids(model) == before


def holder_last_name(db: Database) -> str:
    with db.read() as session:
        names = session.execute(select(Person.last_name).order_by(Person.sort_key)).scalars().all()
    return next(name for name in names if name.isascii() and len(name) > 3)


def test_search_text_filters_in_sql(demo_db: Database) -> None:
    # GIVEN a holder's last name
    name = holder_last_name(demo_db)
    model = ProjectsTableModel(demo_db)
    # WHEN it is searched
    model.set_filter(ProjectFilter(search=name))
    # THEN only the matching projects remain, as counted by the query service
    with demo_db.read() as session:
        expected = count_projects(session, ProjectFilter(search=name))
    assert 0 < model.total == model.rowCount() == expected < DEMO_PROJECTS
    assert any(fold(name) in fold(model.index(row, Column.HOLDERS).data()) for row in range(model.rowCount()))


def test_search_without_match_and_back(demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)

    model.set_filter(ProjectFilter(search="zzzqqqxxx"))
    assert (model.total, model.rowCount(), model.canFetchMore(QModelIndex())) == (0, 0, False)

    model.set_filter(ProjectFilter())
    assert model.total == DEMO_PROJECTS


@pytest.mark.usefixtures("small_pages")
def test_fetch_more_pages_ids_and_rows(demo_db: Database) -> None:
    # GIVEN pages of 50 rows and ids read 100 at a time
    model = ProjectsTableModel(demo_db)
    assert (model.rowCount(), model.total) == (50, DEMO_PROJECTS)
    assert model.canFetchMore(QModelIndex())
    # WHEN the view asks for more, twice
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 100
    model.fetchMore(QModelIndex())
    # THEN every project is there once, in SQL order, and nothing more can be fetched
    assert model.rowCount() == DEMO_PROJECTS
    assert not model.canFetchMore(QModelIndex())
    with demo_db.read() as session:
        assert model_ids(model) == project_ids(session, ProjectFilter())


@pytest.mark.usefixtures("small_pages")
def test_evicted_page_is_rebuilt(demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)
    fetch_all(model)
    first_title = model.index(0, Column.TITLE).data()

    model.index(110, Column.TITLE).data()  # builds the last page; only one page is cached

    assert model.index(0, Column.TITLE).data() == first_title


@pytest.mark.usefixtures("small_pages")
def test_refresh_keeps_filter_sort_and_fetched_rows(demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)
    model.sort(Column.STRUCTURE, DESC)
    model.fetchMore(QModelIndex())
    before = model_ids(model)

    model.refresh()

    assert (model.sort_column, model.sort_order, model.rowCount()) == (Column.STRUCTURE, DESC, 100)
    assert model_ids(model) == before


@pytest.mark.usefixtures("small_pages")
def test_row_of_finds_fetched_rows_only(demo_db: Database) -> None:
    model = ProjectsTableModel(demo_db)
    with demo_db.read() as session:
        ids = project_ids(session, ProjectFilter())

    assert model.row_of(ids[3]) == 3
    assert model.row_of(ids[-1]) is None
