"""Where the shipped resources are (reference catalogue, communes, fonts, translations)."""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """The path of a file under ``resources/``."""
    return RESOURCES_DIR.joinpath(*parts)
