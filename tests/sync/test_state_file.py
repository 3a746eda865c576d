"""The ``.syncstate`` file (sync/site.py) across crash windows: never above what the database committed (no
needless rotation after a failed commit), caught up after a crash between a commit and its state write,
durable before our transactions leave, and a restore from an older backup is still detected."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from ess_accompagnement.domain import advisors
from ess_accompagnement.domain.text import sort_key
from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import api, exchange, site
from tests.sync.syncworld import A, Copies, new_project, open_copy

ROOT = Path(__file__).parents[2]


def _state(db: Database) -> dict[str, object]:
    return site.read_state(db.path)


def _site(db: Database) -> site.Site:
    with db.read() as session:
        return api.site_info(session.connection())


def _committed_total(db: Database) -> int:
    with db.read() as session:
        raw = session.connection().connection.driver_connection
        return site.own_seq_total(raw, _site(db).site_id)


def _backup(db: Database, target: Path) -> None:
    with sqlite3.connect(db.path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()


def _restore(backup: Path, db: Database) -> Database:
    """Put an older backup back in place of the database (same path), as a user would, and reopen it."""
    db.close()
    for suffix in ("-wal", "-shm"):
        db.path.with_name(db.path.name + suffix).unlink(missing_ok=True)
    with open(backup, "rb") as source, open(db.path, "r+b") as target:  # in place: the inode is kept
        target.truncate(0)
        shutil.copyfileobj(source, target)
    return open_copy(db.path)


def test_a_commit_that_fails_after_sealing_leaves_the_state_file_alone(copies: Copies) -> None:
    # GIVEN a copy with one committed project
    db = copies.new("a")
    new_project(db)
    before, first = db.path.with_name(db.path.name + site.STATE_SUFFIX).read_bytes(), _site(db)
    assert _state(db)["seq_total"] == _committed_total(db)
    # WHEN a use case is sealed, then its COMMIT fails (a deferred foreign key: an unknown project)
    with pytest.raises(Exception, match="FOREIGN KEY"), db.transaction() as session:
        session.execute(text("INSERT INTO phase_change(id, owner_structure_id, project_id, phase, effective_date, "
                             "created_at, updated_at) VALUES (:id, :a, :p, 'emergence', '2026-01-02', "
                             "'2026-01-02 00:00:00', '2026-01-02 00:00:00')"),
                        {"id": uuid.uuid4().hex, "a": A, "p": uuid.uuid4().hex})
    # THEN the state file claims nothing the database does not hold, and the next write keeps the site
    assert db.path.with_name(db.path.name + site.STATE_SUFFIX).read_bytes() == before
    new_project(db)
    assert _site(db) == first and _state(db)["seq_total"] == _committed_total(db)


_CRASH_AFTER_COMMIT = """
import os, sys
from pathlib import Path
from ess_accompagnement.sync import site
from tests.sync.syncworld import new_project, open_copy
db = open_copy(Path(sys.argv[1]))
site._record = lambda *args, **kwargs: os._exit(9)  # the process dies after COMMIT, before the state write
new_project(db, "Projet perdu ?")
"""


def test_a_crash_between_commit_and_state_write_is_caught_up_at_open(copies: Copies, tmp_path: Path) -> None:
    # GIVEN a copy with a backup taken after its first project
    db = copies.new("a")
    new_project(db)
    backup = tmp_path / "backup.db"
    _backup(db, backup)
    new_project(db)
    first = _site(db)
    db.close()
    # WHEN a process commits a project and dies before writing the state file
    child = subprocess.run([sys.executable, "-c", _CRASH_AFTER_COMMIT, str(db.path)], cwd=ROOT, check=False,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert child.returncode == 9, child.stderr
    lagging = int(str(site.read_state(db.path)["seq_total"]))
    reopened = open_copy(db.path)
    copies.open.append(reopened)
    # THEN the commit is there, the file lagged behind it, and opening brought it up to date
    with reopened.read() as session:
        assert session.execute(text("SELECT count(*) FROM project WHERE title = 'Projet perdu ?'")).scalar() == 1
    assert lagging < _committed_total(reopened) == _state(reopened)["seq_total"]
    # AND restoring the older backup is still detected: the next write starts a new site
    restored = _restore(backup, reopened)
    copies.open.append(restored)
    new_project(restored)
    assert _site(restored).site_id != first.site_id and _site(restored).epoch == first.epoch + 1


def _exporting_copy(copies: Copies) -> tuple[Database, exchange.KeyStore]:
    db = copies.new("a", structure=None)
    aid = uuid.uuid4().hex
    with db.transaction() as session:
        session.execute(text("INSERT INTO advisor(id, owner_structure_id, structure_id, name, role, active, sort_key, "
                             "created_at, updated_at) VALUES (:id, :s, :s, 'Ana', 'conseiller', 1, :k, "
                             "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"id": aid, "s": A, "k": sort_key("Ana")})
        advisors.set_owner(session, uuid.UUID(aid))
    keys = exchange.keystore_for(db.path)
    exchange.init_network_key(keys)
    exchange.ensure_bound(db)
    return db, keys


def test_what_leaves_is_covered_by_a_durable_mark(copies: Copies, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a backup, then a project whose state write after commit is lost (a power cut)
    db, keys = _exporting_copy(copies)
    new_project(db)
    backup = tmp_path / "backup.db"
    _backup(db, backup)
    real_record = site._record
    monkeypatch.setattr(site, "_record", lambda raw, path, *, durable: durable and real_record(raw, path,
                                                                                                durable=True))
    new_project(db)
    assert int(str(_state(db)["seq_total"])) < _committed_total(db)
    first = _site(db)
    # WHEN the project leaves in a bundle
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    exchange.export_bundle(db, keys, tmp_path / "out.essync", everything=True)
    # THEN the state file covers it, written to disk before the bundle
    assert synced and _state(db)["seq_total"] == _committed_total(db)
    # AND restoring the backup (which lacks what was exported) starts a new site: no seq is reused
    monkeypatch.undo()
    restored = _restore(backup, db)
    copies.open.append(restored)
    new_project(restored)
    assert _site(restored).site_id != first.site_id


def test_a_restore_from_before_a_rotation_is_detected(copies: Copies, tmp_path: Path) -> None:
    # GIVEN an old backup, restored once (its site was rotated: the state file now names the new site)
    db = copies.new("a")
    new_project(db)
    original = _site(db)
    backup = tmp_path / "backup.db"
    _backup(db, backup)
    new_project(db)
    once = _restore(backup, db)
    new_project(once)
    rotated = _site(once)
    assert rotated.site_id != original.site_id
    # WHEN the same backup is restored again
    twice = _restore(backup, once)
    copies.open.append(twice)
    new_project(twice)
    # THEN its old site, whose later seqs may have left, is not reused either
    assert _site(twice).site_id not in {original.site_id, rotated.site_id}
