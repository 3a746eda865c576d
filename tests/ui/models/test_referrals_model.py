"""Referral tables: Qt's checks, French cells, highlight of referrals near expiry."""

from __future__ import annotations

import datetime as dt
import uuid

from PySide6.QtCore import Qt

from ess_accompagnement.domain.codes import ReferralOutcome, ReferralStatus, RefusalReason
from ess_accompagnement.domain.queries.referrals import ReferralRow
from ess_accompagnement.ui.models.referrals_model import (
    NEAR_EXPIRY,
    InboxTableModel,
    OutboxTableModel,
    ProjectReferralsTableModel,
)
from ess_accompagnement.ui.models.rows_model import IdRole, SortRole


def row(status: ReferralStatus = ReferralStatus.PROPOSEE, *, days_left: int | None = 3, **fields: object) -> ReferralRow:
    values: dict[str, object] = dict(
        id=uuid.uuid4(), project_id=uuid.uuid4(), project_title="Épicerie « La Cagette »",
        from_structure="URSCOP", to_structure="France Active", dispositif="Fonds de confiance",
        motive="Besoin\nd'amorçage", status=status, proposed_on=dt.date(2026, 2, 18), answered_on=None,
        expires_on=dt.date(2026, 3, 20) if days_left is not None else None, age_days=25, refusal_reason=None,
        outcome=None, incoming=True, days_left=days_left)
    values.update(fields)
    return ReferralRow(**values)  # type: ignore[arg-type]


def test_models_pass_qt_checks(qtmodeltester) -> None:
    for model_class in (InboxTableModel, OutboxTableModel, ProjectReferralsTableModel):
        model = model_class()
        model.set_rows([row(), row(ReferralStatus.REFUSEE, days_left=None, refusal_reason=RefusalReason.CAPACITE)])
        qtmodeltester.check(model)


def test_inbox_cells_are_french() -> None:
    model = InboxTableModel()
    waiting = row()
    model.set_rows([waiting, row(ReferralStatus.ABOUTIE, days_left=None, outcome=ReferralOutcome.FINANCEMENT_ACCORDE,
                                 answered_on=dt.date(2026, 2, 20))])

    cells = [model.index(0, c).data() for c in range(model.columnCount())]
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]

    assert headers == ["Projet", "De", "Vers", "Statut", "Proposée le", "Âge", "Expire le", "Motif"]
    assert cells == ["Épicerie « La Cagette »", "URSCOP", "France Active – Fonds de confiance", "Proposée",
                     "18/02/2026", "25 j", "20/03/2026 (J-3)", "Besoin d'amorçage"]
    assert model.index(1, 3).data() == "Aboutie : financement accordé"
    assert model.index(0, 0).data(IdRole) == waiting.id
    assert model.index(0, 5).data(SortRole) == 25


def test_near_expiry_is_highlighted_and_closed_greyed() -> None:
    model = OutboxTableModel()
    model.set_rows([row(), row(days_left=20), row(ReferralStatus.EXPIREE, days_left=None)])

    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole).color() == NEAR_EXPIRY
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert model.index(2, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(2, 5).data() == "—"
