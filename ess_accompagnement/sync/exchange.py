"""Sync bundles on disk joined to the engine: the one module the command line and the desktop call (no Qt).

- Keys: :func:`keystore_for` keeps them in ``<database>.keys/`` beside the database file (device key, network
  key, trusted devices), so each copy has its own device key and a copied database file starts without one.
- Binding: a copy is bound to its owner advisor's structure on its first export, import or key setup
  (:func:`ensure_bound`). Writes sealed before that (``structure = null``, which peers refuse outside the
  catalogue) are sealed again under the structure. A copy holding data of several structures (a demo base)
  cannot be bound, and is refused.
- Export (:func:`export_bundle`): what a colleague lacks by their last receipt (``for_site``), since a date,
  or everything this copy's structure sees; written beside ``out`` and renamed into place.
- Import (:func:`import_bundle`): everything is verified (``open_bundle``) before anything is written; only
  scopes this copy's structure may see are applied, through ``apply_transactions`` (idempotent, resumable);
  the bundle id is recorded, so importing it again is a no-op. A receipt updates what its sender has.
  Projects this copy referred onwards then get what it received relayed to their receivers
  (:func:`relay_onward`, sync/mirror.py); exports redo it first, in case a crash interrupted it.
- Export makes the state file's high-water mark durable before our transactions leave (sync/site.py).
- Status: the digests of all scopes are computed in one pass over the leaves (:func:`scope_digests`).
- :func:`inspect_bundle` verifies and previews without writing anything (not even the device pin).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from ess_accompagnement.domain import advisors
from ess_accompagnement.domain.entities import Advisor
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.store.db import Database
from ess_accompagnement.sync import api, capture, mirror, seal, site
from ess_accompagnement.sync import install as sync_install
from ess_accompagnement.sync.bundle import (
    BundleProgress,
    BundleWriter,
    Kind,
    Manifest,
    VerifiedBundle,
    WrongRecipientError,
    open_bundle,
)
from ess_accompagnement.sync.codec import Tx, driver
from ess_accompagnement.sync.keys import KeyStore, NetworkKey, Trust
from ess_accompagnement.sync.scopes import CATALOGUE_TABLES, may_write, parse, scope_visible, structure_scope

logger = logging.getLogger(__name__)

KEYS_SUFFIX = ".keys"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportReport:
    path: Path
    bundle_id: str
    mode: str  # "for", "since" or "all"
    recipient_site: str | None
    transactions: int
    changes: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ImportPreview:
    path: Path
    bundle_id: str
    kind: str  # "changes" or "receipt"
    source_site: str
    device_fingerprint: str
    new_device: bool
    created_utc: str
    transactions: int
    changes: int
    already_imported: bool
    new: int = 0
    known: int = 0
    waiting: int = 0
    waiting_for: tuple[str, ...] = ()
    needs_update: int = 0  # of ``waiting``: written by a newer version of the application (api.UPDATE_NEEDED_MESSAGE)
    expected_conflicts: tuple[str, ...] = ()
    refused_changes: int = 0
    rejected: int = 0  # quarantined: bad hash, fork, broken chain
    out_of_scope: int = 0  # transactions of scopes this copy's structure may not see (skipped)
    receipt_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportReport:
    bundle_id: str
    kind: str
    source_site: str
    already_imported: bool
    applied: int = 0
    known: int = 0
    waiting: int = 0
    waiting_for: tuple[str, ...] = ()
    needs_update: int = 0  # of ``waiting``: written by a newer version of the application
    new_conflicts: tuple[str, ...] = ()
    field_changes: int = 0
    refused_changes: int = 0
    rejected: int = 0
    out_of_scope: int = 0


@dataclass(frozen=True)
class PeerStatus:
    site: str
    structure_id: str | None
    received: dict[str, dict[str, int]]
    last_seen: dt.datetime | None


@dataclass(frozen=True)
class BundleEntry:
    bundle_id: str
    direction: str
    source_site: str | None
    at: dt.datetime | None
    result: dict[str, Any]


@dataclass(frozen=True)
class SyncStatus:
    site_id: str
    epoch: int
    structure_id: str | None
    structure_name: str | None
    device_fingerprint: str
    network_key_present: bool
    network_key_id: str | None
    open_conflicts: int
    awaiting_update: int = 0  # transactions kept until this copy's application is updated
    peers: list[PeerStatus] = field(default_factory=list)
    last_in: list[BundleEntry] = field(default_factory=list)
    last_out: list[BundleEntry] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # scope -> digest (compare between copies)


# ---- Keys


def keystore_for(db_path: Path) -> KeyStore:
    """The keys of the copy at ``db_path``: ``<db_path>.keys/`` beside the database file."""
    db_path = Path(db_path)
    return KeyStore(db_path.with_name(db_path.name + KEYS_SUFFIX))


def init_network_key(keys: KeyStore, *, replace: bool = False) -> str:
    """Create the network key of a new group of copies; its printable text, to give to the colleagues."""
    if keys.has_network_key() and not replace:
        raise UserFacingError("Une clé de réseau est déjà installée sur ce poste : la remplacer rendrait illisibles "
                              "les fichiers de vos collègues (confirmez le remplacement).", field="clé")
    key = NetworkKey.generate()
    keys.set_network_key(key)
    return key.to_text()


def set_network_key(keys: KeyStore, text_key: str) -> None:
    """Install the network key received from a colleague (its printable text; a typo is detected)."""
    keys.set_network_key(NetworkKey.from_text(text_key))


# ---- Binding


def _owner_structure(session: Session) -> str:
    owner = advisors.owner_id(session)
    advisor = session.get(Advisor, owner) if owner is not None else None
    if advisor is None:
        raise UserFacingError("Aucun conseiller n'est associé à cette base : lancez « ess-acc init --advisor "
                              "\"Prénom Nom\" --structure STRUCTURE » avant de synchroniser.", field="structure")
    return advisor.structure_id.hex


def _foreign_structures(connection: Connection, structure_id: str) -> list[str]:
    """Other structures whose data this not-yet-bound copy holds: in its log, or in rows not sealed yet
    (a demo or an older database waiting for its baseline). Catalogue rows belong to everyone."""
    raw = driver(connection)
    owners = {parse(r[0])[1][0] for r in raw.execute("SELECT DISTINCT scope FROM sync_vv WHERE scope LIKE 'structure:%'")}
    for table in sorted(set(capture.synced_tables()) - CATALOGUE_TABLES):
        owners |= {r[0] for r in raw.execute(f'SELECT DISTINCT owner_structure_id FROM "{table}"')}
    return sorted(owners - {structure_id})


def ensure_bound(db: Database) -> str:
    """Bind this copy to its owner's structure if not yet done; the bound structure id."""
    with db.read() as session:
        bound = api.site_info(session.connection()).structure_id
        pending = sync_install.baseline_pending(driver(session.connection()))
    if bound is not None:
        if pending:
            with db.transaction() as session:
                sync_install.run_baseline(driver(session.connection()))
        return bound
    with db.transaction() as session:
        connection = session.connection()
        structure_id = _owner_structure(session)
        if _foreign_structures(connection, structure_id):
            raise UserFacingError("Cette base contient des données de plusieurs structures : elle ne peut pas être "
                                  "synchronisée. Synchronisez une base créée pour votre seule structure "
                                  "(« ess-acc init »).", field="structure")
        api.bind_structure(connection, structure_id)
        _reseal_unbound(connection, structure_id)
        sync_install.run_baseline(driver(connection))
    logger.info("copy bound to structure %s", structure_id)
    return structure_id


