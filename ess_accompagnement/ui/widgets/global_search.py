"""The toolbar's global search: projects, persons and structures as you type, in a popup list.

Each keystroke restarts a short timer; when it fires, ``domain.queries.search.search`` runs through a
``Query`` on the database worker (the GUI never waits), and the answer is shown only if the text has
not changed since. The popup never takes the focus: the field keeps it, and Up/Down/Enter/Escape
drive the list, as in a completer.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QFrame, QLineEdit, QListView, QWidget

from ess_accompagnement.domain.queries.search import SearchHit, search
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.models.search_model import SearchResultsModel
from ess_accompagnement.ui.ops import Query

logger = logging.getLogger(__name__)

DEBOUNCE_MS = 150
MAX_HITS = 24
POPUP_ROWS = 14
POPUP_MIN_WIDTH = 460


class GlobalSearchField(QLineEdit):
    """A search field with its results popup; emits ``sig_hit_activated`` with the chosen ``SearchHit``."""

    # ---- Signals

    sig_hit_activated = Signal(object)
    """A result was chosen (Enter or click): the ``SearchHit``."""
    sig_results_shown = Signal(int)
    """Results for the current text arrived and are shown: how many hits."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, clearButtonEnabled=True)
        self._ctx = ctx
        self._asked = 0  # sequence number of the latest query, to drop late answers
        self._open_first = False  # Enter was pressed before the results came: open the best one
        self.model = SearchResultsModel(self)
        self.popup = self._make_popup()
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._run_query)
        self.textEdited.connect(self._on_edited)
        self.setPlaceholderText(self.tr("Rechercher un projet, une personne, une structure… (Ctrl+F)"))
        self.setAccessibleName(self.tr("Recherche globale"))
        self.setMinimumWidth(300)
        self.setMaximumWidth(520)

    def _make_popup(self) -> QListView:
        """The results list: a child of the window floating over its content (never a window of its own)."""
        popup = QListView(self)
        popup.hide()
        popup.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        popup.setFrameShape(QFrame.Shape.StyledPanel)
        popup.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        popup.setUniformItemSizes(True)
        popup.setStyleSheet("QListView { padding: 2px; } QListView::item { padding: 3px 8px; }")
        popup.setAccessibleName(self.tr("Résultats de la recherche"))
        popup.setModel(self.model)
        popup.clicked.connect(self._on_clicked)
        popup.installEventFilter(self)
        return popup

    # ---- Searching

    def _on_edited(self, _text: str) -> None:
        self._open_first = False
        self._timer.start()

    def search_now(self) -> None:
        """Run the search for the current text at once (Enter before the timer fired, tests)."""
        self._timer.stop()
        self._run_query()

    def _run_query(self) -> None:
        text = self.text().strip()
        self._asked += 1
        asked = self._asked
        if not text:
            self.hide_popup()
            return
        Query(self, lambda session: search(session, text, limit=MAX_HITS), ctx=self._ctx) \
            .success(lambda hits: self._on_results(asked, hits)).run()

    def _on_results(self, asked: int, hits: list[SearchHit]) -> None:
        if asked != self._asked:
            return  # the user typed on meanwhile
        logger.debug("global search: %d hits", len(hits))
        self.model.set_hits(hits)
        open_first, self._open_first = self._open_first, False
        if hits and open_first:
            self.sig_results_shown.emit(len(hits))
            self._activate(self.model.index(self.model.first_hit_row() or 0))
            return
        if hits:
            self._show_popup()
            first = self.model.first_hit_row()
            self.popup.setCurrentIndex(self.model.index(first if first is not None else 0))
        else:
            self.hide_popup()
        self.sig_results_shown.emit(len(hits))

    # ---- Popup

    def _show_popup(self) -> None:
        window = self.window()
        if self.popup.parentWidget() is not window:
            self.popup.setParent(window)
        rows = min(self.model.rowCount(), POPUP_ROWS)
        height = self.popup.sizeHintForRow(0) * rows + 2 * self.popup.frameWidth() + 2
        width = max(self.width(), POPUP_MIN_WIDTH)
        corner = self.mapTo(window, self.rect().bottomLeft())
        x = max(0, min(corner.x(), window.width() - width - 4))
        self.popup.setGeometry(x, corner.y() + 2, width, height)
        self.popup.show()
        self.popup.raise_()

    def hide_popup(self) -> None:
        self.popup.hide()

    def _move(self, step: int) -> None:
        current = self.popup.currentIndex().row()
        start = current + step if current >= 0 else 0
        row = self.model.first_hit_row(start, step)
        if row is not None:
            self.popup.setCurrentIndex(self.model.index(row))

    def _activate(self, index: QModelIndex) -> None:
        hit = self.model.hit(index.row()) if index.isValid() else None
        if hit is None:
            return
        self.hide_popup()
        self.sig_hit_activated.emit(hit)

    def _on_clicked(self, index: QModelIndex) -> None:
        self._activate(index)

    # ---- Qt overrides

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self._timer.isActive() or not self.popup.isVisible():
                self._open_first = True
                self.search_now()
            else:
                self._activate(self.popup.currentIndex())
            return
        if self.popup.isVisible() and key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            self._move(1 if key == Qt.Key.Key_Down else -1)
            return
        if key == Qt.Key.Key_Escape and self.popup.isVisible():
            self.hide_popup()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        QTimer.singleShot(200, self._hide_unless_focused)

    def _hide_unless_focused(self) -> None:
        if not self.hasFocus():
            self.hide_popup()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.popup and event.type() == QEvent.Type.KeyPress:
            self.keyPressEvent(event)  # type: ignore[arg-type]
            return True
        return super().eventFilter(watched, event)
