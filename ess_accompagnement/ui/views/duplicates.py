"""Doublons probables : the same holder registered twice (often by two copies), offered as a merge.

The list comes from ``domain.person_merge.probable_duplicates`` (in a ``Query``); the selected pair is shown
side by side. « Fusionner en gardant A » / « … B » runs ``merge_persons`` (the other record's projects, and
with them its appointments, referrals and notes, move to the kept one; the other is soft-deleted), after a
confirmation; « Pas un doublon » runs ``mark_not_duplicate``, and the pair is not offered again.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement.domain import person_merge
from ess_accompagnement.domain.person_merge import DuplicatePair, PersonSide
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.models.duplicates_model import DuplicatesTableModel, reason_text
from ess_accompagnement.ui.ops import Op, Query
from ess_accompagnement.ui.widgets.actions import screen_action
from ess_accompagnement.ui.widgets.french import short_date
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher
from ess_accompagnement.ui.widgets.tables import current_row, fit_columns, make_table

logger = logging.getLogger(__name__)


class DuplicatesView(QWidget):
    # ---- Signals

    sig_loaded = Signal()
    """The list shows fresh data."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = DuplicatesTableModel(self)
        self.pairs: list[DuplicatePair] | None = None
        self._build()
        self.watcher = ChangeWatcher(ctx, self, ("persons", "projects"), self.refresh, ignore_own=True)
        self.table.selectionModel().currentChanged.connect(self._on_selection)
        self.refresh()

    # ---- Building

    def _build(self) -> None:
        self.toolbar = QToolBar(self.tr("Actions sur les doublons"), self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.refresh_action = screen_action(self, "refresh", self.tr("Ac&tualiser"), QKeySequence.StandardKey.Refresh,
                                            self.refresh, self.toolbar)
        self.count_label = QLabel(self, objectName="duplicate_count")
        self.count_label.setContentsMargins(12, 0, 0, 0)
        self.toolbar.addWidget(self.count_label)
        self.table = make_table(self, self.model, "duplicates_table", sort_column=2)
        self.table.setAccessibleName(self.tr("Doublons probables"))
        fit_columns(self.table, {0: 44, 1: 44, 2: 34, 3: 12})
        self.reason = QLabel(self, objectName="duplicate_reason", wordWrap=True)
        self.reason.setContentsMargins(8, 8, 8, 0)
        self.side_a, self.label_a, self.keep_a = self._side("a")
        self.side_b, self.label_b, self.keep_b = self._side("b")
        self.keep_a.clicked.connect(self.merge_keep_a)
        self.keep_b.clicked.connect(self.merge_keep_b)
        self.distinct_button = QPushButton(self.tr("Pas un doublon"), self, objectName="distinct_button")
        self.distinct_button.setAccessibleName(self.tr("Pas un doublon : ne plus proposer cette paire"))
        self.distinct_button.clicked.connect(self.mark_distinct)
        sides = QHBoxLayout()
        sides.addWidget(self.side_a)
        sides.addWidget(self.side_b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.reason)
        layout.addLayout(sides)
        layout.addWidget(self.distinct_button, alignment=Qt.AlignmentFlag.AlignLeft)

    def _side(self, name: str) -> tuple[QGroupBox, QLabel, QPushButton]:
        box = QGroupBox(self, objectName=f"side_{name}")
        layout = QVBoxLayout(box)
        text = QLabel(box, wordWrap=True, textFormat=Qt.TextFormat.RichText, objectName=f"side_{name}_text",
                      textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setAlignment(Qt.AlignmentFlag.AlignTop)
        button = QPushButton(self.tr("Fusionner en gardant cette fiche"), box, objectName=f"keep_{name}")
        layout.addWidget(text, 1)
        layout.addWidget(button, alignment=Qt.AlignmentFlag.AlignLeft)
        return box, text, button

    # ---- Public API

    def selected(self) -> DuplicatePair | None:
        return current_row(self.table)  # type: ignore[no-any-return]

    def refresh(self) -> None:
        actor = self.ctx.actor
        Query(self, lambda s: person_merge.probable_duplicates(s, actor), ctx=self.ctx).success(self._show).run()

    def merge_keep_a(self) -> None:
        pair = self.selected()
        if pair is not None:
            self.merge(pair.a, pair.b)

    def merge_keep_b(self) -> None:
        pair = self.selected()
        if pair is not None:
            self.merge(pair.b, pair.a)

    def merge(self, keep: PersonSide, merged: PersonSide) -> None:
        answer = QMessageBox.question(self, self.tr("Fusionner deux fiches"), self.tr(
            "Garder la fiche de {keep} et y rattacher les projets (rendez-vous, orientations, notes) de l'autre "
            "fiche, qui sera supprimée ?").format(keep=keep.name))
        if answer != QMessageBox.StandardButton.Yes:
            return
        keep_id, merged_id = keep.id, merged.id
        Op(self, lambda s, actor: person_merge.merge_persons(s, actor, keep_id, merged_id), ctx=self.ctx) \
            .success(lambda _changes: self.refresh()).run()

    def mark_distinct(self) -> None:
        pair = self.selected()
        if pair is None:
            return
        a_id, b_id = pair.a.id, pair.b.id
        Op(self, lambda s, actor: person_merge.mark_not_duplicate(s, actor, a_id, b_id), ctx=self.ctx) \
            .success(lambda _changes: self.refresh()).run()

    # ---- Slots

    def _show(self, pairs: list[DuplicatePair]) -> None:
        self.pairs = pairs
        self.model.set_rows(pairs)
        self.count_label.setText(self.tr("%n paire(s) à examiner", "", len(pairs)))
        if self.table.model().rowCount():
            self.table.setCurrentIndex(self.table.model().index(0, 0))
        self._on_selection()
        self.sig_loaded.emit()

    def _on_selection(self, *_args: Any) -> None:
        pair = self.selected()
        for widget in (self.keep_a, self.keep_b, self.distinct_button):
            widget.setEnabled(pair is not None)
        if pair is None:
            self.reason.setText(self.tr("Aucun doublon probable parmi les personnes de votre structure.")
                                if not self.model.rowCount() else self.tr("Sélectionnez une paire."))
            for box, label in ((self.side_a, self.label_a), (self.side_b, self.label_b)):
                box.setTitle("")
                label.clear()
            return
        self.reason.setText(self.tr("<b>Pourquoi :</b> {reason} (ressemblance {score:.0f} %)").format(
            reason=escape(reason_text(pair)), score=pair.score))
        for box, label, button, side in ((self.side_a, self.label_a, self.keep_a, pair.a),
                                          (self.side_b, self.label_b, self.keep_b, pair.b)):
            box.setTitle(side.name)
            label.setText(self._side_html(side))
            button.setAccessibleName(self.tr("Fusionner en gardant la fiche de {name}").format(name=side.name))

    def _side_html(self, side: PersonSide) -> str:
        empty = self.tr("—")
        rows = [
            (self.tr("E-mail"), side.email or empty),
            (self.tr("Téléphone"), side.phone or empty),
            (self.tr("Commune"), side.commune or empty),
            (self.tr("Année de naissance"), str(side.birth_year) if side.birth_year else empty),
            (self.tr("Fiche créée le"), short_date(side.created_at.date())),
            (self.tr("Projets"), ", ".join(side.projects) or empty),
        ]
        return "<table>" + "".join(f"<tr><td><b>{escape(k)}</b>&nbsp;</td><td>{escape(v)}</td></tr>"
                                   for k, v in rows) + "</table>"
