"""The parcours table: Qt's checks, steps, dates and situations in French."""

from __future__ import annotations

import datetime as dt
import uuid

from PySide6.QtCore import Qt

from ess_accompagnement.domain.codes import ReferralOutcome, ReferralStatus, RefusalReason
from ess_accompagnement.domain.queries.parcours import ParcoursStep
from ess_accompagnement.ui.models.parcours_model import ParcoursModel

LEAD = ParcoursStep(1, uuid.uuid4(), "URSCOP", None, dt.date(2025, 1, 6))
DONE = ParcoursStep(2, uuid.uuid4(), "France Active", "Fonds de confiance", dt.date(2025, 2, 1), uuid.uuid4(),
                    "URSCOP", status=ReferralStatus.ABOUTIE, answered_on=dt.date(2025, 2, 10),
                    closed_on=dt.date(2025, 6, 1), outcome=ReferralOutcome.FINANCEMENT_ACCORDE)
REFUSED = ParcoursStep(3, uuid.uuid4(), "Alter'Incub", None, dt.date(2025, 3, 1), uuid.uuid4(), "URSCOP",
                       status=ReferralStatus.REFUSEE, refusal_reason=RefusalReason.CAPACITE)
WAITING = ParcoursStep(4, uuid.uuid4(), "DLA", None, dt.date(2026, 3, 1), uuid.uuid4(), "URSCOP",
                       status=ReferralStatus.PROPOSEE, expires_on=dt.date(2026, 3, 31))


def test_model_passes_qt_checks(qtmodeltester) -> None:
    model = ParcoursModel()
    model.set_rows([LEAD, DONE, REFUSED, WAITING])
    qtmodeltester.check(model)


def test_cells_are_french() -> None:
    model = ParcoursModel()
    model.set_rows([LEAD, DONE, REFUSED, WAITING])

    assert [model.index(0, c).data() for c in range(model.columnCount())] == [
        "1", "URSCOP", "Structure référente", "depuis le 06/01/2025", "Accompagnement en cours"]
    assert [model.index(1, c).data() for c in range(model.columnCount())] == [
        "2", "France Active – Fonds de confiance", "Orienté par URSCOP",
        "proposée le 01/02/2025\nréponse le 10/02/2025\nclose le 01/06/2025", "Aboutie : financement accordé"]
    assert model.index(2, 4).data() == "Refusée : pas de capacité d'accueil"
    assert model.index(3, 4).data() == "Proposée : expire le 31/03/2026"
    assert model.index(0, 1).data(Qt.ItemDataRole.FontRole).bold()
    assert model.index(1, 1).data(Qt.ItemDataRole.BackgroundRole) is not None
