"""Probable duplicate holders, one pair per row: both names side by side, the rule that matched, the score."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP

from ess_accompagnement.domain.duplicates import MatchReason
from ess_accompagnement.domain.person_merge import DuplicatePair, PersonSide
from ess_accompagnement.ui.models.rows_model import Column, RowsTableModel, tr

CONTEXT = "DuplicatesTableModel"

REASONS: dict[MatchReason, str] = {
    MatchReason.SIRET: QT_TRANSLATE_NOOP("DuplicatesTableModel", "Même SIRET de projet, nom proche"),
    MatchReason.RNA: QT_TRANSLATE_NOOP("DuplicatesTableModel", "Même RNA de projet, nom proche"),
    MatchReason.EMAIL_AND_FIRST_NAME: QT_TRANSLATE_NOOP("DuplicatesTableModel", "Même e-mail et prénom proche"),
    MatchReason.PHONE_AND_FIRST_NAME: QT_TRANSLATE_NOOP("DuplicatesTableModel", "Même téléphone et prénom proche"),
    MatchReason.NAME_AND_COMMUNE: QT_TRANSLATE_NOOP("DuplicatesTableModel", "Nom proche, même commune"),
    MatchReason.TITLE_AND_COMMUNE: QT_TRANSLATE_NOOP("DuplicatesTableModel", "Titre proche, même commune"),
}


def reason_text(pair: DuplicatePair) -> str:
    return tr(CONTEXT, REASONS.get(pair.reason, pair.reason.value))


def side_text(side: PersonSide) -> str:
    details = [d for d in (side.commune, side.email) if d]
    return side.name + (f" ({', '.join(details)})" if details else "")


class DuplicatesTableModel(RowsTableModel[DuplicatePair]):
    CONTEXT: ClassVar[str] = CONTEXT
    COLUMNS: ClassVar[list[Column[DuplicatePair]]] = [
        Column(QT_TRANSLATE_NOOP("DuplicatesTableModel", "Personne A"), lambda p: side_text(p.a),
               sort=lambda p: p.a.name.casefold()),
        Column(QT_TRANSLATE_NOOP("DuplicatesTableModel", "Personne B"), lambda p: side_text(p.b),
               sort=lambda p: p.b.name.casefold()),
        Column(QT_TRANSLATE_NOOP("DuplicatesTableModel", "Raison"), reason_text,
               sort=lambda p: list(MatchReason).index(p.reason)),
        Column(QT_TRANSLATE_NOOP("DuplicatesTableModel", "Ressemblance"), lambda p: f"{p.score:.0f} %",
               sort=lambda p: p.score, right=True),
    ]
