"""Long work on the database worker (PDF batches, exports) with a progress dialog and a Cancel button.

The task receives ``progress(done, total)`` and ``cancelled()`` callables, as ``reports.summary.
render_many`` and ``reports.exports.export_list`` expect. Both are safe to call from the worker:
progress is forwarded to the GUI thread, and Cancel only sets a flag the task reads between items.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.errors import show_error

logger = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class LongTask:
    """Run ``work(progress, cancelled)`` on the worker with a modal progress dialog."""

    def __init__(self, ctx: AppContext, parent: QWidget, label: str,
                 work: Callable[[Progress, Cancelled], T]) -> None:
        self._ctx = ctx
        self._parent = parent
        self._work = work
        self._cancel = threading.Event()
        self._on_done: Callable[[T], Any] | None = None
        self.dialog = QProgressDialog(label, parent.tr("Annuler"), 0, 0, parent)
        self.dialog.setWindowTitle(parent.tr("Veuillez patienter"))
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(300)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self._cancel.set)

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def success(self, callback: Callable[[T], Any]) -> LongTask:
        self._on_done = callback
        return self

    def run(self) -> None:
        def task() -> T:
            return self._work(self._progress, self._cancel.is_set)

        self._ctx.tasks.run_in_background(task, self._done)

    def _progress(self, done: int, total: int) -> None:
        """Called on the worker: hand the figures to the GUI thread."""
        self._ctx.tasks.run_on_main(lambda: self._show_progress(done, total))

    def _show_progress(self, done: int, total: int) -> None:
        if self.dialog.maximum() != total:
            self.dialog.setMaximum(total)
        self.dialog.setValue(min(done, total))

    def _done(self, future: Future[T]) -> None:
        self.dialog.close()
        self.dialog.deleteLater()
        exc = future.exception()
        if exc is None:
            if self._on_done is not None:
                self._on_done(future.result())
        elif isinstance(exc, UserFacingError):
            logger.info("long task stopped: %s", type(exc).__name__)
            show_error(self._parent, exc)
        else:
            raise exc