def _reseal_unbound(connection: Connection, structure_id: str) -> None:
    """Rows written before binding travelled with no structure (peers refuse them): write them again.

    Only the fields this structure owns: a referral written before binding also holds the receiver's
    (still empty) answer fields, which are the other structure's to write.
    """
    raw = driver(connection)
    rows = raw.execute("SELECT DISTINCT t.scope, c.tbl, c.pk FROM sync_tx t JOIN sync_change c ON c.scope = t.scope "
                       "AND c.site = t.site AND c.seq = t.seq WHERE t.structure IS NULL AND t.scope != 'catalogue' "
                       "AND t.site IN (SELECT site_id FROM sync_site)").fetchall()
    for scope, tbl, pk in rows:
        for col in capture.captured_columns(tbl):
            if may_write(structure_id, scope, tbl, col):
                raw.execute(f'INSERT INTO sync_pending(tbl, pk, col, val) SELECT ?, id, ?, "{col}" FROM "{tbl}" '
                            "WHERE id = ?", (tbl, col, pk))
    if rows:
        logger.info("%d rows written before binding sealed again", len(rows))


# ---- Export


def _my_sites(connection: Connection) -> set[str]:
    return {r[0] for r in driver(connection).execute("SELECT site_id FROM sync_site")}


def _current_hlc(connection: Connection) -> int:
    return int(driver(connection).execute("SELECT hlc FROM sync_site WHERE retired = 0").fetchone()[0])


