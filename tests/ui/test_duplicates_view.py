"""« Doublons probables » on the demo database: a holder registered twice is merged, another pair dismissed."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ess_accompagnement.domain.duplicates import MatchReason
from ess_accompagnement.domain.entities import Person, PersonDistinct
from ess_accompagnement.domain.person_merge import DuplicatePair, PersonSide
from ess_accompagnement.domain.text import sort_key
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.models.duplicates_model import DuplicatesTableModel
from ess_accompagnement.ui.views.duplicates import DuplicatesView


def add_person(ctx: AppContext, first: str, last: str, email: str | None = None) -> uuid.UUID:
    with ctx.db.transaction() as session:
        commune = session.scalars(select(Person.commune_code).where(Person.commune_code.isnot(None))).first()
        person = Person(first_name=first, last_name=last, sort_key=sort_key(f"{last} {first}"), email=email,
                        commune_code=commune, owner_structure_id=ctx.structure_id)
        session.add(person)
        session.flush()
        return person.id


@pytest.fixture
def view(qtbot: QtBot, ui_ctx: AppContext) -> DuplicatesView:
    view = DuplicatesView(ui_ctx)
    qtbot.addWidget(view)
    view.resize(1440, 900)
    qtbot.waitUntil(lambda: view.pairs is not None)
    return view


def reload(qtbot: QtBot, view: DuplicatesView) -> None:
    with qtbot.waitSignal(view.sig_loaded, timeout=5000):
        view.refresh()


def select_pair(view: DuplicatesView, ids: set[uuid.UUID]) -> DuplicatePair:
    proxy = view.table.model()
    for r in range(proxy.rowCount()):
        view.table.setCurrentIndex(proxy.index(r, 0))
        pair = view.selected()
        if pair is not None and {pair.a.id, pair.b.id} == ids:
            return pair
    raise AssertionError("pair not listed")


def test_merge_and_not_a_duplicate(qtbot: QtBot, view: DuplicatesView, ui_ctx: AppContext,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a holder registered twice and two namesakes with the same e-mail
    first, second = add_person(ui_ctx, "Anaïs", "Quenardel"), add_person(ui_ctx, "Anais", "QUENARDEL")
    x, y = (add_person(ui_ctx, "Zélie", "Vauboin", "famille.vauboin@example.org"),
            add_person(ui_ctx, "Zelie", "Marchais", "famille.vauboin@example.org"))
    reload(qtbot, view)
    pair = select_pair(view, {first, second})
    assert pair.reason is MatchReason.NAME_AND_COMMUNE
    assert view.side_a.title() == "Anaïs Quenardel" and "Commune" in view.label_a.text()
    assert view.keep_a.accessibleName() == "Fusionner en gardant la fiche de Anaïs Quenardel"
    # WHEN the advisor merges, keeping the first record (confirming)
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(view.sig_loaded, timeout=5000):
        view.keep_a.click()
    # THEN the second record points to the first, and the pair is gone
    with ui_ctx.db.read() as session:
        merged = session.get(Person, second)
        assert merged is not None and merged.merged_into_id == first and merged.deleted_at is not None
    assert all({p.a.id, p.b.id} != {first, second} for p in view.model.rows)
    # WHEN the other pair is dismissed as « pas un doublon »
    select_pair(view, {x, y})
    with qtbot.waitSignal(view.sig_loaded, timeout=5000):
        view.distinct_button.click()
    # THEN it is recorded and not offered again
    with ui_ctx.db.read() as session:
        assert session.scalars(select(PersonDistinct)).all()
    assert all({p.a.id, p.b.id} != {x, y} for p in view.model.rows)


def test_model(qtmodeltester) -> None:
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    a = PersonSide(uuid.uuid4(), "Inès", "Lefèvre", "ines@example.org", None, "Tours", None, now, ("Épicerie",))
    b = PersonSide(uuid.uuid4(), "Ines", "LEFEVRE", None, None, "Tours", 1990, now)
    model = DuplicatesTableModel()
    model.set_rows([DuplicatePair(a, b, MatchReason.NAME_AND_COMMUNE, 100.0)])
    qtmodeltester.check(model)
    assert model.index(0, 0).data() == "Inès Lefèvre (Tours, ines@example.org)"
    assert model.index(0, 2).data() == "Nom proche, même commune"
    assert model.index(0, 3).data() == "100 %"
