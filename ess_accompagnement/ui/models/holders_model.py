"""A project's holders: role, contact, and what they consented to share."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QColor

from ess_accompagnement.domain.codes import MemberRole
from ess_accompagnement.domain.queries.project_records import HolderContact
from ess_accompagnement.domain.text import fold
from ess_accompagnement.domain.validation import format_phone
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.rows_model import Column, RowsTableModel
from ess_accompagnement.ui.widgets.french import short_date

NO_CONSENT = QColor("#A33A2B")


def _phone(h: HolderContact) -> str:
    try:
        return format_phone(h.phone) if h.phone else ""
    except Exception:  # noqa: BLE001 - a malformed stored number is shown as it is
        return h.phone or ""


def _consent(h: HolderContact) -> str:
    if h.consent_scope is None:
        return QCoreApplication.translate("HoldersModel", "Aucun consentement enregistré")
    if h.consent_date is None:
        return capitalised(h.consent_scope)
    return QCoreApplication.translate("HoldersModel", "{scope} (depuis le {date})").format(
        scope=capitalised(h.consent_scope), date=short_date(h.consent_date))


class HoldersModel(RowsTableModel[HolderContact]):
    CONTEXT: ClassVar[str] = "HoldersModel"
    COLUMNS: ClassVar[tuple[Column[Any], ...]] = (
        Column(QT_TRANSLATE_NOOP("HoldersModel", "Nom"), lambda h: f"{h.first_name} {h.last_name}",
               lambda h: fold(f"{h.last_name} {h.first_name}")),
        Column(QT_TRANSLATE_NOOP("HoldersModel", "Rôle"), lambda h: capitalised(h.role),
               lambda h: list(MemberRole).index(h.role)),
        Column(QT_TRANSLATE_NOOP("HoldersModel", "Courriel"), lambda h: h.email or ""),
        Column(QT_TRANSLATE_NOOP("HoldersModel", "Téléphone"), _phone),
        Column(QT_TRANSLATE_NOOP("HoldersModel", "Commune"), lambda h: h.commune or ""),
        Column(QT_TRANSLATE_NOOP("HoldersModel", "Consentement au partage"), _consent),
    )

    def foreground(self, row: HolderContact) -> QColor | None:
        return NO_CONSENT if row.consent_scope is None else None