def _since_ms(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(0, 0), tzinfo=PARIS).timestamp() * 1000)


def _selection(connection: Connection, structure_id: str, for_site: str | None, since: dt.date | None,
               everything: bool) -> tuple[str, dict[str, Any]]:
    """The export mode and the keyword arguments of ``export_transactions``."""
    if sum((for_site is not None, since is not None, everything)) != 1:
        raise UserFacingError("Choisissez exactement un export : pour un poste (--for), depuis une date (--since) "
                              "ou tout (--all).", field="export")
    if since is not None:
        return "since", {"structure_id": structure_id, "since_hlc": api.since_hlc(_since_ms(since))}
    if everything:
        return "all", {"structure_id": structure_id}
    peer = next((p for p in api.peers(connection) if p["site"] == for_site), None)
    if peer is None:
        raise UserFacingError(f"Aucun accusé de réception du poste {for_site} : exportez tout (--all) ou depuis une "
                              "date (--since), puis importez son accusé de réception.", field="--for")
    recipient = peer["structure_id"]
    if recipient is None:  # it would receive the catalogue only: say so rather than send a near-empty file
        raise UserFacingError(f"La structure du poste {for_site} est inconnue : importez un accusé de réception "
                              "récent de ce poste, ou exportez tout (--all).", field="--for")
    if recipient != structure_id:  # another structure: only what both may see
        return "for", {"structure_id": recipient, "known": peer["vv"], "_mine": structure_id}
    return "for", {"structure_id": structure_id, "known": peer["vv"]}


def _selected(connection: Connection, kwargs: dict[str, Any]) -> Iterator[Tx]:
    mine = kwargs.pop("_mine", None)
    for tx in api.export_transactions(connection, **kwargs):
        if mine is None or scope_visible(tx["scope"], mine):
            yield tx


def _count(connection: Connection, kwargs: dict[str, Any]) -> int:
    known, since = kwargs.get("known") or {}, kwargs.get("since_hlc", 0)
    rows = driver(connection).execute("SELECT scope, site, seq FROM sync_tx WHERE hlc >= ?", (since,))
    return sum(1 for scope, site_id, seq in rows
               if scope_visible(scope, kwargs["structure_id"]) and known.get(scope, {}).get(site_id, 0) < seq)


def export_bundle(db: Database, keys: KeyStore, out: Path, *, for_site: str | None = None,
                  since: dt.date | None = None, everything: bool = False,
                  progress: Progress | None = None) -> ExportReport:
    """Write a bundle of what a colleague lacks (``for_site``), of what changed since ``since`` or of
    everything this copy's structure sees (``everything``); the file appears at ``out`` only once complete."""
    out = Path(out)
    if not out.parent.is_dir():
        raise UserFacingError(f"Le dossier {out.parent} n'existe pas.", field="--out")
    keys.network_key()  # a clear error before any work when it is missing
    structure_id = ensure_bound(db)
    relay_onward(db)  # a relay lost in a crash after the last import is redone before sending
    with db.read() as session:
        connection = session.connection()
        mode, kwargs = _selection(connection, structure_id, for_site, since, everything)
        site.make_durable(driver(connection), db.path)  # our transactions leave: their seqs must stay taken
        total = _count(connection, kwargs) if progress is not None else 0
        manifest = _write(connection, keys, out, kwargs, for_site, progress, total)
    report = ExportReport(out, str(manifest.bundle_id), mode, for_site, manifest.transactions, manifest.changes,
                          manifest.scopes)
    with db.transaction() as session:
        api.record_bundle(session.connection(), report.bundle_id, manifest.payload.sha256,
                          source_site=manifest.source_site, direction="out",
                          result={"mode": mode, "recipient": for_site, "transactions": report.transactions,
                                  "changes": report.changes})
    logger.info("exported bundle %s: %d transactions", report.bundle_id, report.transactions)
    return report


