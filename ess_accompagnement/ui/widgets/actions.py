"""The actions of one screen: a shortcut that works while the focus is inside that screen, on its toolbar.

The main window keeps several screens alive (pages kept, lazy views); a window-wide shortcut would be answered
by whichever of them Qt finds first, so every screen action is ``WidgetWithChildrenShortcut``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar, QWidget


def screen_action(owner: QWidget, name: str, text: str, keys: str | QKeySequence.StandardKey,
                  slot: Callable[..., Any], toolbar: QToolBar | None = None) -> QAction:
    """An action ``action_<name>`` of ``owner`` (« &Répondre… »), shortcut ``keys``, shown on ``toolbar``;
    its tooltip names the shortcut."""
    sequence = QKeySequence(keys)
    action = QAction(text, owner, objectName=f"action_{name}", shortcut=sequence)
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    plain = text.replace("&", "").rstrip("…")
    shown = sequence.toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{plain} ({shown})" if shown else plain)
    action.triggered.connect(slot)
    owner.addAction(action)
    if toolbar is not None:
        toolbar.addAction(action)
    return action
