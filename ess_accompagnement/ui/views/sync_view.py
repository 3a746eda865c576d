"""Synchronisation : this copy's identity, what each colleague has received, the last files in and out,
and the two actions « Exporter pour un collègue… » / « Importer un fichier… » (``sync/exchange.py``).

Everything touching the database or the files runs on the database worker (``LongTask``, with a progress
dialog); the window stays responsive. An import is inspected first (nothing written) and its preview —
new, already known, waiting, expected conflicts, refused — is confirmed before ``import_bundle`` applies it;
then a receipt file can be written for the colleague. Errors (``BundleError`` and other ``UserFacingError``)
go through ``show_error``. ``sig_show_view("conflits")`` asks the window to open the conflicts view.
"""

from __future__ import annotations

import datetime as dt
import logging
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement.domain.changes import Changes
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.ops import Query
from ess_accompagnement.ui.widgets.actions import screen_action
from ess_accompagnement.ui.widgets.french import date_time, number
from ess_accompagnement.ui.widgets.long_task import LongTask
from ess_accompagnement.ui.widgets.refresh import ChangeWatcher

logger = logging.getLogger(__name__)

ALL = "all"
SINCE = "since"
BUNDLE_FILTER = "Fichiers de synchronisation (*.esssync);;Tous les fichiers (*)"


def _exchange() -> Any:
    from ess_accompagnement.sync import exchange

    return exchange


class ExportChoiceDialog(QDialog):
    """Who the file is for: a known colleague (what they lack), everything in my scope, or since a date."""

    def __init__(self, peers: list[tuple[str, str]], today: dt.date, parent: QWidget | None = None) -> None:
        super().__init__(parent, windowTitle=self.tr("Exporter pour un collègue"))
        self.target = QComboBox(self, objectName="export_target")
        self.target.setAccessibleName(self.tr("Destinataire du fichier"))
        for site, label in peers:
            self.target.addItem(label, site)
        self.target.addItem(self.tr("Tout mon périmètre"), ALL)
        self.target.addItem(self.tr("Depuis une date…"), SINCE)
        self.since = QDateEdit(QDate(today.year, today.month, 1), self, objectName="export_since", calendarPopup=True)
        self.since.setAccessibleName(self.tr("Exporter les changements depuis le"))
        self.target.currentIndexChanged.connect(self._on_target)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Choisir le fichier…"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(self.tr("&Pour :"), self.target)
        form.addRow(self.tr("&Depuis le :"), self.since)
        form.addRow(buttons)
        self._on_target()

    def _on_target(self) -> None:
        self.since.setEnabled(self.target.currentData() == SINCE)

    def value(self) -> dict[str, Any]:
        """Keyword arguments of ``export_bundle``: ``for_site``, ``since`` or ``everything``."""
        target = self.target.currentData()
        if target == ALL:
            return {"everything": True}
        if target == SINCE:
            return {"since": self.since.date().toPython()}
        return {"for_site": target}


