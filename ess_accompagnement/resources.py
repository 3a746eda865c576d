"""Where the shipped resources are (reference catalogue, communes, fonts, translations).

In a checkout (and an editable install) they are the repository's ``resources/`` folder; a built wheel
carries the same files as the data package ``ess_accompagnement._shipped`` (pyproject.toml maps the folder
there), because a wheel holds nothing outside its packages.
"""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent / "resources"
_WHEEL = Path(__file__).resolve().parent / "_shipped"
RESOURCES_DIR = _CHECKOUT if _CHECKOUT.is_dir() else _WHEEL


def resource_path(*parts: str) -> Path:
    """The path of a file under ``resources/``."""
    return RESOURCES_DIR.joinpath(*parts)
