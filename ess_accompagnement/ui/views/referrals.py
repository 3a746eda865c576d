"""Orientations: what waits for my structure's answer, everything received, and everything sent.

Three tables over two models fed by ``domain.queries.referrals.referral_rows`` (inbox, outbox), read
in one ``Query``. Unanswered referrals close to their expiry (and not reminded in the last few days) are
highlighted. « Relancer » records the reminder (``domain.referrals.record_reminder``, through ``Op``), then
copies the French reminder e-mail (``domain.queries.referrals.reminder_text``) to the clipboard.
Double-click or Enter opens the project (``sig_open_project``); « Répondre » opens the answer dialog.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from html import escape
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QSizePolicy,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ess_accompagnement.domain import referrals
from ess_accompagnement.domain.codes import ReferralStatus
from ess_accompagnement.domain.entities import Advisor, Structure
from ess_accompagnement.domain.queries.referrals import Box, ReferralRow, referral_rows, reminder_text
from ess_accompagnement.domain.referrals import RECEIVER_TRANSITIONS
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.models.referrals_model import InboxTableModel, OutboxTableModel, status_text, target_text
from ess_accompagnement.ui.ops import Op, Query
from ess_accompagnement.ui.widgets.actions import screen_action
from ess_accompagnement.ui.widgets.dialog_launcher import DialogFactory, launch, load_dialog
from ess_accompagnement.ui.widgets.french import long_date, short_date
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher
from ess_accompagnement.ui.widgets.tables import current_row, fit_columns, make_table, proxy_of

logger = logging.getLogger(__name__)

AWAITING = "awaiting"


@dataclass(frozen=True)
class ReferralLists:
    inbox: list[ReferralRow]
    outbox: list[ReferralRow]
    advisor: str
    structure: str


def load_lists(session: Session, advisor_id: uuid.UUID, structure_id: uuid.UUID, today: Any) -> ReferralLists:
    advisor = session.get(Advisor, advisor_id)
    structure = session.get(Structure, structure_id)
    return ReferralLists(
        inbox=referral_rows(session, structure_id, box=Box.INBOX, today=today),
        outbox=referral_rows(session, structure_id, box=Box.OUTBOX, today=today),
        advisor=advisor.name if advisor else "", structure=structure.name if structure else "",
    )


class ReferralsView(QWidget):
    # ---- Signals

    sig_open_project = Signal(object)
    """Ask the window to open a project (its ``uuid.UUID``)."""
    sig_loaded = Signal()
    """The lists show fresh data."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dialog_factory: DialogFactory = load_dialog
        self.lists: ReferralLists | None = None
        self.inbox_model, self.outbox_model = InboxTableModel(self), OutboxTableModel(self)
        self._build()
        self._make_actions()
        self._connect()
        self.refresh()

    # ---- Building

    def _build(self) -> None:
        self.toolbar = QToolBar(self.tr("Actions sur les orientations"), self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.status_filter = QComboBox(self, objectName="status_filter")
        self.status_filter.addItem(self.tr("Tous les statuts"), None)
        for status in ReferralStatus:
            self.status_filter.addItem(capitalised(status), status)
        self.status_filter.setAccessibleName(self.tr("Filtrer par statut"))
        self.waiting_table = make_table(self, self.inbox_model, "waiting_table", sort_column=5, descending=True)
        self.inbox_table = make_table(self, self.inbox_model, "inbox_table", sort_column=4, descending=True)
        self.outbox_table = make_table(self, self.outbox_model, "outbox_table", sort_column=3, descending=True)
        for table, name in ((self.waiting_table, self.tr("Orientations en attente de notre réponse")),
                            (self.inbox_table, self.tr("Orientations reçues")),
                            (self.outbox_table, self.tr("Orientations envoyées"))):
            table.setAccessibleName(name)
        fit_columns(self.waiting_table, {0: 30, 1: 26, 2: 30, 3: 22, 4: 11, 5: 7, 6: 17})
        fit_columns(self.inbox_table, {0: 30, 1: 26, 2: 30, 3: 22, 4: 11, 5: 7, 6: 17})
        fit_columns(self.outbox_table, {0: 30, 1: 34, 2: 26, 3: 11, 4: 7, 5: 17, 6: 11, 7: 15})
        self.tabs = QTabWidget(self, objectName="referral_tabs", documentMode=True)
        for table in (self.waiting_table, self.inbox_table, self.outbox_table):
            self.tabs.addTab(table, "")
        self.detail = QLabel(self, objectName="referral_detail", wordWrap=True,
                             textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setStyleSheet("QLabel { background: #F5F7FA; border-top: 1px solid #D0D5DD; padding: 8px; }")
        self.detail.setMinimumHeight(self.fontMetrics().height() * 4)
        self.message = QLabel(self, objectName="referral_message")
        self.message.setStyleSheet("color: #027A48; padding: 2px 8px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.message)
        self._set_tab_titles()

    def _make_actions(self) -> None:
        self.answer_action = self._action("answer", self.tr("&Répondre…"), "Ctrl+Shift+P", self.answer)
        self.remind_action = self._action("remind", self.tr("Re&lancer"), "Ctrl+Shift+M", self.remind)
        self.open_action = self._action("open", self.tr("&Ouvrir le projet"), "Ctrl+O", self.open_project)
        self.refresh_action = self._action("refresh", self.tr("Ac&tualiser"), QKeySequence.StandardKey.Refresh,
                                           self.refresh)
        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.toolbar.addWidget(spacer)
        label = QLabel(self.tr("&Statut :"), self)
        label.setBuddy(self.status_filter)
        self.toolbar.addWidget(label)
        self.toolbar.addWidget(self.status_filter)

    def _action(self, name: str, text: str, keys: Any, slot: Any) -> QAction:
        return screen_action(self, name, text, keys, slot, self.toolbar)

    def _connect(self) -> None:
        self.watcher = ChangeWatcher(self.ctx, self, ("referrals", "projects"), self.refresh)
        self.status_filter.currentIndexChanged.connect(self._apply_filters)
        self.tabs.currentChanged.connect(self._on_selection)
        for table in self.tables:
            table.doubleClicked.connect(self._on_activated)
            table.activated.connect(self._on_activated)
            table.selectionModel().currentChanged.connect(self._on_selection)
        self._apply_filters()

    # ---- Public API

    @property
    def tables(self) -> tuple[QTableView, ...]:
        return (self.waiting_table, self.inbox_table, self.outbox_table)

    @property
    def current_table(self) -> QTableView:
        return self.tables[self.tabs.currentIndex()]

    def selected(self) -> ReferralRow | None:
        return current_row(self.current_table)  # type: ignore[no-any-return]

    def refresh(self) -> None:
        ctx = self.ctx
        advisor_id, structure_id, today = ctx.advisor_id, ctx.structure_id, ctx.today
        Query(self, lambda s: load_lists(s, advisor_id, structure_id, today), ctx=ctx).success(self._show).run()

    def answer(self) -> None:
        row = self.selected()
        if row is not None and row.incoming and row.status in RECEIVER_TRANSITIONS:
            launch(self.dialog_factory, "referral_answer", self.ctx, row.id, parent=self)

    def remind(self) -> None:
        """Record a reminder for the selected unanswered referral we sent, then copy its French e-mail."""
        row = self.selected()
        if row is None or row.incoming or not row.awaiting_answer:
            return
        text, referral_id, today = self.reminder_text(row), row.id, self.ctx.today
        Op(self, lambda s, actor: referrals.record_reminder(s, actor, referral_id, today=today), ctx=self.ctx) \
            .success(lambda _changes: self._reminded(text, today, referral_id)).run()

    def reminder_text(self, row: ReferralRow) -> str:
        lists = self.lists
        return reminder_text(row, advisor=lists.advisor if lists else "",
                             structure=lists.structure if lists else row.from_structure)

    def open_project(self) -> None:
        row = self.selected()
        if row is not None:
            self.sig_open_project.emit(row.project_id)

    # ---- Slots

    def _reminded(self, text: str, today: Any, referral_id: uuid.UUID) -> None:
        QGuiApplication.clipboard().setText(text)
        self.message.setText(self.tr("Relance enregistrée le {date} ; texte copié dans le presse-papiers : "
                                     "collez-le dans votre messagerie (Ctrl+V).").format(date=short_date(today)))
        logger.info("reminder recorded and copied for referral %s", referral_id.hex[:8])

    def _show(self, lists: ReferralLists) -> None:
        first_load = self.lists is None
        message = self.message.text()  # a refresh keeps the last confirmation (« Relance enregistrée… »)
        self.lists = lists
        self.inbox_model.set_rows(lists.inbox)
        self.outbox_model.set_rows(lists.outbox)
        self._set_tab_titles()
        for table in self.tables:
            if not table.currentIndex().isValid() and table.model().rowCount():
                table.setCurrentIndex(table.model().index(0, 0))
        if first_load:
            self._open_first_tab_with_rows()
        self._on_selection()
        self.message.setText(message)
        self.sig_loaded.emit()

    def _open_first_tab_with_rows(self) -> None:
        """On opening, nothing to answer: show what was received or sent rather than an empty table."""
        for index, table in enumerate(self.tables):
            if table.model().rowCount():
                self.tabs.setCurrentIndex(index)
                return

    def _set_tab_titles(self) -> None:
        counts = [proxy_of(table).rowCount() for table in self.tables]
        titles = (self.tr("À &traiter"), self.tr("Re&çues"), self.tr("&Envoyées"))
        for index, (title, count) in enumerate(zip(titles, counts, strict=True)):
            self.tabs.setTabText(index, f"{title} ({count})")

    def _apply_filters(self) -> None:
        status = self.status_filter.currentData()

        def by_status(row: ReferralRow) -> bool:
            return status is None or row.status == status

        proxy_of(self.waiting_table).set_accepts(lambda row: row.awaiting_answer and by_status(row))
        proxy_of(self.inbox_table).set_accepts(by_status)
        proxy_of(self.outbox_table).set_accepts(by_status)
        self._set_tab_titles()
        self._on_selection()

    def _on_activated(self, _index: QModelIndex) -> None:
        self.open_project()

    def _on_selection(self, *_args: Any) -> None:
        row = self.selected()
        self.answer_action.setEnabled(row is not None and row.incoming and row.status in RECEIVER_TRANSITIONS)
        self.remind_action.setEnabled(row is not None and not row.incoming and row.awaiting_answer)
        self.open_action.setEnabled(row is not None)
        self.detail.setText(self._detail_text(row) if row is not None else self.tr(
            "Sélectionnez une orientation pour voir son motif et sa réponse."))
        self.message.clear()

    def _detail_text(self, row: ReferralRow) -> str:
        lines = [self.tr("<b>{title}</b> – {source} → {target} · {status}").format(
            title=escape(row.project_title), source=escape(row.from_structure), target=escape(target_text(row)),
            status=escape(status_text(row)))]
        lines.append(self.tr("<b>Motif :</b> {motive}").format(motive=escape(row.motive)))
        if row.comment:
            lines.append(self.tr("<b>Commentaire :</b> {comment}").format(comment=escape(row.comment)))
        if row.reminded_on is not None:
            lines.append(self.tr("Relancée %n fois, la dernière le {date}.", "", row.reminder_count).format(
                date=long_date(row.reminded_on)))
        if row.awaiting_answer and row.expires_on is not None:
            lines.append(self.tr("Sans réponse, elle expire le {date} (dans {days} jour(s)).").format(
                date=long_date(row.expires_on), days=row.days_left))
        return "<br>".join(lines)
