"""Form dialogs: each validates next to its fields, keeps Save disabled while invalid, and saves through one ``Op``.

Every dialog is a ``FormDialog`` (``form.py``) with a ``sig_saved(uuid.UUID)`` signal and a typed
``value()``; open one with ``.open()`` and refresh on ``sig_saved`` (or on ``AppContext.sig_changed``).
Import the one you need from its module (``ui.dialogs.project``…): importing this package stays cheap.
"""

MODULES = ("project", "person", "appointment", "referral", "referral_answer", "phase_change", "financing", "note",
           "project_status")
"""The modules holding the dialogs (the accessibility walk imports each of them)."""
