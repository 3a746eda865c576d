"""Conflits : what two copies wrote concurrently and the advisor must settle, one field at a time.

The list comes from ``sync.api.list_conflicts`` (through ``ConflictsTableModel``, in a ``Query``). The
panel on the right shows every competing version « Votre version » / « Version de <conseiller>
(<structure>) – <date> », the one currently displayed marked, each with « Choisir cette version »; a
field to type another value; « Garder les deux » for texts; and, for a record deleted on one copy
while edited on another, « Garder la fiche » / « Confirmer la suppression ».

Resolving runs ``sync.api.resolve_conflict(db, id, value)`` on the database worker. That function opens
its own write transaction, so it cannot run inside an ``Op`` (whose transaction is already open on the
single writer); ``_Resolution`` does what ``Op`` does around it: rights, the error dialog, ``sig_changed``.
Conflicts are derived: once resolved, the conflict disappears from the refreshed list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from html import escape
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.errors import show_error
from ess_accompagnement.ui.models.conflicts_model import (
    DELETE,
    ConflictItem,
    ConflictsTableModel,
    VersionItem,
    field_label,
    load_conflicts,
    local_date_time,
)
from ess_accompagnement.ui.ops import Query
from ess_accompagnement.ui.widgets.actions import screen_action
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher
from ess_accompagnement.ui.widgets.tables import current_row, fit_columns, make_table

logger = logging.getLogger(__name__)

KEEP_BOTH_SEPARATOR = "\n\n— {who}, {date} —\n"

_TABLE_CHANGES = {
    "project": Changes(projects=True), "person": Changes(persons=True, projects=True),
    "project_member": Changes(persons=True, projects=True), "phase_change": Changes(phases=True, projects=True),
    "status_change": Changes(projects=True),
    "appointment": Changes(appointments=True), "next_step": Changes(appointments=True, projects=True),
    "referral": Changes(referrals=True), "financing": Changes(financing=True), "note": Changes(notes=True),
    "advisor": Changes(advisors=True),
}


def changes_for(table: str) -> Changes:
    return _TABLE_CHANGES.get(table, Changes(catalogue=True))


class ConflictsView(QWidget):
    # ---- Signals

    sig_loaded = Signal()
    """The list shows fresh data."""
    sig_resolved = Signal(str)
    """A conflict was resolved (its id); the list is being refreshed."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = ConflictsTableModel(self)
        self.items: list[ConflictItem] | None = None
        self.choose_buttons: list[QPushButton] = []
        self._build()
        self.watcher = ChangeWatcher(ctx, self, None, self.refresh, ignore_own=True)
        self.table.selectionModel().currentChanged.connect(self._on_selection)
        self.refresh()

    # ---- Building

    def _build(self) -> None:
        self.toolbar = QToolBar(self.tr("Actions sur les conflits"), self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.refresh_action = screen_action(self, "refresh", self.tr("Ac&tualiser"), QKeySequence.StandardKey.Refresh,
                                            self.refresh, self.toolbar)
        self.count_label = QLabel(self, objectName="conflict_count")
        self.count_label.setContentsMargins(12, 0, 0, 0)
        self.toolbar.addWidget(self.count_label)
        self.table = make_table(self, self.model, "conflicts_table", sort_column=0)
        self.table.setAccessibleName(self.tr("Conflits ouverts"))
        fit_columns(self.table, {0: 30, 1: 16, 2: 10, 3: 16})
        self.detail = QWidget(self, objectName="conflict_detail")
        self.detail_layout = QVBoxLayout(self.detail)
        self.detail_layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea(self, widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(self.detail)
        splitter = QSplitter(Qt.Orientation.Horizontal, self, childrenCollapsible=False)
        splitter.addWidget(self.table)
        splitter.addWidget(scroll)
        splitter.setSizes([620, 820])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)
        self._show_detail(None)

    # ---- Public API

    def selected(self) -> ConflictItem | None:
        return current_row(self.table)  # type: ignore[no-any-return]

    def refresh(self) -> None:
        advisor_id = self.ctx.advisor_id
        Query(self, lambda s: load_conflicts(s, advisor_id), ctx=self.ctx).success(self._show).run()

    def choose(self, version: VersionItem) -> None:
        """Keep one of the competing versions as it is."""
        self.resolve(version.value)

    def keep_both(self) -> None:
        """A text field: both versions one after the other, each headed by its author and date."""
        item = self.selected()
        if item is not None and item.text_field:
            self.resolve(self.both_text(item))

    def save_edited(self) -> None:
        item = self.selected()
        if item is None or not item.editable:
            return
        value = self.edit_value()
        self.resolve(value if value.strip() else None)

    def edit_value(self) -> str:
        widget = self.value_edit
        return widget.toPlainText() if isinstance(widget, QPlainTextEdit) else widget.text()  # type: ignore[union-attr]

    def keep_record(self) -> None:
        self.resolve(None)

    def confirm_delete(self) -> None:
        item = self.selected()
        if item is None:
            return
        dates = [v.value for v in item.versions if v.field == "deleted_at" and v.value is not None]
        if dates:
            self.resolve(max(dates))

    def resolve(self, value: Any) -> None:
        item = self.selected()
        if item is None:
            return
        try:
            self.ctx.actor.require_writer()
        except UserFacingError as exc:
            show_error(self, exc)
            return
        _Resolution(self, item, value, self._resolved).run()

    def both_text(self, item: ConflictItem) -> str:
        parts = []
        for version in sorted(item.versions, key=lambda v: (not v.shown, v.at)):
            head = KEEP_BOTH_SEPARATOR.format(who=self.signature(version), date=local_date_time(version.at))
            parts.append(head.lstrip("\n") + (str(version.value) if version.value is not None else ""))
        return "\n\n".join(parts)

    def signature(self, version: VersionItem) -> str:
        """Who wrote a version, as stored in a kept-both text (it travels: never « votre »)."""
        if version.author and version.structure:
            return f"{version.author} ({version.structure})"
        return version.author or version.structure or self.tr("autre copie")

    def who(self, version: VersionItem) -> str:
        if version.mine:
            return self.tr("Votre version")
        name = version.author or version.structure or self.tr("une autre copie")
        if version.author and version.structure:
            name = f"{version.author} ({version.structure})"
        return self.tr("Version de {name}").format(name=name)

    # ---- Slots

    def _resolved(self, item: ConflictItem) -> None:
        logger.info("conflict %s resolved from the desktop", item.id)
        self.ctx.sig_changed.emit(changes_for(item.table), self)
        self.sig_resolved.emit(item.id)
        self.refresh()

    def _show(self, items: list[ConflictItem]) -> None:
        previous = self.selected()
        self.items = items
        self.model.set_rows(items)
        self.count_label.setText(self.tr("%n conflit(s) ouvert(s)", "", len(items)))
        proxy = self.table.model()
        row = 0
        if previous is not None:
            source = self.model.row_of(previous.id)
            if source is not None:
                row = proxy.mapFromSource(self.model.index(source, 0)).row()  # type: ignore[attr-defined]
        if proxy.rowCount():
            self.table.setCurrentIndex(proxy.index(max(row, 0), 0))
        self._on_selection()
        self.sig_loaded.emit()

    def _on_selection(self, *_args: Any) -> None:
        self._show_detail(self.selected())

    # ---- Detail panel

    def _clear_detail(self) -> None:
        while self.detail_layout.count():
            child = self.detail_layout.takeAt(0)
            widget = child.widget()
            if widget is not None:
                widget.deleteLater()
        self.choose_buttons = []
        self._ordered: list[VersionItem] = []
        self.value_edit: QLineEdit | QPlainTextEdit | None = None
        self.keep_both_button: QPushButton | None = None
        self.save_button: QPushButton | None = None
        self.keep_record_button: QPushButton | None = None
        self.confirm_delete_button: QPushButton | None = None

    def _show_detail(self, item: ConflictItem | None) -> None:
        self._clear_detail()
        if item is None:
            empty = self.tr("Aucun conflit ouvert : toutes les copies sont d'accord.") if not self.model.rowCount() \
                else self.tr("Sélectionnez un conflit pour comparer les versions.")
            self.detail_layout.addWidget(QLabel(empty, self.detail, objectName="conflict_empty", wordWrap=True))
            return
        title = QLabel(self.tr("<h3>{record}</h3><p>{field}</p>").format(
            record=escape(item.record), field=escape(self._subtitle(item))), self.detail, objectName="conflict_title",
            wordWrap=True)
        self.detail_layout.addWidget(title)
        if item.kind == DELETE:
            self._delete_panel(item)
        else:
            self._value_panel(item)

    def _subtitle(self, item: ConflictItem) -> str:
        if item.kind == DELETE:
            return self.tr("Cette fiche a été supprimée sur une copie pendant qu'elle était modifiée sur une autre.")
        return self.tr("Champ « {field} » : plusieurs versions ont été saisies en même temps.").format(
            field=field_label(item))

    def _version_box(self, version: VersionItem, text: str) -> QGroupBox:
        title = self.who(version)
        if not version.mine:
            title = f"{title} – {local_date_time(version.at)}"
        else:
            title = f"{title} ({local_date_time(version.at)})"
        box = QGroupBox(title, self.detail)
        layout = QVBoxLayout(box)
        value = QLabel(escape(text).replace("\n", "<br>"), box, wordWrap=True, textFormat=Qt.TextFormat.RichText,
                       textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        value.setAccessibleName(title)
        layout.addWidget(value)
        if version.shown:
            shown = QLabel(self.tr("✔ Version actuellement affichée"), box, objectName="shown_marker")
            shown.setStyleSheet("color: #027A48;")
            layout.addWidget(shown)
        if version.mine:
            box.setStyleSheet("QGroupBox { font-weight: bold; }")
        return box

    def _value_panel(self, item: ConflictItem) -> None:
        ordered = sorted(item.versions, key=lambda v: (not v.mine, not v.shown, v.at))
        self._ordered = ordered
        for number, version in enumerate(ordered):
            box = self._version_box(version, version.text)
            button = self._button(self.tr("Choisir cette version"), box, self._on_choose_clicked)
            button.setProperty("version_index", number)
            button.setAccessibleName(self.tr("Choisir : {who}").format(who=self.who(version)))
            box.layout().addWidget(button, alignment=Qt.AlignmentFlag.AlignLeft)
            self.choose_buttons.append(button)
            self.detail_layout.addWidget(box)
        if item.editable:
            self._edit_box(item)

    def _edit_box(self, item: ConflictItem) -> None:
        box = QGroupBox(self.tr("Saisir une autre valeur"), self.detail)
        layout = QVBoxLayout(box)
        shown = next((v for v in item.versions if v.shown), item.versions[0])
        initial = "" if shown.value is None else str(shown.value)
        edit: QLineEdit | QPlainTextEdit
        if item.text_field:
            edit = QPlainTextEdit(initial, box, objectName="conflict_value_edit")
            edit.setFixedHeight(self.fontMetrics().height() * 8)
        else:
            edit = QLineEdit(initial, box, objectName="conflict_value_edit")
        edit.setAccessibleName(self.tr("Nouvelle valeur du champ « {field} »").format(field=field_label(item)))
        layout.addWidget(edit)
        row = QWidget(box)
        buttons = QHBoxLayout(row)
        buttons.setContentsMargins(0, 0, 0, 0)
        self.save_button = self._button(self.tr("Enregistrer cette valeur"), box, self.save_edited)
        buttons.addWidget(self.save_button)
        if item.text_field:
            self.keep_both_button = self._button(self.tr("Garder les deux"), box, self.keep_both)
            self.keep_both_button.setToolTip(self.tr("Les deux textes l'un après l'autre, chacun précédé de son "
                                                     "auteur et de sa date."))
            buttons.addWidget(self.keep_both_button)
        buttons.addStretch(1)
        layout.addWidget(row)
        self.value_edit = edit
        self.detail_layout.addWidget(box)

    def _delete_panel(self, item: ConflictItem) -> None:
        for version in sorted(item.versions, key=lambda v: v.at):
            if version.field == "deleted_at":
                text = self.tr("Fiche supprimée.")
            else:
                text = self.tr("Modifiée : {field} = {value}").format(
                    field=field_label(_as_field(item, version.field)), value=version.text)
            self.detail_layout.addWidget(self._version_box(version, text))
        row = QWidget(self.detail)
        buttons = QHBoxLayout(row)
        buttons.setContentsMargins(0, 0, 0, 0)
        self.keep_record_button = self._button(self.tr("Garder la fiche"), row, self.keep_record)
        self.confirm_delete_button = self._button(self.tr("Confirmer la suppression"), row, self.confirm_delete)
        buttons.addWidget(self.keep_record_button)
        buttons.addWidget(self.confirm_delete_button)
        buttons.addStretch(1)
        self.detail_layout.addWidget(row)

    def _button(self, text: str, parent: QWidget, slot: Callable[[], Any]) -> QPushButton:
        button = QPushButton(text, parent)
        button.setAccessibleName(text)
        button.clicked.connect(slot)
        return button

    def _on_choose_clicked(self) -> None:
        button = self.sender()
        if isinstance(button, QPushButton):
            self.choose(self._ordered[int(button.property("version_index"))])


def _as_field(item: ConflictItem, field: str) -> ConflictItem:
    from dataclasses import replace

    return replace(item, field=field)


class _Resolution:
    """``resolve_conflict`` on the worker; then, on the GUI thread, ``done(item)`` or the error dialog."""

    def __init__(self, parent: QWidget, item: ConflictItem, value: Any,
                 done: Callable[[ConflictItem], Any]) -> None:
        self._parent, self._item, self._value, self._done_cb = parent, item, value, done

    def run(self) -> None:
        from ess_accompagnement.sync.api import resolve_conflict

        ctx: AppContext = self._parent.ctx  # type: ignore[attr-defined]
        db, cid, value = ctx.db, self._item.id, self._value
        ctx.tasks.run_in_background(lambda: resolve_conflict(db, cid, value), self._finished)

    def _finished(self, future: Future[None]) -> None:
        exc = future.exception()
        if exc is None:
            self._done_cb(self._item)
        elif isinstance(exc, UserFacingError):
            logger.info("conflict resolution refused: %s", type(exc).__name__)
            show_error(self._parent, exc)
        else:
            raise exc
