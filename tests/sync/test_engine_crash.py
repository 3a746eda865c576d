"""P-crash: a fault at any step of an apply, or a SIGKILL of the applying process, leaves a consistent
database from which re-running reaches the same state as a crash-free run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from ess_accompagnement.sync import api
from tests.sync.syncworld import Copies, export, new_project, set_field


class Boom(Exception):
    pass


def _pool(copies: Copies, n: int) -> list[dict[str, object]]:
    a = copies.new("source")
    pids = [new_project(a, f"Projet {i}") for i in range(n)]
    for pid in pids[: n // 2]:
        set_field(a, pid, "summary", "suite")
    return export(a)


def _state(db: object) -> tuple[str, str]:
    with db.read() as session:  # type: ignore[attr-defined]
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        rows = session.execute(text("SELECT id, title, summary FROM project ORDER BY id")).all()
        return api.digest(session.connection()), repr(rows)


def test_a_fault_at_every_step_rolls_back_the_batch_and_resumes(copies: Copies) -> None:
    pool = _pool(copies, 12)
    reference = copies.new("reference")
    api.apply_transactions(reference, pool, batch_size=5)
    expected = _state(reference)
    for k in range(0, len(pool) + len(pool) // 5, 2):
        db = copies.new(f"crash{k}")
        steps = iter(range(10**6))

        def fault(_where: str, k: int = k, steps=steps) -> None:  # noqa: ANN001
            if next(steps) == k:
                raise Boom

        with pytest.raises(Boom):
            api.apply_transactions(db, pool, batch_size=5, fault=fault)
        api.apply_transactions(db, pool, batch_size=5)
        assert _state(db) == expected


_CHILD = """
import json, sys
from tests.sync.syncworld import open_copy
from ess_accompagnement.sync import api
db = open_copy(__import__("pathlib").Path(sys.argv[1]))
print("ready", flush=True)
api.apply_transactions(db, json.load(open(sys.argv[2])), batch_size=1)
print("done", flush=True)
"""


def test_sigkill_during_import_leaves_a_consistent_database(copies: Copies, tmp_path: Path) -> None:
    pool = _pool(copies, 150)
    reference = copies.new("reference")
    api.apply_transactions(reference, pool)
    expected = _state(reference)
    victim = copies.new("victim")
    victim.close()
    (tmp_path / "pool.json").write_text(json.dumps(pool))
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(victim.path), str(tmp_path / "pool.json")],
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    from tests.sync.syncworld import open_copy

    reopened = open_copy(victim.path)
    copies.open.append(reopened)
    with reopened.read() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        applied = session.execute(text("SELECT count(*) FROM sync_tx")).scalar()
        vv = session.execute(text("SELECT coalesce(sum(seq), 0) FROM sync_vv")).scalar()
    assert applied == vv  # no partially applied transaction: the log and the version vector agree
    api.apply_transactions(reopened, pool)
    assert _state(reopened) == expected
