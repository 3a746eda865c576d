"""The in-memory models: the home screen's sections and the global search's grouped results."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt

from ess_accompagnement.domain.queries.search import SearchHit
from ess_accompagnement.ui.models.list_model import RecordsTableModel
from ess_accompagnement.ui.models.paged import IdRole
from ess_accompagnement.ui.models.search_model import HitRole, SearchResultsModel

HITS = [
    SearchHit("person", uuid.uuid4(), "Inès Lefèvre", "Tours"),
    SearchHit("project", uuid.uuid4(), "Épicerie coopérative", "Tours"),
    SearchHit("structure", uuid.uuid4(), "France Active Centre-Val de Loire", None),
    SearchHit("project", uuid.uuid4(), "Garage solidaire", None),
]


def records_model() -> RecordsTableModel[tuple[uuid.UUID, str, int]]:
    model: RecordsTableModel[tuple[uuid.UUID, str, int]] = RecordsTableModel(
        ["Projet", "Retard"], lambda item: (item[1], f"{item[2]} jours"), lambda item: item[0])
    model.set_items([(uuid.UUID(int=1), "Épicerie", 3), (uuid.UUID(int=2), "Garage", 12)])
    return model


def test_records_model_passes_qt_checks(qtmodeltester) -> None:
    qtmodeltester.check(records_model())


def test_records_model_cells_and_ids() -> None:
    model = records_model()
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Retard"
    assert model.index(1, 1).data() == "12 jours"
    assert model.index(0, 0).data(IdRole) == uuid.UUID(int=1)


def test_search_model_passes_qt_checks(qtmodeltester) -> None:
    model = SearchResultsModel()
    model.set_hits(HITS)
    qtmodeltester.check(model)


def test_search_results_are_grouped_projects_first_under_counted_headers() -> None:
    model = SearchResultsModel()
    model.set_hits(HITS)
    texts = [model.index(row).data() for row in range(model.rowCount())]
    assert texts == ["Projets (2)", "Épicerie coopérative — Tours", "Garage solidaire", "Personnes (1)",
                     "Inès Lefèvre — Tours", "Structures (1)", "France Active Centre-Val de Loire"]
    assert not model.flags(model.index(0)) & Qt.ItemFlag.ItemIsSelectable
    assert model.index(1).data(HitRole) == HITS[1]
    assert (model.first_hit_row(), model.first_hit_row(3), model.first_hit_row(3, -1)) == (1, 4, 2)
