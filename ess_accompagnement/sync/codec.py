"""Transactions as plain JSON-serialisable dicts, their canonical bytes and hashes.

A transaction dict (format 1), as carried by bundles and accepted back by :func:`apply.apply_transactions`::

    {"v": 1, "scope": "structure:<hex>", "site": "<hex>", "seq": 7, "hlc": 1234, "deps": {"<site>": 6},
     "author": "<advisor hex>" | None, "structure": "<structure hex>" | None, "schema": 2,
     "prev_hash": "<sha256 hex>" | None, "changes": [[tbl, pk, col, val], ...], "tx_hash": "<sha256 hex>"}

``val`` is the value as SQLite stores it (text, integer, real or null; bytes as ``{"$b": hex}``).
``tx_hash`` is the SHA-256 of the canonical JSON of every other key; ``prev_hash`` links to the same
site's previous transaction in the same scope (a per-site hash chain, so forks are detectable).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from sqlalchemy import Connection

FORMAT = 1
SCHEMA_VER = 8  # (major - 1) * SCHEMA_MAJOR_STEP + last Alembic revision changing synced tables (docs/design/sync.md)
SCHEMA_MAJOR_STEP = 1000  # schema 0..999 = major 1, 1000..1999 = major 2, ...: every stamp carries its major
SCHEMA_MAJOR = SCHEMA_VER // SCHEMA_MAJOR_STEP + 1  # newer majors are parked by apply.py until the app is updated

Tx = dict[str, Any]
Change = tuple[str, str, str, Any]  # (tbl, pk, col, val)


def driver(connection: Connection) -> sqlite3.Connection:
    """The DBAPI sqlite3 connection under a SQLAlchemy connection (same transaction)."""
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def encode_val(val: Any) -> Any:
    if isinstance(val, bytes):
        return {"$b": val.hex()}
    return val


def decode_val(val: Any) -> Any:
    if isinstance(val, dict):
        return bytes.fromhex(val["$b"])
    return val


# One encoder for every call (``json.dumps`` with options builds a new one each time). ``check_circular``
# only changes which error a self-referencing object raises (JSON input never is one); the bytes are the
# same, and must stay so: tests/sync/test_capture_perf_hash.py pins a hash.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                              check_circular=False)


def canonical(obj: Any) -> bytes:
    return _CANONICAL.encode(obj).encode()


def tx_hash(tx: Tx) -> str:
    body = {k: v for k, v in tx.items() if k != "tx_hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def verify_hash(tx: Tx) -> bool:
    try:
        return tx_hash(tx) == tx.get("tx_hash")
    except (TypeError, ValueError):
        return False


def is_well_formed(tx: Any) -> bool:
    """Shape check before anything else touches a remote transaction."""
    try:
        return (tx["v"] == FORMAT and isinstance(tx["scope"], str) and isinstance(tx["site"], str)
                and isinstance(tx["seq"], int) and tx["seq"] >= 1 and isinstance(tx["hlc"], int)
                and isinstance(tx["deps"], dict) and isinstance(tx["changes"], list)
                and all(isinstance(c, list) and len(c) == 4 for c in tx["changes"]))
    except (KeyError, TypeError):
        return False


def dot(tx: Tx) -> tuple[str, str, int]:
    return (tx["scope"], tx["site"], tx["seq"])


def dumps(tx: Tx) -> str:
    return canonical(tx).decode()
