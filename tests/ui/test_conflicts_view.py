"""Conflicts view on real conflicts: two copies edit the same project concurrently, then exchange."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QGroupBox, QLabel
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.advisors import add_advisor
from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import api
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.models.conflicts_model import ConflictItem, ConflictsTableModel, load_conflicts
from ess_accompagnement.ui.models.rows_model import RowRole
from ess_accompagnement.ui.views.conflicts import ConflictsView
from tests.sync.syncworld import A, Copies, conflicts, copies, new_project, row, set_field, sync_template, transfer
from tests.ui.conftest import DEMO_TODAY

__all__ = ["copies", "sync_template"]


@pytest.fixture
def pair(copies: Copies) -> tuple[Database, Database, uuid.UUID, str]:
    """Copies ``a`` and ``b`` of structure A, an advisor on ``a``, and one project both know."""
    a, b = copies.new("a"), copies.new("b")
    with a.transaction() as session:
        advisor = add_advisor(session, None, name="Camille Martin", structure_id=uuid.UUID(A)).id
    pid = new_project(a, "Épicerie « La Cagette »", summary="Épicerie solidaire")
    transfer(a, b)
    return a, b, advisor, pid


def concurrent(a: Database, b: Database, pid: str, col: str, mine: str, theirs: str) -> None:
    set_field(a, pid, col, mine)
    set_field(b, pid, col, theirs)
    transfer(a, b)
    transfer(b, a)


@pytest.fixture
def ctx(pair: tuple[Database, Database, uuid.UUID, str]) -> Iterator[AppContext]:
    context = AppContext(pair[0], pair[2], today=lambda: DEMO_TODAY)
    yield context
    context.tasks.wait_idle()
    context.close()


def open_view(qtbot: QtBot, ctx: AppContext) -> ConflictsView:
    view = ConflictsView(ctx)
    qtbot.addWidget(view)
    view.resize(1440, 900)
    qtbot.waitUntil(lambda: view.items is not None)
    return view


def resolve_and_wait(qtbot: QtBot, view: ConflictsView, action: object) -> None:
    with qtbot.waitSignal(view.sig_loaded, timeout=5000):
        with qtbot.waitSignal(view.sig_resolved, timeout=5000):
            action()  # type: ignore[operator]


def select_field(view: ConflictsView, field: str) -> ConflictItem:
    proxy = view.table.model()
    for r in range(proxy.rowCount()):
        item = proxy.index(r, 0).data(RowRole)
        if item.field == field:
            view.table.setCurrentIndex(proxy.index(r, 0))
            return item  # type: ignore[no-any-return]
    raise AssertionError(field)


def test_choose_edit_and_keep_both(qtbot: QtBot, pair: tuple[Database, Database, uuid.UUID, str],
                                   ctx: AppContext) -> None:
    # GIVEN concurrent edits of the title and of the summary on both copies
    a, b, _advisor, pid = pair
    concurrent(a, b, pid, "title", "La Cagette (copie A)", "La Cagette (copie B)")
    concurrent(a, b, pid, "summary", "Épicerie solidaire\nen centre-ville", "Épicerie associative")
    view = open_view(qtbot, ctx)
    assert view.model.rowCount() == 2
    assert view.count_label.text() == "2 conflit(s) ouvert(s)"
    # WHEN the advisor looks at the title conflict
    item = select_field(view, "title")
    assert item.record in ("La Cagette (copie A)", "La Cagette (copie B)")
    titles = [box.title() for box in view.detail.findChildren(QGroupBox)]
    assert any(t.startswith("Votre version") for t in titles)
    assert any(t.startswith("Version de ") for t in titles)
    assert len(view.choose_buttons) == 2
    mine = next(v for v in item.versions if v.mine)
    assert mine.value == "La Cagette (copie A)" and mine.author == "Camille Martin"
    # AND chooses the colleague's version (buttons: mine first)
    resolve_and_wait(qtbot, view, view.choose_buttons[1].click)
    assert row(a, pid)["title"] == "La Cagette (copie B)"
    assert [c.field for c in conflicts(a)] == ["summary"]
    # WHEN the summary is settled by keeping both texts
    select_field(view, "summary")
    assert view.keep_both_button is not None
    resolve_and_wait(qtbot, view, view.keep_both_button.click)
    summary = row(a, pid)["summary"]
    assert "Épicerie solidaire\nen centre-ville" in summary and "Épicerie associative" in summary
    assert "Camille Martin" in summary and summary.count("—") == 4
    # THEN nothing is left open, and the detail says so
    assert conflicts(a) == [] and view.model.rowCount() == 0
    assert "Aucun conflit" in view.detail.findChild(QLabel, "conflict_empty").text()
    # AND the resolutions travel: the other copy has no conflict either
    transfer(a, b)
    assert conflicts(b) == []
    assert row(b, pid)["summary"] == summary


def test_edit_a_value(qtbot: QtBot, pair: tuple[Database, Database, uuid.UUID, str], ctx: AppContext) -> None:
    a, b, _advisor, pid = pair
    concurrent(a, b, pid, "title", "Cagette A", "Cagette B")
    view = open_view(qtbot, ctx)
    select_field(view, "title")
    # WHEN the advisor types a third title and saves it
    view.value_edit.clear()  # type: ignore[union-attr]
    view.value_edit.setText("La Cagette")  # type: ignore[union-attr]
    assert view.value_edit.accessibleName() == "Nouvelle valeur du champ « Titre »"  # type: ignore[union-attr]
    resolve_and_wait(qtbot, view, view.save_button.click)  # type: ignore[union-attr]
    # THEN it is written and the list is empty
    assert row(a, pid)["title"] == "La Cagette"
    with a.read() as session:
        assert api.list_conflicts(session) == []
    assert view.model.rowCount() == 0


def test_delete_conflict_keep_record(qtbot: QtBot, pair: tuple[Database, Database, uuid.UUID, str],
                                     ctx: AppContext) -> None:
    # GIVEN the project deleted on b while its title is edited on a
    a, b, _advisor, pid = pair
    set_field(a, pid, "title", "Cagette modifiée")
    set_field(b, pid, "deleted_at", "2026-03-01 10:00:00.000000")
    transfer(a, b)
    transfer(b, a)
    view = open_view(qtbot, ctx)
    assert [(c.kind) for c in view.model.rows] == ["delete"]
    view.table.setCurrentIndex(view.table.model().index(0, 0))
    assert view.keep_record_button is not None and view.confirm_delete_button is not None
    # WHEN the advisor keeps the record
    resolve_and_wait(qtbot, view, view.keep_record_button.click)
    # THEN it is not deleted, with the edit kept
    found = row(a, pid)
    assert found["deleted_at"] is None and found["title"] == "Cagette modifiée"
    assert conflicts(a) == []


def test_model_checks_and_cells(qtmodeltester, pair: tuple[Database, Database, uuid.UUID, str]) -> None:
    a, b, advisor, pid = pair
    concurrent(a, b, pid, "status", "en_veille", "abandonne")
    with a.read() as session:
        items = load_conflicts(session, advisor)
    model = ConflictsTableModel()
    model.set_rows(items)
    qtmodeltester.check(model)
    assert model.index(0, 1).data() == "Statut"
    assert model.index(0, 2).data() == "valeur"
    assert sorted(v.text for v in items[0].versions) == ["abandonné", "en veille"]
    assert not items[0].editable and not items[0].text_field