def _write(connection: Connection, keys: KeyStore, out: Path, kwargs: dict[str, Any], for_site: str | None,
           progress: Progress | None, total: int) -> Manifest:
    me = api.site_info(connection).site_id
    done = 0
    try:
        with BundleWriter(out, keys, source_site=me, created_hlc=_current_hlc(connection),
                          schema_version=api.SCHEMA_VER, recipient_site=for_site) as writer:
            for tx in _selected(connection, dict(kwargs)):
                writer.add(tx)
                done += 1
                if progress is not None and done % 200 == 0:
                    progress(done, max(total, done))
    except OSError as exc:
        raise UserFacingError(f"Impossible d'écrire le fichier {out} : {exc.strerror or exc}.", field="--out") from exc
    if progress is not None:
        progress(done, done)
    assert writer.manifest is not None
    return writer.manifest


def write_receipt_bundle(db: Database, keys: KeyStore, out: Path) -> Path:
    """A receipt bundle: this copy's version vector, so the colleague's next export skips what we have."""
    out = Path(out)
    structure_id = ensure_bound(db)
    with db.read() as session:
        connection = session.connection()
        vv = api.receipt(connection, structure_id)
        vv.setdefault(structure_scope(structure_id), {})  # tells the sender our structure, even with no own data
        me, hlc = api.site_info(connection).site_id, _current_hlc(connection)
    try:
        with BundleWriter(out, keys, source_site=me, created_hlc=hlc, schema_version=api.SCHEMA_VER,
                          kind=Kind.RECEIPT) as writer:
            for scope, sites in sorted(vv.items()):
                writer.add({"scope": scope, "vv": dict(sorted(sites.items()))})
    except OSError as exc:
        raise UserFacingError(f"Impossible d'écrire le fichier {out} : {exc.strerror or exc}.", field="--out") from exc
    assert writer.manifest is not None
    with db.transaction() as session:
        api.record_bundle(session.connection(), str(writer.manifest.bundle_id), writer.manifest.payload.sha256,
                          source_site=me, direction="out", result={"kind": "receipt"})
    return out


# ---- Import


def _open(db: Database, keys: KeyStore, path: Path) -> tuple[VerifiedBundle, set[str]]:
    """Verify the whole file (nothing is written, the device is not pinned yet); and this copy's site ids."""
    path = Path(path)
    if not path.is_file():
        raise UserFacingError(f"Le fichier {path} n'existe pas.", field="fichier")
    verified = open_bundle(path, keys, pin_new_device=False)
    with db.read() as session:
        mine = _my_sites(session.connection())
    recipient = verified.manifest.recipient_site
    if recipient is not None and recipient not in mine:
        raise WrongRecipientError()
    return verified, mine


def _already_imported(db: Database, bundle_id: str) -> bool:
    with db.read() as session:
        return session.execute(text("SELECT 1 FROM sync_bundle WHERE bundle_id = :b AND direction = 'in'"),
                               {"b": bundle_id}).first() is not None


def _bound_or_owner(db: Database) -> str:
    with db.read() as session:
        return api.site_info(session.connection()).structure_id or _owner_structure(session)


class _InScope:
    """The bundle's transactions of the scopes ``structure_id`` may see; counts the others, and notes the
    structures the sender's own transactions were sealed under (its structure)."""

    def __init__(self, verified: VerifiedBundle, structure_id: str, progress: Progress | None) -> None:
        self.verified, self.structure_id, self.progress = verified, structure_id, progress
        self.skipped = 0
        self.sender_structures: set[str] = set()

    def __iter__(self) -> Iterator[Tx]:
        total = self.verified.manifest.payload.size

        def report(p: BundleProgress) -> None:
            if self.progress is not None:
                self.progress(p.bytes_done, total)

        source = self.verified.manifest.source_site
        for tx in self.verified.transactions(report):
            if tx.get("site") == source and isinstance(tx.get("structure"), str):
                self.sender_structures.add(tx["structure"])
            if scope_visible(tx["scope"], self.structure_id):
                yield tx
            else:
                self.skipped += 1


