"""This copy's identity (site id, epoch) and its hybrid logical clock.

- A random site id is made the first time the database is opened with the sync engine.
- Epochs: a copied or restored database must not reuse its seqs. Outside the database file we keep
  ``<db>.syncstate`` (JSON: site id, the sum of our own seqs, the HLC; a fixed-size record rewritten in
  place at every seal). At open, the site is rotated
  (new random id, epoch + 1, the old id kept as retired) when the file's path or inode differ from those
  recorded in the database (a copy) or when our own seqs in the database are below the high-water mark
  of the state file (a restore from an older backup). Rotating is always safe: it only starts a new
  seq numbering under a new id; the old id's transactions stay valid.
- HLC: ``wall_ms << 16 | counter`` persisted in ``sync_site``; ``tick`` never returns a value below the
  last one (also across restarts, the state file keeps it); ``observe`` ratchets the clock to a remote
  stamp only when that stamp is at most five minutes ahead of our wall clock.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_SKEW_MS = 5 * 60 * 1000
COUNTER_BITS = 16
STATE_SUFFIX = ".syncstate"


class Clock:
    """The wall clock; tests shift it with ``offset_ms`` (clock skew of years)."""

    offset_ms = 0

    @classmethod
    def wall_ms(cls) -> int:
        return time.time_ns() // 1_000_000 + cls.offset_ms


@dataclass(frozen=True)
class Site:
    site_id: str
    epoch: int
    structure_id: str | None


def current(raw: sqlite3.Connection) -> Site:
    row = raw.execute("SELECT site_id, epoch, structure_id FROM sync_site WHERE retired = 0").fetchone()
    if row is None:
        raise RuntimeError("sync site not initialised")
    return Site(*row)


def own_seq_total(raw: sqlite3.Connection, site_id: str) -> int:
    return int(raw.execute("SELECT coalesce(sum(seq), 0) FROM sync_vv WHERE site = ?", (site_id,)).fetchone()[0])


# ---- Clock -----------------------------------------------------------------------------------------


def _hlc(raw: sqlite3.Connection) -> int:
    return int(raw.execute("SELECT hlc FROM sync_site WHERE retired = 0").fetchone()[0])


def tick(raw: sqlite3.Connection) -> int:
    """A new local HLC stamp, persisted (in the caller's transaction)."""
    last = _hlc(raw)
    wall = Clock.wall_ms() << COUNTER_BITS
    stamp = wall if wall > last else last + 1
    raw.execute("UPDATE sync_site SET hlc = ? WHERE retired = 0", (stamp,))
    return stamp


def observe(raw: sqlite3.Connection, remote: int) -> None:
    """Receive rule with a skew guard: a remote stamp too far in the future does not move our clock."""
    if (remote >> COUNTER_BITS) > Clock.wall_ms() + MAX_SKEW_MS:
        logger.warning("remote clock ahead by more than %d ms: not followed", MAX_SKEW_MS)
        return
    raw.execute("UPDATE sync_site SET hlc = max(hlc, ?) WHERE retired = 0", (remote,))


# ---- Identity and epochs ---------------------------------------------------------------------------


def state_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + STATE_SUFFIX)


def read_state(db_path: Path) -> dict[str, object]:
    try:
        data = json.loads(state_path(db_path).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


_STATE_SIZE = 256  # bytes: the record is padded with spaces so that it can be overwritten in place


def write_state(raw: sqlite3.Connection, db_path: Path | None) -> None:
    """Record our high-water mark next to the database (best effort).

    The first write creates the file by an atomic replace; later ones overwrite its fixed-size record in
    place (one ``pwrite`` of less than a disk sector: no temporary file, no rename, which is what made
    this the costliest step of a small commit); a record smaller than a disk sector is written in one piece."""
    if db_path is None:
        return
    row = raw.execute("SELECT site_id, hlc, (SELECT coalesce(sum(seq), 0) FROM sync_vv WHERE site = site_id) "
                      "FROM sync_site WHERE retired = 0").fetchone()
    if row is None:
        raise RuntimeError("sync site not initialised")
    data = json.dumps({"site_id": row[0], "seq_total": int(row[2]), "hlc": int(row[1])}).encode()
    target = state_path(db_path)
    try:
        if len(data) <= _STATE_SIZE and _overwrite(target, data.ljust(_STATE_SIZE)):
            return
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data.ljust(_STATE_SIZE) if len(data) <= _STATE_SIZE else data)
        os.replace(tmp, target)
    except OSError:  # pragma: no cover - read-only media: the database itself stays correct
        logger.warning("could not write the sync state file")


