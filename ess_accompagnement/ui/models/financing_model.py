"""A project's « tour de table »: its financing lines, and the totals per status."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from ess_accompagnement.domain.codes import FinancingStatus
from ess_accompagnement.domain.queries.project_records import FinancingItem, FinancingTotal
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.rows_model import Column, RowsTableModel
from ess_accompagnement.ui.widgets.french import amount, short_date


def _zero_if_none(value: Any) -> Any:
    return value if value is not None else 0


class FinancingModel(RowsTableModel[FinancingItem]):
    CONTEXT: ClassVar[str] = "FinancingModel"
    COLUMNS: ClassVar[tuple[Column[Any], ...]] = (
        Column(QT_TRANSLATE_NOOP("FinancingModel", "Instrument"), lambda f: capitalised(f.instrument)),
        Column(QT_TRANSLATE_NOOP("FinancingModel", "Financeur"), lambda f: f.funder or "",
               tooltip=lambda f: f.comment),
        Column(QT_TRANSLATE_NOOP("FinancingModel", "Statut"), lambda f: capitalised(f.status),
               lambda f: list(FinancingStatus).index(f.status)),
        Column(QT_TRANSLATE_NOOP("FinancingModel", "Demandé"), lambda f: amount(f.requested),
               lambda f: _zero_if_none(f.requested), right=True),
        Column(QT_TRANSLATE_NOOP("FinancingModel", "Accordé"), lambda f: amount(f.granted),
               lambda f: _zero_if_none(f.granted), right=True),
        Column(QT_TRANSLATE_NOOP("FinancingModel", "Demandé le"), lambda f: short_date(f.requested_on),
               lambda f: f.requested_on.toordinal() if f.requested_on else 0),
        Column(QT_TRANSLATE_NOOP("FinancingModel", "Décidé le"), lambda f: short_date(f.decided_on),
               lambda f: f.decided_on.toordinal() if f.decided_on else 0),
    )


def _total_label(total: FinancingTotal) -> str:
    if total.status is None:
        return QCoreApplication.translate("FinancingTotalsModel", "Total")
    return capitalised(total.status)


class FinancingTotalsModel(RowsTableModel[FinancingTotal]):
    """Totals per status, then the overall total (in bold)."""

    CONTEXT: ClassVar[str] = "FinancingTotalsModel"
    COLUMNS: ClassVar[tuple[Column[Any], ...]] = (
        Column(QT_TRANSLATE_NOOP("FinancingTotalsModel", "Statut"), _total_label),
        Column(QT_TRANSLATE_NOOP("FinancingTotalsModel", "Lignes"), lambda t: str(t.lines), lambda t: t.lines,
               right=True),
        Column(QT_TRANSLATE_NOOP("FinancingTotalsModel", "Demandé"), lambda t: amount(t.requested),
               lambda t: t.requested, right=True),
        Column(QT_TRANSLATE_NOOP("FinancingTotalsModel", "Accordé"), lambda t: amount(t.granted),
               lambda t: t.granted, right=True),
    )

    def bold(self, row: FinancingTotal) -> bool:
        return row.status is None
