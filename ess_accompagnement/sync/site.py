"""This copy's identity (site id, epoch) and its hybrid logical clock.

- A random site id is made the first time the database is opened with the sync engine.
- Epochs: a copied or restored database must not reuse its seqs. Outside the database file we keep
  ``<db>.syncstate`` (JSON: site id, the sum of our own seqs, the HLC: a fixed-size record, overwritten in
  place). Before the first write after opening, the site is rotated (new random id, epoch + 1, the old id
  kept as retired) when the file's path or inode differ from those recorded in the database (a copy),
  when our own seqs in the database are below the state file's high-water mark (a restore from an older
  backup), or when the state file names a site this database never had (a restore from before a
  rotation). Rotating is always safe: it only starts a new seq numbering under a new id; the old id's
  transactions stay valid.
- HLC: ``wall_ms << 16 | counter`` persisted in ``sync_site``; ``tick`` never returns a value below the
  last one (also across restarts, the state file keeps it); ``observe`` ratchets the clock to a remote
  stamp only when that stamp is at most five minutes ahead of our wall clock.

When the state file is written, and why (crash windows):

- Reusing a seq is harmful only if the first transaction with that dot *left* the database (a bundle,
  later a hub push): another copy then holds a different transaction under the same dot (a fork). A
  transaction that never left is simply gone with the file the backup replaced.
- So the file must never be *below* anything that left, and should never be *above* what the database
  committed (a higher mark rotates the site needlessly, e.g. after a commit that failed once sealed).
- Sealing (``write_state``, called before COMMIT) writes nothing: it notes the connection. When that
  connection's transaction has ended (the pool's ``checkin``, i.e. after COMMIT or ROLLBACK), the file
  is raised to what the database then holds: committed data only, so a failed commit or a crash before
  COMMIT changes nothing and causes no rotation. This write is not fsynced (cheap: one ``pwrite`` per
  committed use case, as before); a crash or power loss may lose it, leaving the file one commit behind.
- That lag is harmless while those transactions stay in the database, and is repaired at the next open
  (``ensure`` catches the file up to the database). Before transactions leave, ``make_durable`` (called
  by the export, in the reading transaction) writes the mark of what is being exported and fsyncs it
  (and the directory, for a new file): whatever left is covered by a durable mark, and a backup restored
  later is detected. The marks never go down for a site (a database behind its file is a restore, to be
  detected, not recorded).
- Rotating at every doubt stays harmless, so the remaining corner cases err that way: a file naming an
  unknown site rotates; a restore over the database while it is open is caught by the next write.
- Only connections of an engine's pool are written back at ``checkin`` (every connection of the app is);
  a bare DBAPI connection that seals gets its state file caught up at the next open. The record read at
  every seal is cached while the file's inode, size and mtime are unchanged (no parse per commit).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.pool import Pool

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


@lru_cache(maxsize=64)
def state_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + STATE_SUFFIX)


def read_state(db_path: Path) -> dict[str, object]:
    """The state file's record (``{}`` when missing or unreadable); cached while the file is unchanged."""
    target = state_path(db_path)
    try:
        stamp = _stamp(target)
        cached = _known.get(str(target))
        if cached is not None and cached[0] == stamp:
            return dict(cached[1])
        data = json.loads(target.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    _known[str(target)] = (stamp, data)
    return dict(data)


_STATE_SIZE = 256  # bytes: the record is padded with spaces so that it can be overwritten in place
_Stamp = tuple[int, int, int]  # (inode, size, mtime_ns): the file has not changed while it is equal

_known: dict[str, tuple[_Stamp, dict[str, object]]] = {}  # state file -> its last record read or written
_pending: dict[int, tuple[sqlite3.Connection, Path, bool]] = {}  # connection id -> (connection, db, new site)
_lock = threading.Lock()


def write_state(raw: sqlite3.Connection, db_path: Path | None, *, new_site: bool = False) -> None:
    """Note that this connection's transaction sealed (or created a site): the state file is written once
    the transaction has ended, with what the database then holds (:func:`_on_checkin`), never before."""
    if db_path is not None:  # the connection is kept alive until then: its id is never reused meanwhile
        previous = _pending.get(id(raw))
        _pending[id(raw)] = (raw, db_path, new_site or (previous is not None and previous[0] is raw and previous[2]))


def make_durable(raw: sqlite3.Connection, db_path: Path | None) -> None:
    """Write the committed high-water mark and fsync it: call before any of our transactions leave the
    database (export), in the transaction that reads them (so the mark covers everything they hold)."""
    if db_path is not None:
        _record(raw, db_path, durable=True)


def _on_checkin(dbapi_connection: object, connection_record: object) -> None:  # noqa: ARG001 - the event's signature
    """Pool hook: the connection's transaction has ended (committed or rolled back): record what the
    database committed, if this connection sealed something."""
    if dbapi_connection is None:
        return
    pending = _pending.pop(id(dbapi_connection), None)
    if pending is None or pending[0] is not dbapi_connection:
        return
    raw, db_path, new_site = pending
    try:
        if raw.in_transaction:  # pragma: no cover - a pool always ends the transaction first
            return
        _record(raw, db_path, durable=False, new_site=new_site)
    except Exception:  # noqa: BLE001 - never break the return of a connection; the next open catches up
        logger.warning("could not write the sync state file", exc_info=True)


event.listen(Pool, "checkin", _on_checkin)


def _record(raw: sqlite3.Connection, db_path: Path, *, durable: bool, new_site: bool = False) -> None:
    """Raise the state file's marks to what the database holds (in the reader's snapshot): a new site
    replaces the record; for the same site, neither the seq total nor the HLC ever goes down. A record
    naming a site this database does not know is kept (the next write rotates), unless the database
    just created its first site (a brand-new id cannot reuse anything)."""
    row = raw.execute("SELECT site_id, hlc, (SELECT coalesce(sum(seq), 0) FROM sync_vv WHERE site = site_id) "
                      "FROM sync_site WHERE retired = 0").fetchone()
    if row is None:
        return
    record: dict[str, object] = {"site_id": row[0], "seq_total": int(row[2]), "hlc": int(row[1])}
    with _lock:
        old = read_state(db_path)
        if not new_site and old.get("site_id") != record["site_id"] and _unknown_site(raw, old.get("site_id")):
            return  # a restore from before a rotation: kept, so that the next write rotates (_must_rotate)
        if old.get("site_id") == record["site_id"]:
            record["seq_total"] = max(int(str(old.get("seq_total", 0))), int(str(record["seq_total"])))
            record["hlc"] = max(int(str(old.get("hlc", 0))), int(str(record["hlc"])))
            if record == {k: old.get(k) for k in record} and not durable:
                return  # nothing new (a rolled-back seal, a read-only open)
        _write_record(state_path(db_path), record, durable=durable)


def _write_record(target: Path, record: dict[str, object], *, durable: bool) -> None:
    """Overwrite the fixed-size record in place (one ``pwrite`` smaller than a disk sector), or create the
    file by an atomic replace; ``durable``: fsync it (and, for a new file, its directory)."""
    data = json.dumps(record).encode()
    try:
        stamp = _overwrite(target, data.ljust(_STATE_SIZE), durable) if len(data) <= _STATE_SIZE else None
        if stamp is None:
            tmp = target.with_name(target.name + ".tmp")
            with open(tmp, "wb") as out:
                out.write(data.ljust(_STATE_SIZE))
                if durable:
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(tmp, target)
            if durable:
                _fsync_directory(target.parent)
            stamp = _stamp(target)
        _known[str(target)] = (stamp, record)
    except OSError:  # pragma: no cover - read-only media: the database itself stays correct
        logger.warning("could not write the sync state file")


def _stamp(target: Path) -> _Stamp:
    return _stamp_of(os.stat(target))


def _stamp_of(st: os.stat_result) -> _Stamp:
    return st.st_ino, st.st_size, st.st_mtime_ns


def _overwrite(target: Path, record: bytes, durable: bool) -> _Stamp | None:
    """Overwrite an existing state file of the expected size in place (its new stamp); None when it must
    be (re)created."""
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    try:
        if os.fstat(fd).st_size != len(record):
            return None
        written = os.pwrite(fd, record, 0) == len(record) if hasattr(os, "pwrite") else _write_at_start(fd, record)
        if not written:
            return None
        if durable:
            os.fsync(fd)
        return _stamp_of(os.fstat(fd))
    finally:
        os.close(fd)


def _write_at_start(fd: int, record: bytes) -> bool:  # pragma: no cover - platforms without pwrite
    os.lseek(fd, 0, os.SEEK_SET)
    return os.write(fd, record) == len(record)


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that refuse fsync on directories
        pass
    finally:
        os.close(fd)


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
    is rotated lazily, by :func:`prepare_write`, so merely opening a copy changes nothing), except this
    site's state file, brought up to what the database committed once the opening transaction ends (it
    lags after a crash between a commit and its state write)."""
    if raw.execute("SELECT 1 FROM sync_site WHERE retired = 0").fetchone() is None:
        path, ino = _identity(db_path)
        state = read_state(db_path) if db_path is not None else {}
        _create(raw, path, ino, epoch=1, hlc=int(str(state.get("hlc", 0))), structure=None)
        write_state(raw, db_path, new_site=True)
    me = current(raw)
    if db_path is not None and read_state(db_path).get("site_id") == me.site_id:
        write_state(raw, db_path)  # written only if it lags behind the database (_record)
    return me


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
    state_site = state.get("site_id")
    if state_site == site_id and int(str(state.get("seq_total", 0))) > own_seq_total(raw, site_id):
        logger.info("database restored from an older state: new sync site")
        return True
    if state_site != site_id and _unknown_site(raw, state_site):
        logger.info("database restored from before its last new sync site: new sync site")
        return True
    return False


def _unknown_site(raw: sqlite3.Connection, site_id: object) -> bool:
    """Does the state file name a site this database never had (restored from before a rotation)?"""
    return isinstance(site_id, str) and raw.execute("SELECT 1 FROM sync_site WHERE site_id = ?",
                                                    (site_id,)).fetchone() is None


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