class SyncView(QWidget):
    # ---- Signals

    sig_loaded = Signal()
    """The status shows fresh data."""
    sig_show_view = Signal(str)
    """Ask the window to show another view (its registry key, e.g. ``"conflits"``)."""
    sig_imported = Signal(object)
    """An import finished (its ``ImportReport``)."""
    sig_exported = Signal(object)
    """An export finished (its ``ExportReport``)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.status: Any = None
        self._build()
        self.watcher = ChangeWatcher(ctx, self, None, self.refresh, ignore_own=True)
        self.refresh()

    @property
    def keys(self) -> Any:
        return _exchange().keystore_for(self.ctx.db.path)

    # ---- Building

    def _build(self) -> None:
        self.toolbar = QToolBar(self.tr("Actions de synchronisation"), self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.export_action = self._action("export", self.tr("&Exporter pour un collègue…"), "Ctrl+Shift+E",
                                          self.export)
        self.import_action = self._action("import", self.tr("&Importer un fichier…"), "Ctrl+Shift+I", self.import_)
        self.refresh_action = self._action("refresh", self.tr("Ac&tualiser"), QKeySequence.StandardKey.Refresh,
                                           self.refresh)
        self.identity = QLabel(self, objectName="sync_identity", wordWrap=True,
                               textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.identity.setAccessibleName(self.tr("Identité de cette copie"))
        self.conflicts_label = QLabel(self, objectName="sync_conflicts")
        self.conflicts_button = QPushButton(self.tr("Voir les &conflits"), self, objectName="show_conflicts")
        self.conflicts_button.clicked.connect(self._show_conflicts)
        self.peers = self._text("sync_peers", self.tr("Ce que chaque collègue a reçu"))
        self.ledger = self._text("sync_ledger", self.tr("Derniers fichiers reçus et envoyés"))
        identity_box = QGroupBox(self.tr("Cette copie"), self)
        box_layout = QVBoxLayout(identity_box)
        box_layout.addWidget(self.identity)
        conflicts_row = QHBoxLayout()
        conflicts_row.addWidget(self.conflicts_label)
        conflicts_row.addWidget(self.conflicts_button)
        conflicts_row.addStretch(1)
        box_layout.addLayout(conflicts_row)
        columns = QHBoxLayout()
        for title, widget in ((self.tr("Collègues"), self.peers), (self.tr("Fichiers"), self.ledger)):
            box = QGroupBox(title, self)
            QVBoxLayout(box).addWidget(widget)
            columns.addWidget(box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        inner = QVBoxLayout()
        inner.setContentsMargins(8, 8, 8, 8)
        inner.addWidget(identity_box)
        inner.addLayout(columns, 1)
        layout.addLayout(inner, 1)

    def _text(self, name: str, accessible: str) -> QPlainTextEdit:
        widget = QPlainTextEdit(self, objectName=name, readOnly=True)
        widget.setAccessibleName(accessible)
        return widget

    def _action(self, name: str, text: str, keys: Any, slot: Any) -> QAction:
        return screen_action(self, name, text, keys, slot, self.toolbar)

    # ---- Public API

    def refresh(self) -> None:
        db, keys = self.ctx.db, self.keys
        Query(self, lambda _s: _exchange().status(db, keys), ctx=self.ctx).success(self._show).run()

    def ask_export_choice(self) -> dict[str, Any] | None:
        peers = [(p.site, self.tr("Collègue {site} (ce qui lui manque)").format(site=p.site[:8]))
                 for p in (self.status.peers if self.status else [])]
        dialog = ExportChoiceDialog(peers, self.ctx.today, self)
        return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def export(self) -> None:
        choice = self.ask_export_choice()
        if choice is None:
            return
        name = f"ess-{self.ctx.today.isoformat()}.esssync"
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Enregistrer le fichier de synchronisation"), name,
                                              self.tr(BUNDLE_FILTER))
        if path:
            self.export_to(Path(path), choice)

    def export_to(self, path: Path, choice: dict[str, Any]) -> None:
        db, keys = self.ctx.db, self.keys
        LongTask(self.ctx, self, self.tr("Export en cours…"),
                 lambda progress, _cancelled: _exchange().export_bundle(db, keys, path, progress=progress, **choice)
                 ).success(self._exported).run()

    def import_(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Importer un fichier de synchronisation"), "",
                                              self.tr(BUNDLE_FILTER))
        if path:
            self.inspect(Path(path))

    def inspect(self, path: Path) -> None:
        db, keys = self.ctx.db, self.keys
        LongTask(self.ctx, self, self.tr("Vérification du fichier…"),
                 lambda _progress, _cancelled: _exchange().inspect_bundle(db, keys, path)
                 ).success(self._previewed).run()

    def confirm_import(self, preview: Any) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Importer ce fichier ?"), self.preview_text(preview),
                          QMessageBox.StandardButton.Cancel, self)
        go = box.addButton(self.tr("Importer"), QMessageBox.ButtonRole.AcceptRole)
        box.exec()
        return box.clickedButton() is go

    def preview_text(self, preview: Any) -> str:
        if preview.already_imported:
            return self.tr("Ce fichier a déjà été importé : l'importer à nouveau ne changera rien.")
        lines = [self.tr("Fichier de la copie {site} (appareil {fp}), créé le {created}.").format(
            site=preview.source_site[:8], fp=preview.device_fingerprint, created=preview.created_utc)]
        if preview.new_device:
            lines.append(self.tr("⚠ Premier fichier reçu de cet appareil : vérifiez son empreinte avec votre collègue."))
        lines += [
            self.tr("Nouveaux changements : {n}").format(n=number(preview.new)),
            self.tr("Déjà connus : {n}").format(n=number(preview.known)),
            self.tr("En attente d'autres fichiers : {n}").format(n=number(preview.waiting)),
            self.tr("Conflits attendus : {n}").format(n=number(len(preview.expected_conflicts))),
            self.tr("Refusés : {n}").format(n=number(preview.refused_changes + preview.rejected)),
        ]
        if preview.needs_update:
            lines.append(self.tr("⚠ {n} changement(s) viennent d'une version plus récente de l'application : ils "
                                 "seront appliqués quand vous l'aurez mise à jour.").format(n=number(preview.needs_update)))
        return "\n".join(lines)

    def import_confirmed(self, path: Path) -> None:
        db, keys = self.ctx.db, self.keys
        LongTask(self.ctx, self, self.tr("Import en cours…"),
                 lambda progress, _cancelled: _exchange().import_bundle(db, keys, path, progress=progress)
                 ).success(self._imported).run()

    def offer_receipt(self) -> None:
        answer = QMessageBox.question(self, self.tr("Accusé de réception"), self.tr(
            "Créer un accusé de réception pour votre collègue ? Son prochain export ne contiendra que ce qui vous "
            "manque."))
        if answer != QMessageBox.StandardButton.Yes:
            return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Créer un accusé de réception…"),
                                              f"accuse-{self.ctx.today.isoformat()}.esssync", self.tr(BUNDLE_FILTER))
        if path:
            db, keys, out = self.ctx.db, self.keys, Path(path)
            LongTask(self.ctx, self, self.tr("Écriture de l'accusé de réception…"),
                     lambda _p, _c: _exchange().write_receipt_bundle(db, keys, out)).success(
                lambda _path: self.refresh()).run()

    # ---- Slots

    def _show_conflicts(self) -> None:
        self.sig_show_view.emit("conflits")

    def _exported(self, report: Any) -> None:
        logger.info("bundle %s exported (%d transactions)", report.bundle_id, report.transactions)
        self.sig_exported.emit(report)
        self.refresh()

    def _previewed(self, preview: Any) -> None:
        if self.confirm_import(preview):
            self.import_confirmed(preview.path)

    def _imported(self, report: Any) -> None:
        logger.info("bundle %s imported (%d applied)", report.bundle_id, report.applied)
        self.ctx.sig_changed.emit(Changes(**{name: True for name in Changes.__dataclass_fields__}), self)
        self.refresh()
        self.sig_imported.emit(report)
        if report.kind != "receipt":
            self.offer_receipt()

    def _show(self, status: Any) -> None:
        self.status = status
        self.identity.setText(self._identity_html(status))
        conflicts = self.tr("%n conflit(s) ouvert(s)", "", status.open_conflicts)
        if status.awaiting_update:
            conflicts += " — " + self.tr("%n changement(s) attendent une mise à jour de l'application", "",
                                         status.awaiting_update)
        self.conflicts_label.setText(conflicts)
        self.conflicts_button.setEnabled(status.open_conflicts > 0)
        self.peers.setPlainText("\n".join(self._peer_line(p) for p in status.peers)
                                or self.tr("Aucun collègue connu : aucun accusé de réception reçu."))
        entries = [(self.tr("Reçu"), e) for e in status.last_in] + [(self.tr("Envoyé"), e) for e in status.last_out]
        entries.sort(key=lambda pair: pair[1].at or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
        self.ledger.setPlainText("\n".join(self._entry_line(d, e) for d, e in entries)
                                 or self.tr("Aucun fichier reçu ni envoyé."))
        self.sig_loaded.emit()

    def _identity_html(self, status: Any) -> str:
        rows = [
            (self.tr("Identifiant de copie"), status.site_id),
            (self.tr("Époque"), str(status.epoch)),
            (self.tr("Structure"), status.structure_name or self.tr("non liée")),
            (self.tr("Empreinte de l'appareil"), status.device_fingerprint),
            (self.tr("Clé de réseau"), self.tr("installée ({id})").format(id=status.network_key_id)
             if status.network_key_present else self.tr("absente : les échanges sont impossibles")),
        ]
        return "<table>" + "".join(f"<tr><td><b>{escape(k)}</b>&nbsp;&nbsp;</td><td>{escape(v)}</td></tr>"
                                   for k, v in rows) + "</table>"

    def _peer_line(self, peer: Any) -> str:
        total = sum(seq for sites in peer.received.values() for seq in sites.values())
        seen = date_time(peer.last_seen.astimezone()) if peer.last_seen else "—"
        return self.tr("Copie {site} : {n} transaction(s) reçues, dernier accusé {seen}").format(
            site=peer.site[:8], n=number(total), seen=seen)

    def _entry_line(self, direction: str, entry: Any) -> str:
        at = date_time(entry.at.astimezone()) if entry.at else "—"
        result = entry.result or {}
        count = result.get("transactions", result.get("applied", ""))
        return f"{at}  {direction}  {entry.bundle_id[:8]}  {count}"