def _overwrite(target: Path, record: bytes) -> bool:
    """Overwrite an existing state file of the expected size in place; False when it must be (re)created."""
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return False
    try:
        if os.fstat(fd).st_size != len(record):
            return False
        return os.pwrite(fd, record, 0) == len(record) if hasattr(os, "pwrite") else _write_at_start(fd, record)
    finally:
        os.close(fd)


def _write_at_start(fd: int, record: bytes) -> bool:  # pragma: no cover - platforms without pwrite
    os.lseek(fd, 0, os.SEEK_SET)
    return os.write(fd, record) == len(record)


def _identity(db_path: Path | None) -> tuple[str | None, int | None]:
    if db_path is None:
        return None, None
    ino = os.stat(db_path).st_ino  # never cached: a file copied or restored over this path changes it
    return _resolved(str(db_path), ino), ino


@lru_cache(maxsize=64)
def _resolved(path: str, ino: int) -> str:  # noqa: ARG001 - ino is part of the cache key
    """``Path.resolve`` (one ``lstat`` per path component) once per path and inode, not at every seal."""
    return str(Path(path).resolve())


def ensure(raw: sqlite3.Connection, db_path: Path | None) -> Site:
    """At open: create this copy's site the first time. Nothing else is written at open (a copied file
    is rotated lazily, by :func:`prepare_write`, so merely opening a copy changes nothing)."""
    if raw.execute("SELECT 1 FROM sync_site WHERE retired = 0").fetchone() is None:
        path, ino = _identity(db_path)
        state = read_state(db_path) if db_path is not None else {}
        _create(raw, path, ino, epoch=1, hlc=int(str(state.get("hlc", 0))), structure=None)
        write_state(raw, db_path)
    return current(raw)


def prepare_write(raw: sqlite3.Connection, db_path: Path | None) -> Site:
    """Before sealing: rotate the site if the file was copied or restored; follow the state file's clock."""
    path, ino = _identity(db_path)
    row = raw.execute("SELECT site_id, db_path, db_ino, hlc FROM sync_site WHERE retired = 0").fetchone()
    state = read_state(db_path) if db_path is not None else {}
    state_hlc = int(str(state.get("hlc", 0)))
    if _must_rotate(raw, row, path, ino, state):
        rotate(raw, path, ino, state_hlc=state_hlc)
    elif state_hlc > row[3]:
        raw.execute("UPDATE sync_site SET hlc = ? WHERE retired = 0", (state_hlc,))
    return current(raw)


def _must_rotate(raw: sqlite3.Connection, row: tuple[str, str | None, int | None, int], path: str | None,
                 ino: int | None, state: dict[str, object]) -> bool:
    site_id, old_path, old_ino = row[0], row[1], row[2]
    if path is None:
        return False
    if (old_path, old_ino) != (path, ino):
        logger.info("database copied or moved: new sync site")
        return True
    if state.get("site_id") == site_id and int(str(state.get("seq_total", 0))) > own_seq_total(raw, site_id):
        logger.info("database restored from an older state: new sync site")
        return True
    return False


def _create(raw: sqlite3.Connection, path: str | None, ino: int | None, *, epoch: int, hlc: int,
            structure: str | None) -> None:
    site_id = uuid.uuid4().hex
    raw.execute("INSERT INTO sync_site(site_id, epoch, hlc, structure_id, db_path, db_ino, retired) "
                "VALUES (?, ?, ?, ?, ?, ?, 0)", (site_id, epoch, hlc, structure, path, ino))
    logger.info("sync site %s (epoch %d)", site_id, epoch)


def rotate(raw: sqlite3.Connection, path: str | None, ino: int | None, *, state_hlc: int = 0) -> None:
    """Retire the current site id and start a new epoch (keeps the structure binding and the clock)."""
    old = raw.execute("SELECT epoch, hlc, structure_id FROM sync_site WHERE retired = 0").fetchone()
    raw.execute("UPDATE sync_site SET retired = 1 WHERE retired = 0")
    _create(raw, path, ino, epoch=old[0] + 1, hlc=max(old[1], state_hlc), structure=old[2])


def bind_structure(raw: sqlite3.Connection, structure_id: str | None) -> None:
    """Declare which structure this copy works for (its scopes and the fields it may write)."""
    raw.execute("UPDATE sync_site SET structure_id = ? WHERE retired = 0", (structure_id,))