def inspect_bundle(db: Database, keys: KeyStore, path: Path) -> ImportPreview:
    """Verify a bundle and tell what importing it would do, writing nothing."""
    verified, _ = _open(db, keys, path)
    m = verified.manifest
    base = dict(path=Path(path), bundle_id=str(m.bundle_id), kind=m.kind.value, source_site=m.source_site,
                device_fingerprint=m.device_fingerprint, new_device=verified.trust is Trust.NEW,
                created_utc=m.created_utc, transactions=m.transactions, changes=m.changes,
                already_imported=_already_imported(db, str(m.bundle_id)))
    if m.kind is Kind.RECEIPT:
        return ImportPreview(**base, receipt_scopes=tuple(sorted(verified.receipt or {})))
    txs = _InScope(verified, _bound_or_owner(db), None)
    result = api.preview(db, txs)
    return ImportPreview(**base, new=result.applied, known=result.duplicates, waiting=result.parked,
                         waiting_for=tuple(sorted(result.waiting_for)), needs_update=result.needs_update,
                         expected_conflicts=tuple(result.new_conflicts), refused_changes=result.refused_changes,
                         rejected=result.quarantined, out_of_scope=txs.skipped)


def import_bundle(db: Database, keys: KeyStore, path: Path, *, progress: Progress | None = None) -> ImportReport:
    """Verify a bundle completely, then apply it (or, for a receipt, remember what its sender has)."""
    verified, _ = _open(db, keys, path)
    m = verified.manifest
    bundle_id = str(m.bundle_id)
    if _already_imported(db, bundle_id):
        return ImportReport(bundle_id, m.kind.value, m.source_site, already_imported=True)
    structure_id = ensure_bound(db)
    if m.kind is Kind.RECEIPT:
        report = _import_receipt(db, verified)
    else:
        report = _import_changes(db, verified, structure_id, progress)
    if verified.trust is Trust.NEW:
        keys.pin(m.source_site, m.device_public_key)
    logger.info("imported bundle %s: %d applied, %d known, %d waiting", bundle_id, report.applied, report.known,
                report.waiting)
    return report


def _import_changes(db: Database, verified: VerifiedBundle, structure_id: str,
                    progress: Progress | None) -> ImportReport:
    m = verified.manifest
    txs = _InScope(verified, structure_id, progress)
    result = api.apply_transactions(db, txs)
    report = ImportReport(str(m.bundle_id), m.kind.value, m.source_site, False, applied=result.applied,
                          known=result.duplicates, waiting=result.parked, waiting_for=tuple(sorted(result.waiting_for)),
                          needs_update=result.needs_update, new_conflicts=tuple(result.new_conflicts), field_changes=result.field_changes,
                          refused_changes=result.refused_changes, rejected=result.quarantined,
                          out_of_scope=txs.skipped)
    had = {scope: {site_id: ranges[-1][1] for site_id, ranges in sites.items() if ranges}
           for scope, sites in m.covered.items()}  # the sender had everything up to what it sent
    with db.transaction() as session:
        connection = session.connection()
        sealed = txs.sender_structures.pop() if len(txs.sender_structures) == 1 else None
        api.record_receipt(connection, m.source_site, had,
                           sealed or _peer_structure(connection, m.source_site, had))
        api.record_bundle(connection, str(m.bundle_id), m.payload.sha256, source_site=m.source_site,
                          direction="in", result=_jsonable(report))
    if result.applied:
        relay_onward(db)
    return report


def relay_onward(db: Database) -> int:
    """Bring the mirrors of the projects this copy referred onwards up to what it received
    (sync/mirror.py), in one transaction: touch, seal, project again. The number of rows relayed."""
    keys: list[tuple[str, str]] = []
    fairy = db.engine.raw_connection()
    try:
        raw = fairy.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.execute("PRAGMA foreign_keys=OFF")  # as when applying: a relayed value may name a row in transit
        try:
            raw.execute("BEGIN IMMEDIATE")
            keys = mirror.relay(raw)
            if keys:
                seal.seal_raw(raw)
                mirror.reproject(raw, keys)
            raw.execute("COMMIT")
        finally:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raw.execute("PRAGMA foreign_keys=ON")
    finally:
        fairy.close()
    return len(keys)


def _import_receipt(db: Database, verified: VerifiedBundle) -> ImportReport:
    m = verified.manifest
    vv = {scope: dict(sites) for scope, sites in (verified.receipt or {}).items()}
    report = ImportReport(str(m.bundle_id), m.kind.value, m.source_site, False)
    with db.transaction() as session:
        connection = session.connection()
        api.record_receipt(connection, m.source_site, vv, _peer_structure(connection, m.source_site, vv))
        api.record_bundle(connection, str(m.bundle_id), m.payload.sha256, source_site=m.source_site,
                          direction="in", result={"kind": "receipt", "scopes": sorted(vv)})
    return report


