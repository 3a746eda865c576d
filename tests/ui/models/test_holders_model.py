"""Holders: Qt's checks, formatted phone, consent wording."""

from __future__ import annotations

import datetime as dt
import uuid

from PySide6.QtCore import Qt

from ess_accompagnement.domain.codes import ConsentScope, MemberRole
from ess_accompagnement.domain.queries.project_records import HolderContact
from ess_accompagnement.ui.models.holders_model import HoldersModel

ROWS = [
    HolderContact(uuid.uuid4(), "Inès", "Lefèvre", MemberRole.PORTEUR, "ines@exemple.fr", "+33254123456", "Tours",
                  ConsentScope.PARTENAIRES, dt.date(2026, 1, 12)),
    HolderContact(uuid.uuid4(), "Hélène", "Dupré", MemberRole.CO_PORTEUR, None, None, None, None, None),
]


def test_model_passes_qt_checks(qtmodeltester) -> None:
    model = HoldersModel()
    model.set_rows(ROWS)
    qtmodeltester.check(model)


def test_cells_are_french() -> None:
    model = HoldersModel()
    model.set_rows(ROWS)

    assert [model.index(0, c).data() for c in range(model.columnCount())] == [
        "Inès Lefèvre", "Porteur", "ines@exemple.fr", "02 54 12 34 56", "Tours", "Partage avec les partenaires du parcours (depuis le 12/01/2026)"]
    assert model.index(1, 5).data() == "Aucun consentement enregistré"
    assert model.index(1, 5).data(Qt.ItemDataRole.ForegroundRole) is not None
