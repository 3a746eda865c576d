"""The tour de table: Qt's checks, French amounts, totals with the overall line in bold."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from PySide6.QtCore import Qt

from ess_accompagnement.domain.codes import FinancingStatus, Instrument
from ess_accompagnement.domain.queries.project_records import FinancingItem, financing_totals
from ess_accompagnement.ui.models.financing_model import FinancingModel, FinancingTotalsModel
from ess_accompagnement.ui.models.rows_model import SortRole

LINES = [
    FinancingItem(uuid.uuid4(), Instrument.PRET_HONNEUR, "France Active – Fonds de confiance", FinancingStatus.ACCORDE,
                  Decimal("15000.50"), Decimal("15000.50"), dt.date(2026, 1, 5), dt.date(2026, 2, 1), None),
    FinancingItem(uuid.uuid4(), Instrument.SUBVENTION, None, FinancingStatus.DEMANDE, Decimal("2000"), None,
                  None, None, "Dossier déposé"),
]


def test_models_pass_qt_checks(qtmodeltester) -> None:
    model, totals = FinancingModel(), FinancingTotalsModel()
    model.set_rows(LINES)
    totals.set_rows(financing_totals(LINES))
    qtmodeltester.check(model)
    qtmodeltester.check(totals)


def test_amounts_and_dates_are_french() -> None:
    model = FinancingModel()
    model.set_rows(LINES)

    assert [model.index(0, c).data() for c in range(model.columnCount())] == [
        "Prêt d'honneur", "France Active – Fonds de confiance", "Accordé", "15\u202f000,50\xa0€", "15\u202f000,50\xa0€",
        "05/01/2026", "01/02/2026"]
    assert model.index(1, 4).data() == ""
    assert model.index(1, 4).data(SortRole) == 0
    assert model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole) == "Dossier déposé"
    assert model.index(0, 3).data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight


def test_totals_per_status_then_overall_in_bold() -> None:
    totals = FinancingTotalsModel()
    totals.set_rows(financing_totals(LINES))

    assert [totals.index(r, 0).data() for r in range(totals.rowCount())] == ["Demandé", "Accordé", "Total"]
    assert totals.index(2, 2).data() == "17\u202f000,50\xa0€"
    assert totals.index(2, 0).data(Qt.ItemDataRole.FontRole).bold()
    assert totals.index(0, 0).data(Qt.ItemDataRole.FontRole) is None
