"""Run the real ``ess-acc`` command in a subprocess, on real database files."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ESS_ACC = [sys.executable, "-m", "ess_accompagnement.cli"]
TODAY = "23/11/2026"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run(db: Path, *args: str, today: str = TODAY) -> Result:
    env = {**os.environ, "ESS_ACC_TODAY": today, "PYTHONWARNINGS": "error"}
    done = subprocess.run([*ESS_ACC, "--db", str(db), *args], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    return Result(done.returncode, done.stdout, done.stderr)


def ok(db: Path, *args: str, **kwargs: str) -> Result:
    result = run(db, *args, **kwargs)
    assert result.code == 0, result.err
    return result


def digest(db: Path) -> tuple:
    """What a failed command must leave untouched: row counts and last update of every table."""
    with sqlite3.connect(db) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'search_fts_%' ORDER BY name")]
        counts = tuple((t, connection.execute(f"SELECT count(*) FROM \"{t}\"").fetchone()[0]) for t in tables)
        settings = tuple(connection.execute("SELECT * FROM local_setting ORDER BY key"))
        updates = tuple(connection.execute("SELECT max(updated_at) FROM project").fetchone())
    return counts, settings, updates


@pytest.fixture(scope="session")
def initialised_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database after « ess-acc init --advisor "Camille Martin" --structure urscop »."""
    path = tmp_path_factory.mktemp("cli") / "base.db"
    ok(path, "init", "--advisor", "Camille Martin", "--structure", "urscop")
    return path


@pytest.fixture
def base(initialised_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "base.db"
    shutil.copyfile(initialised_db, path)
    return path
