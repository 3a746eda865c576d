"""The UI's wording of coded domain values (phases, statuses, modes…), through Qt's translation.

The domain keeps one French label per code (``domain/codes.py``) for the CLI and the PDFs; the
desktop shows the same words through ``QCoreApplication.translate("labels", …)`` so a translation
file can change them without touching the domain.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from ess_accompagnement.domain.codes import Coded


def label(value: Coded | None, *, empty: str = "") -> str:
    """The translated label of a coded value (``empty`` for None)."""
    if value is None:
        return empty
    return QCoreApplication.translate("labels", value.label)


def capitalised(value: Coded | None, *, empty: str = "") -> str:
    """The label with a capital first letter, for headers and lone cells (« Émergence »)."""
    text = label(value, empty=empty)
    return text[:1].upper() + text[1:]
