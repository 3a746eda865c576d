"""What every screen needs: the database, the acting advisor, today's date, the worker, and the change signal.

One ``AppContext`` exists per open database; screens receive it in their constructor (or get it
with ``app_context()``) instead of reaching for globals. ``sig_changed(changes, initiator)`` is
emitted after every successful ``Op``; a screen refreshes only when the flags it shows are set::

    ctx.sig_changed.connect(self._on_changed)

    def _on_changed(self, changes: Changes, initiator: object) -> None:
        if changes.appointments or changes.referrals:
            self.refresh()
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ess_accompagnement.domain import advisors
from ess_accompagnement.domain.actors import Actor, load_actor
from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.store.db import Database
from ess_accompagnement.ui.ops import TaskManager

logger = logging.getLogger(__name__)

_current: AppContext | None = None


class AppContext(QObject):
    """The open database and who is working on it."""

    # ---- Signals

    sig_changed = Signal(object, object)
    """A use case changed data: (``Changes``, the widget that ran it or None)."""

    def __init__(self, db: Database, advisor_id: uuid.UUID, *,
                 today: Callable[[], dt.date] = dt.date.today, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.advisor_id = advisor_id
        self._today = today
        self.tasks = TaskManager(self)
        with db.read() as session:
            self.actor: Actor = load_actor(session, advisor_id)
        make_current(self)

    @property
    def today(self) -> dt.date:
        return self._today()

    @property
    def structure_id(self) -> uuid.UUID:
        return self.actor.structure_id

    def close(self) -> None:
        """Finish database work; the caller closes the database afterwards."""
        self.tasks.shutdown()
        if _current is self:
            make_current(None)


def for_owner(db: Database, *, today: Callable[[], dt.date] = dt.date.today,
              parent: QObject | None = None) -> AppContext:
    """The context of the advisor who owns this copy of the database."""
    with db.read() as session:
        owner = advisors.owner_id(session)
    if owner is None:
        raise RuleError("Cette base n'a pas de conseiller propriétaire : créez-le avec « ess-acc init ».")
    return AppContext(db, owner, today=today, parent=parent)


def make_current(ctx: AppContext | None) -> None:
    global _current  # noqa: PLW0603 - one open database per process, like Anki's mw.col
    _current = ctx


def app_context() -> AppContext:
    if _current is None:
        raise RuntimeError("no AppContext: open a database first")
    return _current
