"""Form dialogs: each validates next to its fields, keeps Save disabled while invalid, and saves through one ``Op``."""
