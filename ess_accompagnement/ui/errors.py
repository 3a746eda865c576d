"""Showing a user's mistake (``UserFacingError``) the one common way (STYLE.md §8).

Form dialogs show errors next to the field, with Save disabled; ``show_error`` is for everything
else: a use case refused by a rule after Save, a file that cannot be read. Bugs never come here:
they reach ``sys.excepthook`` and the crash dialog (``app.py``).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from ess_accompagnement.domain.errors import UserFacingError

logger = logging.getLogger(__name__)

_open_boxes: set[QMessageBox] = set()
"""Boxes shown without a parent, kept alive until closed (Python would otherwise collect them)."""


def show_error(parent: QWidget | None, exc: UserFacingError) -> QMessageBox:
    """A non-blocking warning box with the French message (returned so tests can read and close it)."""
    title = QCoreApplication.translate("Errors", "Action impossible")
    box = QMessageBox(QMessageBox.Icon.Warning, title, exc.message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("user_error_box")
    box.setAccessibleName(title)
    _open_boxes.add(box)
    box.finished.connect(lambda _result: _open_boxes.discard(box))
    box.open()
    return box
