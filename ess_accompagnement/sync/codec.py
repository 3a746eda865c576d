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
SCHEMA_VER = 2  # the Alembic head this engine writes for; see docs/design/sync.md (schema)

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


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


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
