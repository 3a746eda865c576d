"""The wheel carries what the application reads at run time: every file of resources/ (as the data package
ess_accompagnement._shipped) and every migration."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from ess_accompagnement import resources

ROOT = Path(__file__).resolve().parents[2]


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_resource_file_is_shipped_in_the_wheel() -> None:
    config = _config()
    assert config["package-dir"]["ess_accompagnement._shipped"] == "resources"
    assert '"ess_accompagnement._shipped"' in (ROOT / "setup.py").read_text(encoding="utf-8")
    patterns = config["package-data"]["ess_accompagnement._shipped"]
    files = [p.relative_to(ROOT / "resources").as_posix() for p in (ROOT / "resources").rglob("*") if p.is_file()]
    assert files
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, pattern) and f.count("/") == pattern.count("/")
                                             for pattern in patterns)]
    assert unshipped == []


def test_resources_are_read_from_the_checkout_here() -> None:
    assert resources.RESOURCES_DIR == ROOT / "resources"
    assert resources.resource_path("catalogue", "catalogue.toml").is_file()
