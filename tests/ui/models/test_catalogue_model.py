"""Structures and dispositifs tables: Qt's checks and French cells."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt

from ess_accompagnement.domain.codes import Instrument, Phase, StructureKind, SupportType
from ess_accompagnement.domain.queries.catalogue import DispositifRow, StructureRow
from ess_accompagnement.ui.models.catalogue_model import DispositifsModel, StructuresModel

STRUCTURE = StructureRow(uuid.uuid4(), "urscop", "URSCOP Centre-Val de Loire", "URSCOP", StructureKind.ACCOMPAGNATEUR,
                         (SupportType.ACCOMPAGNEMENT, SupportType.FORMATION), (Phase.CREATION, Phase.REPRISE_TRANSMISSION),
                         "CVL", None, ("Union régionale des SCOP",), True)
INACTIVE = StructureRow(uuid.uuid4(), None, "Ancienne pépinière", None, StructureKind.LIEU, (), (), None, "45", (), False)
DISPOSITIF = DispositifRow(uuid.uuid4(), "fonds-confiance", "Fonds de confiance", uuid.uuid4(), "France Active CVL",
                           (SupportType.FINANCEMENT,), Instrument.SUBVENTION, (Phase.EMERGENCE,), "CVL", (), True)


def test_models_pass_qt_checks(qtmodeltester) -> None:
    structures, dispositifs = StructuresModel(), DispositifsModel()
    structures.set_rows([STRUCTURE, INACTIVE])
    dispositifs.set_rows([DISPOSITIF])
    qtmodeltester.check(structures)
    qtmodeltester.check(dispositifs)


def test_cells_are_french() -> None:
    structures, dispositifs = StructuresModel(), DispositifsModel()
    structures.set_rows([STRUCTURE, INACTIVE])
    dispositifs.set_rows([DISPOSITIF])

    assert [structures.index(0, c).data() for c in range(structures.columnCount())] == [
        "URSCOP Centre-Val de Loire", "URSCOP", "Structure d'accompagnement", "CVL", "Oui", "création, reprise / transmission",
        "accompagnement, formation"]
    assert structures.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == "Union régionale des SCOP"
    assert structures.index(1, 4).data() == "Non"
    assert structures.index(1, 3).data() == "45"
    assert structures.index(1, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert [dispositifs.index(0, c).data() for c in range(dispositifs.columnCount())] == [
        "Fonds de confiance", "France Active CVL", "Subvention", "CVL", "Oui", "émergence", "financement"]
