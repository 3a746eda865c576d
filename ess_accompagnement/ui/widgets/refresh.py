"""Refreshing a screen after ``ctx.sig_changed``: at once when it is shown, on its next showing otherwise."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.ui.context import AppContext


class ChangeWatcher(QObject):
    """Calls ``refresh()`` when a change touches one of ``flags`` (``Changes`` field names; None: any).

    A hidden screen is only marked stale and refreshed when it is shown again, so ten screens built
    during a session do not all re-query the database after every save. With ``ignore_own``, changes
    the widget announced itself (it refreshes on its own after them) are left alone.
    """

    def __init__(self, ctx: AppContext, widget: QWidget, flags: tuple[str, ...] | None, refresh: Callable[[], None],
                 *, ignore_own: bool = False) -> None:
        super().__init__(widget)
        self._widget = widget
        self._flags = flags
        self._refresh = refresh
        self._ignore_own = ignore_own
        self.stale = False
        ctx.sig_changed.connect(self._on_changed)
        widget.installEventFilter(self)

    def _on_changed(self, changes: Changes, initiator: object) -> None:
        if self._ignore_own and initiator is self._widget:
            return
        if self._flags is not None and not any(getattr(changes, flag) for flag in self._flags):
            return
        if self._widget.isVisible():
            self._refresh()
        else:
            self.stale = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and event.type() == QEvent.Type.Show and self.stale:
            self.stale = False
            self._refresh()
        return False