def _peer_structure(connection: Connection, peer_site: str, vv: dict[str, dict[str, int]]) -> str | None:
    """The structure of a peer: its own structure scope (a receipt always lists it), else the one all its share
    scopes name, else the one already known. (A vv of ``catalogue`` and ``share:F:T`` only is ambiguous.)"""
    known = next((p["structure_id"] for p in api.peers(connection) if p["site"] == peer_site), None)
    own = {parse(s)[1][0] for s in vv if parse(s)[0] == "structure"}
    if len(own) == 1:
        return own.pop()
    named = [set(parse(s)[1]) for s in vv if parse(s)[0] == "share"]
    common = set.intersection(*named) if named else set()
    return common.pop() if len(common) == 1 else known


def _jsonable(report: ImportReport) -> dict[str, Any]:
    return {"applied": report.applied, "known": report.known, "waiting": report.waiting,
            "needs_update": report.needs_update, "new_conflicts": list(report.new_conflicts), "refused_changes": report.refused_changes,
            "rejected": report.rejected, "out_of_scope": report.out_of_scope}


# ---- Status


def _hlc_time(hlc: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp((hlc >> 16) / 1000, dt.UTC) if hlc else None


def _structure_name(session: Session, structure_id: str | None) -> str | None:
    if structure_id is None:
        return None
    return session.execute(text("SELECT name FROM structure WHERE id = :id"), {"id": structure_id}).scalar()


def _entries(connection: Connection, direction: str, limit: int) -> list[BundleEntry]:
    rows = [b for b in api.bundles(connection) if b["direction"] == direction][:limit]
    return [BundleEntry(b["bundle_id"], direction, b["source_site"], _hlc_time(b["at_hlc"]), b["result"]) for b in rows]


_MAX_PARAMS = 500  # more scopes than this: filtered in Python (SQLite limits the number of bound parameters)


def scope_digests(connection: Connection, scopes: list[str]) -> dict[str, str]:
    """``api.digest(connection, [scope])`` for every scope of ``scopes``, in one pass over the leaves.

    Same values (each scope's hash is fed that scope's rows in the same order, the table's key order), so
    copies that applied the same transactions show the same digests; one scan of ``sync_fv`` instead of
    one per scope (about 2 s each on a base of a million leaves)."""
    if not scopes:
        return {}
    hashes = {scope: hashlib.sha256() for scope in scopes}
    updates = {scope: h.update for scope, h in hashes.items()}
    wanted = sorted(hashes)
    where = f"WHERE scope IN ({','.join('?' * len(wanted))}) " if len(wanted) <= _MAX_PARAMS else ""
    rows = driver(connection).execute(f"SELECT tbl, pk, col, scope, site, seq, hlc, val FROM sync_fv {where}"
                                      "ORDER BY 1, 2, 3, 4, 5, 6", wanted if where else ())
    for row in rows:
        update = updates.get(row[3])
        if update is not None:
            update(repr(row).encode())
    return {scope: h.hexdigest() for scope, h in hashes.items()}


def status(db: Database, keys: KeyStore, *, last: int = 5) -> SyncStatus:
    """This copy's identity, keys, peers (what each has received), last bundles and open conflicts."""
    network = keys.network_key() if keys.has_network_key() else None
    with db.read() as session:
        connection = session.connection()
        me = api.site_info(connection)
        scopes = api.visible_scopes(connection, me.structure_id) if me.structure_id else \
            [r[0] for r in driver(connection).execute("SELECT DISTINCT scope FROM sync_vv ORDER BY 1")]
        return SyncStatus(
            site_id=me.site_id, epoch=me.epoch, structure_id=me.structure_id,
            structure_name=_structure_name(session, me.structure_id),
            device_fingerprint=keys.device_key().fingerprint, network_key_present=network is not None,
            network_key_id=network.key_id if network else None, open_conflicts=len(api.list_conflicts(session)),
            awaiting_update=api.awaiting_update(connection),
            peers=[PeerStatus(p["site"], p["structure_id"], p["vv"], _hlc_time(p["last_seen_hlc"]))
                   for p in api.peers(connection)],
            last_in=_entries(connection, "in", last), last_out=_entries(connection, "out", last),
            digests=scope_digests(connection, scopes),
        )
