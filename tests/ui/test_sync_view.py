"""Synchronisation view: identity shown; export on one copy then import on another, through the view."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from ess_accompagnement.domain.advisors import add_advisor, set_owner
from ess_accompagnement.sync import exchange
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.views.sync_view import SyncView
from tests.sync.syncworld import A, Copies, copies, new_project, row, sync_template, transfer
from tests.ui.conftest import DEMO_TODAY

__all__ = ["copies", "sync_template"]


def open_view(qtbot: QtBot, ctx: AppContext) -> SyncView:
    view = SyncView(ctx)
    qtbot.addWidget(view)
    view.resize(1440, 900)
    qtbot.waitUntil(lambda: view.status is not None, timeout=5000)
    return view


def test_export_then_import(qtbot: QtBot, copies: Copies, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN two copies of structure A sharing a network key, each owned by an advisor
    a, b = copies.new("a"), copies.new("b")
    with a.transaction() as session:
        advisor = add_advisor(session, None, name="Camille Martin", structure_id=uuid.UUID(A)).id
        set_owner(session, advisor)
    transfer(a, b)
    with b.transaction() as session:
        set_owner(session, advisor)
    exchange.set_network_key(exchange.keystore_for(b.path), exchange.init_network_key(exchange.keystore_for(a.path)))
    pid = new_project(a, "Épicerie « La Cagette »")
    out = tmp_path / "pour-b.esssync"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(out), ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(out), ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.No)
    ctx_a = AppContext(a, advisor, today=lambda: DEMO_TODAY)
    try:
        view_a = open_view(qtbot, ctx_a)
        # THEN this copy's identity is shown
        assert view_a.status.site_id in view_a.identity.text()
        assert "installée" in view_a.identity.text() and "URSCOP" in view_a.identity.text()
        # WHEN « Exporter pour un collègue… » is chosen with « tout mon périmètre »
        monkeypatch.setattr(SyncView, "ask_export_choice", lambda _self: {"everything": True})
        with qtbot.waitSignal(view_a.sig_exported, timeout=10000):
            view_a.export_action.trigger()
        assert out.exists()
        ctx_a.tasks.wait_idle()
    finally:
        ctx_a.close()
    ctx_b = AppContext(b, advisor, today=lambda: DEMO_TODAY)
    try:
        view_b = open_view(qtbot, ctx_b)
        previews = []
        monkeypatch.setattr(SyncView, "confirm_import", lambda _self, p: previews.append(p) or True)
        # WHEN the file is imported on b
        with qtbot.waitSignal(view_b.sig_imported, timeout=10000) as blocker:
            view_b.import_action.trigger()
        # THEN the preview announced it and the project arrived
        assert previews[0].new >= 1 and not previews[0].already_imported
        assert "Nouveaux changements" in view_b.preview_text(previews[0])
        assert blocker.args[0].applied >= 1
        assert row(b, pid)["title"] == "Épicerie « La Cagette »"
        qtbot.waitUntil(lambda: "Reçu" in view_b.ledger.toPlainText(), timeout=5000)
        ctx_b.tasks.wait_idle()
    finally:
        ctx_b.close()
