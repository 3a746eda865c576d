"""Fixtures of the sync engine tests (helpers live in syncworld.py)."""

from tests.sync.syncworld import copies, sync_template

__all__ = ["copies", "sync_template"]
