"""Opening the form dialogs of ``ui/dialogs/`` from a screen, imported on first use.

Screens ask for a dialog by key (``"appointment"``, ``"referral_answer"``…) through a factory they
hold as an attribute (``dialog_factory``), so tests replace it with a recorder and never depend on
the dialogs' modules. A dialog saves itself through an ``Op``; screens refresh on ``sig_changed``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

logger = logging.getLogger(__name__)

DialogFactory = Callable[..., Any]

DIALOGS: dict[str, tuple[str, str]] = {
    "project": ("ess_accompagnement.ui.dialogs.project", "ProjectDialog"),
    "person": ("ess_accompagnement.ui.dialogs.person", "PersonDialog"),
    "appointment": ("ess_accompagnement.ui.dialogs.appointment", "AppointmentDialog"),
    "referral": ("ess_accompagnement.ui.dialogs.referral", "ReferralDialog"),
    "referral_answer": ("ess_accompagnement.ui.dialogs.referral_answer", "ReferralAnswerDialog"),
    "phase_change": ("ess_accompagnement.ui.dialogs.phase_change", "PhaseChangeDialog"),
    "financing": ("ess_accompagnement.ui.dialogs.financing", "FinancingDialog"),
    "financing_followup": ("ess_accompagnement.ui.dialogs.financing", "FinancingFollowUpDialog"),
    "member_add": ("ess_accompagnement.ui.dialogs.member", "AddMemberDialog"),
    "member_role": ("ess_accompagnement.ui.dialogs.member", "MemberRoleDialog"),
    "member_remove": ("ess_accompagnement.ui.dialogs.member", "RemoveMemberDialog"),
    "note": ("ess_accompagnement.ui.dialogs.note", "NoteDialog"),
    "project_status": ("ess_accompagnement.ui.dialogs.project_status", "ProjectStatusDialog"),
}


def dialog_class(key: str) -> type[QDialog]:
    """The dialog class for ``key``: from its module, else from the ``ui.dialogs`` package."""
    module_name, class_name = DIALOGS[key]
    try:
        return getattr(importlib.import_module(module_name), class_name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        package = importlib.import_module("ess_accompagnement.ui.dialogs")
        return getattr(package, class_name)  # type: ignore[no-any-return]


def load_dialog(key: str, *args: Any, **kwargs: Any) -> QDialog:
    """Build the dialog ``key`` with the constructor arguments of ``ui/dialogs``."""
    return dialog_class(key)(*args, **kwargs)


def launch(factory: DialogFactory, key: str, *args: Any, **kwargs: Any) -> Any:
    """Build the dialog with ``factory`` and open it without blocking (deleted once closed)."""
    logger.debug("opening dialog %s", key)
    dialog = factory(key, *args, **kwargs)
    if isinstance(dialog, QDialog):
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
