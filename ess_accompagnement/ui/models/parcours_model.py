"""A project's parcours: the chain of structures and dispositifs, in order, with dates and outcomes."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QColor

from ess_accompagnement.domain.codes import ReferralStatus
from ess_accompagnement.domain.queries.parcours import ParcoursStep
from ess_accompagnement.ui.labels import capitalised, label
from ess_accompagnement.ui.models.rows_model import Column, RowsTableModel
from ess_accompagnement.ui.widgets.french import short_date

_C = "ParcoursModel"
DONE = QColor("#E6F4EA")
FAILED = QColor("#8A8F98")


def _tr(text: str) -> str:
    return QCoreApplication.translate(_C, text)


def _name(s: ParcoursStep) -> str:
    return f"{s.structure} – {s.dispositif}" if s.dispositif else s.structure


def _how(s: ParcoursStep) -> str:
    if s.is_lead:
        return _tr("Structure référente")
    return _tr("Orienté par {structure}").format(structure=s.from_structure)


def _dates(s: ParcoursStep) -> str:
    parts = [_tr("depuis le {date}").format(date=short_date(s.since)) if s.is_lead
             else _tr("proposée le {date}").format(date=short_date(s.since))]
    for text, day in ((_tr("réponse le {date}"), s.answered_on), (_tr("démarrée le {date}"), s.started_on),
                      (_tr("close le {date}"), s.closed_on)):
        if day is not None:
            parts.append(text.format(date=short_date(day)))
    return "\n".join(parts)


def situation(s: ParcoursStep) -> str:
    """« Aboutie : financement accordé », « Proposée : expire le 18/03/2026 », « En cours »."""
    if s.status is None:
        return _tr("Accompagnement en cours")
    if s.outcome is not None:
        return f"{capitalised(s.status)} : {label(s.outcome)}"
    if s.status is ReferralStatus.REFUSEE and s.refusal_reason is not None:
        return f"{capitalised(s.status)} : {label(s.refusal_reason)}"
    if s.expires_on is not None:
        return _tr("{status} : expire le {date}").format(status=capitalised(s.status), date=short_date(s.expires_on))
    return capitalised(s.status)


class ParcoursModel(RowsTableModel[ParcoursStep]):
    CONTEXT: ClassVar[str] = _C
    COLUMNS: ClassVar[tuple[Column[Any], ...]] = (
        Column(QT_TRANSLATE_NOOP("ParcoursModel", "N°"), lambda s: str(s.position), lambda s: s.position, right=True),
        Column(QT_TRANSLATE_NOOP("ParcoursModel", "Structure et dispositif"), _name),
        Column(QT_TRANSLATE_NOOP("ParcoursModel", "Étape"), _how),
        Column(QT_TRANSLATE_NOOP("ParcoursModel", "Dates"), _dates, lambda s: s.since),
        Column(QT_TRANSLATE_NOOP("ParcoursModel", "Situation"), situation),
    )

    def background(self, row: ParcoursStep) -> QColor | None:
        return DONE if row.status is ReferralStatus.ABOUTIE else None

    def foreground(self, row: ParcoursStep) -> QColor | None:
        return FAILED if row.status in (ReferralStatus.REFUSEE, ReferralStatus.ABANDONNEE) else None

    def bold(self, row: ParcoursStep) -> bool:
        return row.is_lead
