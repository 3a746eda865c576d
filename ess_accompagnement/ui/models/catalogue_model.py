"""The catalogue: structures and dispositifs (``domain.queries.catalogue`` rows), with phases and support types."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QColor

from ess_accompagnement.domain.queries.catalogue import DispositifRow, StructureRow
from ess_accompagnement.domain.text import fold
from ess_accompagnement.ui.labels import capitalised, label
from ess_accompagnement.ui.models.rows_model import Column, RowsTableModel

INACTIVE = QColor("#98A2B3")


def codes_text(values: tuple[Any, ...]) -> str:
    return ", ".join(label(value) for value in values)


def active_text(row: StructureRow | DispositifRow) -> str:
    return QCoreApplication.translate("CatalogueModel", "Oui") if row.active else \
        QCoreApplication.translate("CatalogueModel", "Non")


class StructuresModel(RowsTableModel[StructureRow]):
    CONTEXT: ClassVar[str] = "StructuresModel"
    COLUMNS: ClassVar[tuple[Column[Any], ...]] = (
        Column(QT_TRANSLATE_NOOP("StructuresModel", "Nom"), lambda s: s.name, lambda s: fold(s.name),
               tooltip=lambda s: ", ".join(s.former_names) or None),
        Column(QT_TRANSLATE_NOOP("StructuresModel", "Sigle"), lambda s: s.short_name or ""),
        Column(QT_TRANSLATE_NOOP("StructuresModel", "Type"), lambda s: capitalised(s.kind)),
        Column(QT_TRANSLATE_NOOP("StructuresModel", "Territoire"), lambda s: s.departement or s.territory or ""),
        Column(QT_TRANSLATE_NOOP("StructuresModel", "Actif"), active_text),
        Column(QT_TRANSLATE_NOOP("StructuresModel", "Phases"), lambda s: codes_text(s.phases)),
        Column(QT_TRANSLATE_NOOP("StructuresModel", "Types d'appui"), lambda s: codes_text(s.support_types)),
    )

    def foreground(self, row: StructureRow) -> QColor | None:
        return None if row.active else INACTIVE


class DispositifsModel(RowsTableModel[DispositifRow]):
    CONTEXT: ClassVar[str] = "DispositifsModel"
    COLUMNS: ClassVar[tuple[Column[Any], ...]] = (
        Column(QT_TRANSLATE_NOOP("DispositifsModel", "Nom"), lambda d: d.name, lambda d: fold(d.name),
               tooltip=lambda d: ", ".join(d.former_names) or None),
        Column(QT_TRANSLATE_NOOP("DispositifsModel", "Opérateur"), lambda d: d.operator_name,
               lambda d: fold(d.operator_name)),
        Column(QT_TRANSLATE_NOOP("DispositifsModel", "Instrument"), lambda d: capitalised(d.instrument)),
        Column(QT_TRANSLATE_NOOP("DispositifsModel", "Territoire"), lambda d: d.territory or ""),
        Column(QT_TRANSLATE_NOOP("DispositifsModel", "Actif"), active_text),
        Column(QT_TRANSLATE_NOOP("DispositifsModel", "Phases"), lambda d: codes_text(d.phases)),
        Column(QT_TRANSLATE_NOOP("DispositifsModel", "Types d'appui"), lambda d: codes_text(d.support_types)),
    )

    def foreground(self, row: DispositifRow) -> QColor | None:
        return None if row.active else INACTIVE
