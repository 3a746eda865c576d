"""Running database work off the GUI thread: ``Op`` for use cases, ``Query`` for loads (STYLE.md §3).

Everything that touches the database on behalf of a screen goes through one ``TaskManager`` and its
single worker thread, so database work is serialised (this suits SQLite: one writer at a time) and
the window keeps painting while a use case runs. Callbacks always run back on the GUI thread; the
worker never touches a widget.

    Op(self, lambda session, actor: referrals.propose(session, actor, draft, today=ctx.today))
        .success(self._on_saved)
        .run()

An ``Op`` runs its function in one ``Database.transaction()`` with the acting advisor loaded, shows a
``UserFacingError`` with ``show_error`` (or hands it to ``failure``), and then emits
``AppContext.sig_changed`` with what changed, so other screens refresh what they show. A ``Query``
runs in a read-only session and hands its result to ``success``.

The pattern is Anki's ``CollectionOp``/``QueryOp`` over its ``TaskManager``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QEventLoop, QObject, Signal
from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain.actors import Actor, load_actor
from ess_accompagnement.domain.changes import Changes, Created
from ess_accompagnement.domain.errors import UserFacingError

if TYPE_CHECKING:
    from ess_accompagnement.ui.context import AppContext

logger = logging.getLogger(__name__)

T = TypeVar("T")


class TaskManager(QObject):
    """One database worker thread, and a way back to the GUI thread for the results."""

    # ---- Signals

    _sig_closures_pending = Signal()
    """Closures were queued for the GUI thread (emitted from the worker, delivered queued)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ess-db")
        self._closures: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._running = 0
        self._sig_closures_pending.connect(self._run_closures)

    def run_in_background(self, task: Callable[[], T], on_done: Callable[[Future[T]], None]) -> None:
        """Run ``task`` on the worker thread, then ``on_done(future)`` on the GUI thread."""
        self._running += 1

        def done(future: Future[T]) -> None:
            self.run_on_main(lambda: self._finish(on_done, future))

        self._executor.submit(task).add_done_callback(done)

    def run_on_main(self, closure: Callable[[], None]) -> None:
        """Queue ``closure`` for the GUI thread (callable from any thread)."""
        with self._lock:
            self._closures.append(closure)
        self._sig_closures_pending.emit()

    @property
    def busy(self) -> bool:
        return self._running > 0

    def wait_idle(self, timeout_ms: int = 10_000) -> bool:
        """Process events until every submitted task has delivered its result (tests, shutdown)."""
        deadline = QDeadlineTimer(timeout_ms)
        while self._running and not deadline.hasExpired():
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        return not self._running

    def shutdown(self) -> None:
        """Finish the running task and stop the worker (pending results are dropped)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _finish(self, on_done: Callable[[Future[T]], None], future: Future[T]) -> None:
        self._running -= 1
        on_done(future)

    def _run_closures(self) -> None:
        with self._lock:
            closures, self._closures = self._closures, []
        for closure in closures:
            closure()


class _Task(Generic[T]):
    """What ``Op`` and ``Query`` share: callbacks, and dispatching the result on the GUI thread."""

    def __init__(self, parent: QWidget | None, ctx: AppContext | None = None) -> None:
        from ess_accompagnement.ui.context import app_context

        self._parent = parent
        self._ctx = ctx if ctx is not None else app_context()
        self._success: Callable[[T], Any] | None = None
        self._failure: Callable[[UserFacingError], Any] | None = None

    def success(self, callback: Callable[[T], Any]) -> _Task[T]:
        self._success = callback
        return self

    def failure(self, callback: Callable[[UserFacingError], Any]) -> _Task[T]:
        """Handle a user's mistake yourself (for example next to a field) instead of the error dialog."""
        self._failure = callback
        return self

    def _work(self) -> T:
        raise NotImplementedError

    def run(self) -> None:
        self._ctx.tasks.run_in_background(self._work, self._done)

    def _done(self, future: Future[T]) -> None:
        exc = future.exception()
        if exc is None:
            self._delivered(future.result())
        elif isinstance(exc, UserFacingError):
            logger.info("use case refused: %s (field %s)", type(exc).__name__, exc.field)
            if self._failure is not None:
                self._failure(exc)
            else:
                from ess_accompagnement.ui.errors import show_error

                show_error(self._parent, exc)
        else:
            raise exc  # a bug: reaches sys.excepthook and the crash dialog

    def _delivered(self, result: T) -> None:
        if self._success is not None:
            self._success(result)


class Op(_Task[T]):
    """A use case: ``fn(session, actor)`` in one transaction on the worker thread, then ``sig_changed``."""

    def __init__(self, parent: QWidget | None, fn: Callable[[Session, Actor], T], *,
                 ctx: AppContext | None = None) -> None:
        super().__init__(parent, ctx)
        self._fn = fn

    def _work(self) -> T:
        with self._ctx.db.transaction() as session:
            actor = load_actor(session, self._ctx.advisor_id)
            return self._fn(session, actor)

    def _delivered(self, result: T) -> None:
        changes = changes_of(result)
        self._ctx.sig_changed.emit(changes, self._parent)
        super()._delivered(result)


class Query(_Task[T]):
    """A read: ``fn(session)`` in a read-only session on the worker thread."""

    def __init__(self, parent: QWidget | None, fn: Callable[[Session], T], *, ctx: AppContext | None = None) -> None:
        super().__init__(parent, ctx)
        self._fn = fn

    def _work(self) -> T:
        with self._ctx.db.read() as session:
            return self._fn(session)


def changes_of(result: object) -> Changes:
    """What a use case's result says it changed (``Changes``, ``Created``, or everything if unknown)."""
    if isinstance(result, Changes):
        return result
    if isinstance(result, Created):
        return result.changes
    return Changes(**{name: True for name in Changes.__dataclass_fields__})
