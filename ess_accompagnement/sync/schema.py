"""The sync engine's own tables (Core), declared on the entities' ``Base.metadata``.

They are created by the Alembic migration ``0002_sync``; declaring them on the same metadata keeps
autogenerate and the "models match the migrations" test honest. ``store/migrate.py`` imports this module
so the tables are always registered before Alembic compares anything. Identifiers (site ids, row keys)
are stored as 32-character hex text, the way SQLAlchemy's ``Uuid`` stores them in SQLite. ``val``
columns are declared BLOB only for the BLOB (= none) affinity: SQLite then keeps each value with its own
storage class, exactly as the capture triggers read it from the domain table. The engine reads and writes
them with raw SQL only (a Core ``LargeBinary`` processor would turn text into bytes).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Table, Text

from ess_accompagnement.store.types import Base

metadata = Base.metadata

# One row per site id this database ever had; the current one has retired = 0 (epochs, see site.py).
sync_site = Table(
    "sync_site", metadata,
    Column("site_id", String(32), primary_key=True),
    Column("epoch", Integer, nullable=False),
    Column("hlc", BigInteger, nullable=False),
    Column("structure_id", String(32)),
    Column("db_path", Text),
    Column("db_ino", BigInteger),
    Column("retired", Integer, nullable=False),
)

# Applied version vector: the highest contiguous seq applied per (scope, site).
sync_vv = Table(
    "sync_vv", metadata,
    Column("scope", String(80), primary_key=True),
    Column("site", String(32), primary_key=True),
    Column("seq", Integer, nullable=False),
)

# Append-only log of every transaction applied here, ours and remote; ord = local apply order.
sync_tx = Table(
    "sync_tx", metadata,
    Column("scope", String(80), primary_key=True),
    Column("site", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("hlc", BigInteger, nullable=False),
    Column("deps", Text, nullable=False),
    Column("author", String(32)),
    Column("structure", String(32)),
    Column("schema_ver", Integer, nullable=False),
    Column("prev_hash", String(64)),
    Column("tx_hash", String(64), nullable=False),
    Column("origin", String(8), nullable=False),
    Column("ord", Integer, nullable=False, index=True),
)

# The field changes of each transaction; refused = 1 when field ownership rejected it (kept, not applied).
sync_change = Table(
    "sync_change", metadata,
    Column("scope", String(80), primary_key=True),
    Column("site", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("tbl", String(40), nullable=False),
    Column("pk", String(32), nullable=False),
    Column("col", String(40), nullable=False),
    Column("val", LargeBinary()),
    Column("refused", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# Field versions not superseded (the leaves of each field's multi-value register).
sync_fv = Table(
    "sync_fv", metadata,
    Column("tbl", String(40), primary_key=True),
    Column("pk", String(32), primary_key=True),
    Column("col", String(40), primary_key=True),
    Column("scope", String(80), primary_key=True),
    Column("site", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("hlc", BigInteger, nullable=False),
    Column("val", LargeBinary()),
    sqlite_with_rowid=False,
)

# Field changes captured by the triggers, sealed into transactions before COMMIT.
sync_pending = Table(
    "sync_pending", metadata,
    Column("id", Integer, primary_key=True),
    Column("tbl", String(40), nullable=False),
    Column("pk", String(32), nullable=False),
    Column("col", String(40), nullable=False),
    Column("val", LargeBinary()),
)

# Remote transactions waiting for their dependencies (the whole transaction as canonical JSON).
sync_inbox = Table(
    "sync_inbox", metadata,
    Column("scope", String(80), primary_key=True),
    Column("site", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    Column("received_hlc", BigInteger, nullable=False),
)

# Quarantine: transactions refused as a whole (bad hash, fork of a known dot).
sync_quarantine = Table(
    "sync_quarantine", metadata,
    Column("tx_hash", String(64), primary_key=True),
    Column("scope", String(80), nullable=False),
    Column("site", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("reason", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_hlc", BigInteger, nullable=False),
)

# Import ledger of sync bundles (written by the bundle layer through record_bundle()).
sync_bundle = Table(
    "sync_bundle", metadata,
    Column("bundle_id", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("source_site", String(32)),
    Column("direction", String(3), nullable=False),
    Column("at_hlc", BigInteger, nullable=False),
    Column("result", Text, nullable=False),
)

# What we know each peer site has: its version vector (JSON {scope: {site: seq}}), its structure.
sync_peer = Table(
    "sync_peer", metadata,
    Column("site", String(32), primary_key=True),
    Column("structure_id", String(32)),
    Column("vv", Text, nullable=False),
    Column("last_seen_hlc", BigInteger, nullable=False),
)

# No secondary index on sync_change: every query reaches it by its key (scope, site, seq), and an index on
# (tbl, pk) made each captured field change about 40 % more bytes to write (and commit).

SYNC_TABLES = tuple(t.name for t in (sync_site, sync_vv, sync_tx, sync_change, sync_fv, sync_pending, sync_inbox,
                                     sync_quarantine, sync_bundle, sync_peer))
