"""Sync bundles (``*.essync``): signed, encrypted files carrying transactions between offline copies.

Container: a ZIP, every entry *stored*, in one canonical layout (no extra fields, fixed dates and attributes,
no ZIP64, so under 4 GiB like a FAT32 USB key's files), with, in this order:

* ``mimetype`` — ``application/vnd.ess-accompagnement.sync``, first and uncompressed (as in EPUB/ODF), so
  the first 77 bytes identify the format and a truncated file is told apart from a foreign one;
* ``payload.bin`` — JSON Lines of the transaction dicts (or of ``{"scope", "vv"}`` for a receipt),
  zlib-compressed, then cut into chunks of ``chunk_size`` bytes (1 MiB) sealed one by one with
  ChaCha20-Poly1305 (see *Streaming AEAD*);
* ``manifest.json`` — cleartext, no personal data: format ``ess-sync/1``, bundle id (UUIDv7), source and
  recipient site ids, device public key and fingerprint, created HLC and UTC time, app and schema versions,
  kind (``changes``/``receipt``), scopes, per scope and site the covered seq ranges, the prerequisite
  version vector (what the receiver must already have, as in ``git bundle``), counts, payload size and
  SHA-256, and the encryption parameters (salt, chunk size, chunk count, network key id);
* ``manifest.sig`` — Ed25519 signature by the exporting device of ``b"ess-sync/1 manifest\\n"`` + the
  exact bytes of ``manifest.json`` (the prefix separates this use of the device key from any other).

Streaming AEAD (the STREAM construction of Hoang–Reyhanitabar–Rogaway–Vizár, as used by age and Tink):
the payload key is HKDF-SHA256(network key, salt = 32 random bytes, info = bundle id), so it is unique per
bundle; chunk ``i`` is sealed with nonce ``i`` (11 bytes, big-endian) ‖ ``final`` flag (1 byte) and with
the format, bundle id, ``i`` and ``final`` as associated data. Every chunk but the last holds exactly
``chunk_size`` bytes. Hence a reordered, duplicated or foreign chunk fails authentication, and a payload
cut at a chunk boundary lacks its final-flagged chunk. Memory stays at a few chunks whatever the size.

The writer emits the ZIP records itself (:func:`_layout`, a few ``struct`` formats) so that the reader, which
parses with stdlib ``zipfile``, can then demand every byte outside the entries' data to be exactly the canonical
one: any change anywhere in the file is refused, not only changes to what the signature covers, and the file
stays an ordinary ZIP that any tool lists.

Reading (:func:`open_bundle`) checks everything before returning anything: size limits, ZIP structure,
canonical layout and CRCs, manifest schema, signature, device trust (pinned/revoked, see :mod:`.keys`),
recipient, network key id, payload SHA-256, and a full decrypt + decompress + parse pass that also recomputes
the manifest's scopes, ranges, prerequisites and counts. :meth:`VerifiedBundle.transactions` then decrypts a
second time, streaming: rather than spooling plaintext (personal data) to a temp file, the first pass records
the SHA-256 of each sealed chunk and the second pass refuses any chunk that differs (a file swapped in
between), so it yields exactly what was verified. Bundles are never written into: a replay is detected by
the engine from :attr:`Manifest.bundle_id`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import struct
import tempfile
import uuid
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, ClassVar

import uuid6
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ess_accompagnement import __version__
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.sync.keys import (
    PUBLIC_KEY_BYTES,
    SIGNATURE_BYTES,
    KeyStore,
    Trust,
    fingerprint,
    verify_signature,
)

logger = logging.getLogger(__name__)

FORMAT = "ess-sync/1"
FORMAT_FAMILY = "ess-sync/"
SUFFIX = ".essync"
MIMETYPE = b"application/vnd.ess-accompagnement.sync"
CHUNK_SIZE = 1 << 20
MIN_CHUNK_SIZE, MAX_CHUNK_SIZE = 1 << 10, 1 << 23
TAG_BYTES = 16
SIGNATURE_CONTEXT = b"ess-sync/1 manifest\n"
MIMETYPE_ENTRY, PAYLOAD_ENTRY, MANIFEST_ENTRY, SIGNATURE_ENTRY = "mimetype", "payload.bin", "manifest.json", "manifest.sig"
_ENTRIES = frozenset({MIMETYPE_ENTRY, PAYLOAD_ENTRY, MANIFEST_ENTRY, SIGNATURE_ENTRY})
# A ZIP local header (30 bytes) naming "mimetype" (8 bytes, no extra field), then the stored content.
_MAGIC_OFFSETS = ((0, b"PK\x03\x04"), (26, b"\x08\x00\x00\x00mimetype"), (38, MIMETYPE))
_MAGIC_LENGTH = 38 + len(MIMETYPE)
_EOCD = b"PK\x05\x06"
_ORDER = (MIMETYPE_ENTRY, PAYLOAD_ENTRY, MANIFEST_ENTRY, SIGNATURE_ENTRY)
_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # local file header (30 bytes)
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # central directory entry (46 bytes)
_END = struct.Struct("<4sHHHHIIH")  # end of central directory (22 bytes)
_MAX_ENTRY = 0xFFFF_FFFF - (1 << 24)  # no ZIP64: an entry (and a FAT32 file) stays under 4 GiB
_PIECE = 1 << 18  # decompressed bytes produced at a time
# What zipfile's reader lets through on hostile bytes, besides BadZipFile (struct, I/O and decoding errors,
# unsupported methods, encrypted entries, bogus offsets): all mean "this file was altered".
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error,
               NotImplementedError, RuntimeError, OverflowError, KeyError, IndexError, zlib.error)


# ---- Errors


class BundleError(UserFacingError):
    """A sync file cannot be used; the message says why, without any personal data."""

    code: ClassVar[str] = "bundle"
    default_message: ClassVar[str] = "Ce fichier de synchronisation ne peut pas être utilisé."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class BundleReadError(BundleError):
    code = "unreadable"
    default_message = "Le fichier n'a pas pu être lu (fichier absent, droits insuffisants ou support retiré)."


class NotABundleError(BundleError):
    code = "not_a_bundle"
    default_message = "Ce n'est pas un fichier de synchronisation ESS Accompagnement."


class TruncatedBundleError(BundleError):
    code = "truncated"
    default_message = "Le fichier est tronqué ou incomplet : demandez à votre collègue de le renvoyer."


class TamperedBundleError(BundleError):
    code = "tampered"
    default_message = "Le fichier a été modifié après sa signature (ou endommagé pendant le transfert)."


class ForeignNetworkError(BundleError):
    code = "foreign_network"
    default_message = "Ce fichier vient d'un autre réseau (clé de réseau différente)."


class UnknownDeviceError(BundleError):
    code = "unknown_device"
    default_message = "L'appareil qui a signé ce fichier n'est pas reconnu."


class DeviceKeyChangedError(BundleError):
    code = "device_key_changed"
    default_message = ("L'appareil qui a signé ce fichier n'est pas reconnu : ce poste d'origine signait jusqu'ici "
                       "avec une autre clé. Vérifiez son empreinte avec votre collègue.")


class RevokedDeviceError(BundleError):
    code = "revoked_device"
    default_message = "L'appareil qui a signé ce fichier a été révoqué."


class UnsupportedVersionError(BundleError):
    code = "version_too_new"
    default_message = ("Ce fichier a été créé par une version plus récente d'ESS Accompagnement : "
                       "mettez l'application à jour pour l'importer.")


class BundleTooLargeError(BundleError):
    code = "too_large"
    default_message = "Le fichier dépasse la taille maximale acceptée pour une synchronisation."


class MalformedBundleError(BundleError):
    code = "malformed"
    default_message = ("Le fichier est bien signé mais son contenu est mal formé "
                       "(erreur de l'application qui l'a créé).")


class WrongRecipientError(BundleError):
    code = "wrong_recipient"
    default_message = "Ce fichier est destiné à un autre poste."


# ---- Values


class Kind(StrEnum):
    CHANGES = "changes"
    RECEIPT = "receipt"


class Stage(StrEnum):
    EXPORT = "export"
    VERIFY = "verify"
    READ = "read"


@dataclass(frozen=True)
class BundleProgress:
    """Reported after each sealed or opened chunk; ``bytes_total`` is 0 while exporting (unknown)."""

    stage: Stage
    transactions: int
    bytes_done: int
    bytes_total: int


ProgressCallback = Callable[[BundleProgress], None]
Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Limits:
    """What a reader accepts; the defaults allow multi-GB bundles while bounding memory and work."""

    max_file_bytes: int = 4 << 30  # never more than the writer's own cap (no ZIP64)
    max_uncompressed_bytes: int = 16 << 30
    max_manifest_bytes: int = 4 << 20
    max_line_bytes: int = 32 << 20
    max_receipt_bytes: int = 4 << 20


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class PayloadInfo:
    size: int
    sha256: str
    uncompressed_size: int
    chunk_size: int
    chunks: int
    salt: bytes
    network_key_id: str


@dataclass(frozen=True)
class Manifest:
    """The signed, cleartext description of a bundle (safe to show before decrypting)."""

    kind: Kind
    bundle_id: uuid.UUID
    source_site: str
    recipient_site: str | None
    device_public_key: bytes
    created_hlc: int
    created_utc: str
    app_version: str
    schema_version: int
    scopes: tuple[str, ...]
    covered: Mapping[str, Mapping[str, Ranges]]
    prerequisites: Mapping[str, Mapping[str, int]]
    transactions: int
    changes: int
    payload: PayloadInfo
    raw: bytes = field(repr=False, compare=False)

    @property
    def device_fingerprint(self) -> str:
        return fingerprint(self.device_public_key)


# ---- What a bundle covers (computed the same way by the writer and by the reader)


class _Coverage:
    """Scopes, per-site seq ranges, prerequisites and counts of a stream of records."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.scopes: set[str] = set()
        self.ranges: defaultdict[str, defaultdict[str, list[list[int]]]] = defaultdict(lambda: defaultdict(list))
        self.needed: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.transactions = 0
        self.changes = 0

    def add(self, record: Mapping[str, Any]) -> None:
        """Account for one record; ValueError when it lacks what the manifest needs."""
        scope = record.get("scope")
        if not isinstance(scope, str) or not scope:
            raise ValueError("record without a scope")
        self.scopes.add(scope)
        self.transactions += 1
        if self.kind is Kind.RECEIPT:
            _check_vv(record.get("vv"))
            return
        site, seq = record.get("site"), record.get("seq")
        if not isinstance(site, str) or not site or not _is_count(seq) or seq < 1:
            raise ValueError("transaction without a valid site and seq")
        if not _insert(self.ranges[scope][site], seq):
            raise ValueError(f"transaction {scope}/{site}/{seq} twice in one bundle")
        changes = record.get("changes")
        self.changes += len(changes) if isinstance(changes, list) else 0
        deps = record.get("deps")
        needed = self.needed[scope]
        for dep_site, dep_seq in (deps.items() if isinstance(deps, dict) else ()):
            if isinstance(dep_site, str) and _is_count(dep_seq):
                needed[dep_site] = max(needed[dep_site], dep_seq)
        needed[site] = max(needed[site], seq - 1)

    def covered(self) -> dict[str, dict[str, Ranges]]:
        return {scope: {site: tuple((lo, hi) for lo, hi in r) for site, r in sorted(sites.items())}
                for scope, sites in sorted(self.ranges.items())}

    def prerequisites(self) -> dict[str, dict[str, int]]:
        """Per scope, the version vector the receiver must already have for the bundle to apply fully."""
        result: dict[str, dict[str, int]] = {}
        for scope, needed in sorted(self.needed.items()):
            vv = {site: _top_missing(top, self.ranges[scope].get(site, [])) for site, top in sorted(needed.items())}
            if vv := {site: seq for site, seq in vv.items() if seq > 0}:
                result[scope] = vv
        return result


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_vv(vv: Any) -> None:
    if not isinstance(vv, dict) or not all(isinstance(k, str) and _is_count(v) for k, v in vv.items()):
        raise ValueError("receipt without a valid version vector")


def _insert(ranges: list[list[int]], seq: int) -> bool:
    """Add ``seq`` to sorted disjoint ranges (merging neighbours); False when it is already there."""
    if not ranges or seq > ranges[-1][1] + 1:
        ranges.append([seq, seq])
        return True
    i = bisect.bisect_right(ranges, seq, key=lambda r: r[0])  # ranges starting at or before seq
    if i and ranges[i - 1][1] >= seq:
        return False
    joins_left = bool(i) and ranges[i - 1][1] == seq - 1
    joins_right = i < len(ranges) and ranges[i][0] == seq + 1
    if joins_left and joins_right:
        ranges[i - 1][1] = ranges.pop(i)[1]
    elif joins_left:
        ranges[i - 1][1] = seq
    elif joins_right:
        ranges[i][0] = seq
    else:
        ranges.insert(i, [seq, seq])
    return True


def _top_missing(top: int, ranges: list[list[int]]) -> int:
    """The highest seq in ``1..top`` not in ``ranges`` (0 if none): a receiver's VV must reach it."""
    for lo, hi in reversed(ranges):
        if hi < top:
            break
        if lo <= top:
            top = lo - 1
    return top


# ---- Manifest (JSON) in and out


def _manifest_json(m: Manifest) -> bytes:
    p = m.payload
    data = {
        "format": FORMAT, "kind": m.kind.value, "bundle_id": str(m.bundle_id),
        "source_site": m.source_site, "recipient_site": m.recipient_site,
        "device": {"public_key": m.device_public_key.hex(), "fingerprint": m.device_fingerprint},
        "created": {"hlc": m.created_hlc, "utc": m.created_utc},
        "app": {"version": m.app_version, "schema_version": m.schema_version},
        "scopes": list(m.scopes),
        "covered": {s: {site: [list(r) for r in ranges] for site, ranges in v.items()} for s, v in m.covered.items()},
        "prerequisites": m.prerequisites,
        "counts": {"transactions": m.transactions, "changes": m.changes},
        "payload": {"size": p.size, "sha256": p.sha256, "uncompressed_size": p.uncompressed_size,
                    "compression": "zlib", "aead": "chacha20-poly1305", "kdf": "hkdf-sha256", "salt": p.salt.hex(),
                    "chunk_size": p.chunk_size, "chunks": p.chunks, "network_key_id": p.network_key_id},
    }
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")


def _get(obj: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ValueError(f"manifest field {key!r}")
    return value


def _count(obj: Any, key: str) -> int:
    value = _get(obj, key, int)
    if value < 0:
        raise ValueError(f"manifest field {key!r}")
    return value


def _site_map(obj: Any, key: str, value_of: Callable[[Any], Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for scope, sites in _get(obj, key, dict).items():
        if not isinstance(sites, dict):
            raise ValueError(f"manifest field {key!r}")
        result[scope] = {site: value_of(value) for site, value in sites.items()}
    return result


def _ranges(value: Any) -> Ranges:
    if not isinstance(value, list):
        raise ValueError("manifest ranges")
    return tuple(_pair(item) for item in value)


def _pair(value: Any) -> tuple[int, int]:
    if not (isinstance(value, list) and len(value) == 2 and all(_is_count(v) for v in value)):
        raise ValueError("manifest range")
    return value[0], value[1]


def _seq(value: Any) -> int:
    if not _is_count(value):
        raise ValueError("manifest seq")
    return int(value)


def _payload_info(p: Any) -> PayloadInfo:
    if (_get(p, "compression", str), _get(p, "aead", str), _get(p, "kdf", str)) != (
            "zlib", "chacha20-poly1305", "hkdf-sha256"):
        raise ValueError("manifest algorithms")
    info = PayloadInfo(size=_count(p, "size"), sha256=_get(p, "sha256", str), chunk_size=_count(p, "chunk_size"),
                       uncompressed_size=_count(p, "uncompressed_size"), chunks=_count(p, "chunks"),
                       salt=bytes.fromhex(_get(p, "salt", str)), network_key_id=_get(p, "network_key_id", str))
    full = info.chunk_size + TAG_BYTES
    if not (MIN_CHUNK_SIZE <= info.chunk_size <= MAX_CHUNK_SIZE and info.chunks >= 1 and len(info.salt) == 32
            and (info.chunks - 1) * full + TAG_BYTES <= info.size <= info.chunks * full):
        raise ValueError("manifest payload layout")
    return info


def _parse_manifest(data: dict[str, Any], raw: bytes, public_key: bytes) -> Manifest:
    """The manifest of ``data`` (a signed JSON object); ValueError when a field is missing or wrong."""
    bundle_id = uuid.UUID(_get(data, "bundle_id", str))
    recipient = data.get("recipient_site")
    if str(bundle_id) != data["bundle_id"] or not (recipient is None or isinstance(recipient, str)):
        raise ValueError("manifest ids")
    device, created, app = _get(data, "device", dict), _get(data, "created", dict), _get(data, "app", dict)
    counts, scopes = _get(data, "counts", dict), _get(data, "scopes", list)
    if device.get("fingerprint") != fingerprint(public_key) or not all(isinstance(s, str) for s in scopes):
        raise ValueError("manifest device or scopes")
    return Manifest(
        kind=Kind(_get(data, "kind", str)), bundle_id=bundle_id, source_site=_get(data, "source_site", str),
        recipient_site=recipient, device_public_key=public_key, created_hlc=_count(created, "hlc"),
        created_utc=_get(created, "utc", str), app_version=_get(app, "version", str),
        schema_version=_count(app, "schema_version"), scopes=tuple(scopes),
        covered=_site_map(data, "covered", _ranges), prerequisites=_site_map(data, "prerequisites", _seq),
        transactions=_count(counts, "transactions"), changes=_count(counts, "changes"),
        payload=_payload_info(_get(data, "payload", dict)), raw=raw)


def _verified_manifest(raw: bytes, signature: bytes) -> Manifest:
    """Parse the manifest bytes, check the format version and the signature by the embedded device key."""
    try:
        data = json.loads(raw)
        version = _get(data, "format", str)
        public_key = bytes.fromhex(_get(_get(data, "device", dict), "public_key", str))
    except (ValueError, RecursionError) as exc:
        raise TamperedBundleError() from exc
    if version != FORMAT:
        raise UnsupportedVersionError() if version.startswith(FORMAT_FAMILY) else NotABundleError()
    if len(public_key) != PUBLIC_KEY_BYTES or not verify_signature(public_key, signature, SIGNATURE_CONTEXT + raw):
        raise TamperedBundleError()
    try:
        return _parse_manifest(data, raw, public_key)
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("signed manifest rejected: %s", exc)
        raise MalformedBundleError() from exc


# ---- Streaming AEAD


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def _aad(bundle_id: uuid.UUID, index: int, final: bool) -> bytes:
    return FORMAT.encode("ascii") + b"\x00" + bundle_id.bytes + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


# ---- The canonical ZIP layout (written by the writer, demanded byte for byte by the reader)


def _local_header(name: str, crc: int, size: int) -> bytes:
    # version 2.0, no flags, stored, 1980-01-01 00:00, no extra field
    return _LOCAL.pack(b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, size, size, len(name), 0) + name.encode("ascii")


def _layout(entries: list[tuple[str, int, int]]) -> tuple[list[tuple[int, bytes]], int]:
    """Every byte of a bundle but the entries' data, as ``(offset, bytes)``, and the file size, for
    ``(name, crc, size)`` entries in file order. The last segment is the central directory and its end."""
    segments, central, offset = [], [], 0
    for name, crc, size in entries:
        segments.append((offset, _local_header(name, crc, size)))
        central.append(_CENTRAL.pack(b"PK\x01\x02", 0x0314, 20, 0, 0, 0, 0x21, crc, size, size, len(name),
                                     0, 0, 0, 0, 0o100600 << 16, offset) + name.encode("ascii"))
        offset += _LOCAL.size + len(name) + size
    directory = b"".join(central)
    end = _END.pack(_EOCD, 0, 0, len(entries), len(entries), len(directory), offset, 0)
    segments.append((offset, directory + end))
    return segments, offset + len(directory) + len(end)


# ---- Writing


class BundleWriter:
    """Write a bundle: ``with BundleWriter(path, keys, ...) as w: w.add(tx)``; the manifest is then ``w.manifest``.

    The file is built beside ``path`` under a temporary name and renamed into place only once complete, so
    nothing half-written ever appears at ``path`` (an exception inside the ``with`` block removes it).
    """

    def __init__(self, path: Path | str, keys: KeyStore, *, source_site: str, created_hlc: int,
                 schema_version: int, kind: Kind = Kind.CHANGES, recipient_site: str | None = None,
                 progress: ProgressCallback | None = None, chunk_size: int = CHUNK_SIZE) -> None:
        if not (MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE and _is_count(created_hlc) and _is_count(schema_version)):
            raise ValueError("chunk_size, created_hlc or schema_version out of range")
        network, self._device = keys.network_key(), keys.device_key()
        self.path, self.bundle_id, self.manifest = Path(path), uuid.UUID(bytes=uuid6.uuid7().bytes), None
        self._header = dict(kind=Kind(kind), source_site=source_site, recipient_site=recipient_site,
                            created_hlc=created_hlc, schema_version=schema_version)
        self._salt, self._network_key_id = secrets.token_bytes(32), network.key_id
        self._aead = ChaCha20Poly1305(network.payload_key(self._salt, self.bundle_id.bytes))
        self._progress, self._chunk_size = progress, chunk_size
        self._coverage, self._compressor = _Coverage(Kind(kind)), zlib.compressobj(6)
        self._pending, self._sha, self._index, self._size, self._plain = bytearray(), hashlib.sha256(), 0, 0, 0
        self._open_temp()
        logger.debug("writing bundle %s (%s)", self.bundle_id, kind)

    def _open_temp(self) -> None:
        handle, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part")
        self._tmp, self._file = Path(tmp), os.fdopen(handle, "w+b")
        self._entries: list[tuple[str, int, int]] = []
        try:
            self._write_entry(MIMETYPE_ENTRY, MIMETYPE)
            self._payload_offset, self._crc = self._file.tell(), 0
            self._file.write(_local_header(PAYLOAD_ENTRY, 0, 0))  # rewritten once the CRC and size are known
        except BaseException:
            self.abort()
            raise

    def _write_entry(self, name: str, data: bytes) -> None:
        crc = zlib.crc32(data)
        self._file.write(_local_header(name, crc, len(data)) + data)
        self._entries.append((name, crc, len(data)))

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def add(self, record: Mapping[str, Any]) -> None:
        """Append one transaction dict (or, in a receipt, one ``{"scope", "vv"}`` record)."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        self._coverage.add(record)
        self._plain += len(line) + 1
        self._pending += self._compressor.compress(line + b"\n")
        self._seal_full_chunks()

    def _seal_full_chunks(self) -> None:
        """Seal full chunks while more than one chunk is pending: the final chunk is never empty (but if all is)."""
        while len(self._pending) > self._chunk_size:
            self._seal(bytes(self._pending[: self._chunk_size]), final=False)
            del self._pending[: self._chunk_size]

    def _seal(self, plaintext: bytes, *, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, final), plaintext, _aad(self.bundle_id, self._index, final))
        if self._size + len(sealed) > _MAX_ENTRY:
            raise BundleTooLargeError("L'export dépasse 4 Go : exportez en plusieurs fois (par exemple par date).")
        self._file.write(sealed)
        self._crc = zlib.crc32(sealed, self._crc)
        self._sha.update(sealed)
        self._index += 1
        self._size += len(sealed)
        if self._progress is not None:
            self._progress(BundleProgress(Stage.EXPORT, self._coverage.transactions, self._size, 0))

    def close(self) -> Manifest:
        """Seal the last chunk, write and sign the manifest, and move the file into place."""
        if self.manifest is not None:
            return self.manifest
        try:
            self._pending += self._compressor.flush()
            self._seal_full_chunks()
            self._seal(bytes(self._pending), final=True)
            self._finish_payload_entry()
            manifest = self._build_manifest()
            self._write_entry(MANIFEST_ENTRY, manifest.raw)
            self._write_entry(SIGNATURE_ENTRY, self._device.sign(SIGNATURE_CONTEXT + manifest.raw))
            self._file.write(_layout(self._entries)[0][-1][1])  # central directory and its end record
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self.manifest = manifest
        logger.info("bundle %s written: %d records, %d bytes", self.bundle_id, manifest.transactions, self._size)
        return manifest

    def _finish_payload_entry(self) -> None:
        end = self._file.tell()
        self._file.seek(self._payload_offset)
        self._file.write(_local_header(PAYLOAD_ENTRY, self._crc, self._size))
        self._file.seek(end)
        self._entries.append((PAYLOAD_ENTRY, self._crc, self._size))

    def abort(self) -> None:
        """Give up: close and delete the temporary file; ``path`` is left untouched."""
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def _build_manifest(self) -> Manifest:
        c, h = self._coverage, self._header
        payload = PayloadInfo(size=self._size, sha256=self._sha.hexdigest(), uncompressed_size=self._plain,
                              chunk_size=self._chunk_size, chunks=self._index, salt=self._salt,
                              network_key_id=self._network_key_id)
        m = Manifest(kind=h["kind"], bundle_id=self.bundle_id, source_site=h["source_site"],
                     recipient_site=h["recipient_site"], device_public_key=self._device.public_key,
                     created_hlc=h["created_hlc"], schema_version=h["schema_version"],
                     created_utc=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), app_version=__version__,
                     scopes=tuple(sorted(c.scopes)), covered=c.covered(), prerequisites=c.prerequisites(),
                     transactions=c.transactions, changes=c.changes, payload=payload, raw=b"")
        return replace(m, raw=_manifest_json(m))


def write_receipt(path: Path | str, keys: KeyStore, *, source_site: str, recipient_site: str, created_hlc: int,
                  schema_version: int, vv_by_scope: Mapping[str, Mapping[str, int]]) -> Manifest:
    """Write a receipt bundle: this copy's version vector per scope, for the sender to trim its next export."""
    with BundleWriter(path, keys, source_site=source_site, created_hlc=created_hlc, schema_version=schema_version,
                      kind=Kind.RECEIPT, recipient_site=recipient_site) as writer:
        for scope, vv in sorted(vv_by_scope.items()):
            writer.add({"scope": scope, "vv": dict(sorted(vv.items()))})
    assert writer.manifest is not None
    return writer.manifest


# ---- Reading: the container


@contextmanager
def _zip_errors() -> Iterator[None]:
    """Turn whatever ``zipfile`` raises on hostile bytes into a :class:`TamperedBundleError`."""
    try:
        yield
    except BundleError:
        raise
    except _ZIP_ERRORS as exc:
        raise TamperedBundleError() from exc


def _magic(head: bytes) -> bool | None:
    """True when ``head`` starts like a bundle, None when it is a cut-short start of one, else False."""
    for offset, expected in _MAGIC_OFFSETS:
        got = head[offset : offset + len(expected)]
        if got != expected[: len(got)]:
            return False
    return True if len(head) >= _MAGIC_LENGTH else None


class _Container:
    """A bundle file, opened and structurally checked: envelope, ZIP entries and sizes, small entries' CRCs."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self._stack = ExitStack()
        try:
            self.file: IO[bytes] = self._stack.enter_context(path.open("rb"))
            self.size = os.fstat(self.file.fileno()).st_size
        except OSError as exc:
            raise BundleReadError() from exc
        try:
            self._check_envelope(limits)
            with _zip_errors():
                self.zip = self._stack.enter_context(zipfile.ZipFile(self.file))
                self._check_entries(limits)
                self.manifest_raw = self.zip.read(MANIFEST_ENTRY)
                self.signature = self.zip.read(SIGNATURE_ENTRY)
        except BaseException:
            self._stack.close()
            raise

    def __enter__(self) -> _Container:
        return self

    def __exit__(self, *_: object) -> None:
        self._stack.close()

    def _check_envelope(self, limits: Limits) -> None:
        if self.size > limits.max_file_bytes:
            raise BundleTooLargeError()
        try:
            magic = _magic(self.file.read(_MAGIC_LENGTH))
            self.file.seek(max(self.size - 22, 0))
            tail = self.file.read(22)
        except OSError as exc:
            raise BundleReadError() from exc
        if magic is False:
            raise NotABundleError()
        if magic is None or not tail.startswith(_EOCD):  # the end-of-central-directory record is always last
            raise TruncatedBundleError()

    def _check_entries(self, limits: Limits) -> None:
        """Exactly our four entries, laid out exactly as the writer lays them out, within the limits."""
        infos = self.zip.infolist()
        if sorted(info.filename for info in infos) != sorted(_ENTRIES):
            raise TamperedBundleError()
        by_name = {info.filename: info for info in infos}
        segments, total = _layout([(name, by_name[name].CRC, by_name[name].file_size) for name in _ORDER])
        if total != self.size:
            raise TamperedBundleError()
        for offset, expected in segments:
            self.file.seek(offset)
            if self.file.read(len(expected)) != expected:
                raise TamperedBundleError()
        if by_name[MANIFEST_ENTRY].file_size > limits.max_manifest_bytes:
            raise BundleTooLargeError()
        if by_name[SIGNATURE_ENTRY].file_size != SIGNATURE_BYTES or self.zip.read(MIMETYPE_ENTRY) != MIMETYPE:
            raise TamperedBundleError()
        self.payload_size = by_name[PAYLOAD_ENTRY].file_size

    def sealed_chunks(self, info: PayloadInfo) -> Iterator[tuple[int, bool, bytes]]:
        """``(index, final, sealed bytes)`` of each payload chunk, as the manifest lays them out."""
        if self.payload_size != info.size:
            raise TamperedBundleError()
        full = info.chunk_size + TAG_BYTES
        with _zip_errors(), self.zip.open(PAYLOAD_ENTRY) as stream:
            for index in range(info.chunks):
                final = index == info.chunks - 1
                want = info.size - index * full if final else full
                sealed = stream.read(want)  # the CRC is checked when the last byte is read
                if len(sealed) != want:
                    raise TruncatedBundleError()
                yield index, final, sealed


# ---- Reading: the payload


class _Inflater:
    """Decompress the payload piece by piece and cut it into JSON records, within the declared size."""

    def __init__(self, declared_size: int, max_line: int) -> None:
        self._z = zlib.decompressobj()
        self._buffer = bytearray()
        self._left = declared_size
        self._max_line = max_line

    def feed(self, data: bytes) -> Iterator[dict[str, Any]]:
        while True:
            try:
                piece = self._z.decompress(data, _PIECE)
            except zlib.error as exc:
                raise MalformedBundleError() from exc
            self._left -= len(piece)
            if self._left < 0:  # more than declared: a decompression bomb or a lying manifest
                raise MalformedBundleError()
            yield from self._lines(piece)
            data = self._z.unconsumed_tail
            if not data and len(piece) < _PIECE:
                return

    def _lines(self, piece: bytes) -> Iterator[dict[str, Any]]:
        self._buffer += piece
        start = 0
        while (end := self._buffer.find(b"\n", start)) >= 0:
            yield _parse_line(self._buffer[start:end])
            start = end + 1
        del self._buffer[:start]
        if len(self._buffer) > self._max_line:
            raise BundleTooLargeError()

    def finish(self) -> None:
        if not self._z.eof or self._z.unused_data or self._buffer or self._left:
            raise MalformedBundleError()


def _parse_line(line: bytes | bytearray) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise MalformedBundleError() from exc
    if not isinstance(record, dict):
        raise MalformedBundleError()
    return record


def _records(container: _Container, manifest: Manifest, payload_key: bytes, check: Callable[[int, bytes], None], *,
             max_line: int, stage: Stage, progress: ProgressCallback | None) -> Iterator[dict[str, Any]]:
    """Authenticate, decrypt, decompress and parse the payload, chunk by chunk; ``check`` sees each sealed chunk."""
    aead, info = ChaCha20Poly1305(payload_key), manifest.payload
    inflater, sha, done, count = _Inflater(info.uncompressed_size, max_line), hashlib.sha256(), 0, 0
    for index, final, sealed in container.sealed_chunks(info):
        check(index, sealed)
        sha.update(sealed)
        try:
            plaintext = aead.decrypt(_nonce(index, final), sealed, _aad(manifest.bundle_id, index, final))
        except InvalidTag:
            raise TamperedBundleError() from None
        for record in inflater.feed(plaintext):
            count += 1
            yield record
        done += len(sealed)
        if progress is not None:
            progress(BundleProgress(stage, count, done, info.size))
    inflater.finish()
    if sha.hexdigest() != info.sha256:
        raise TamperedBundleError()


def _verify_payload(container: _Container, manifest: Manifest, payload_key: bytes, limits: Limits,
                    progress: ProgressCallback | None) -> tuple[tuple[bytes, ...], dict[str, dict[str, int]] | None]:
    """The full first pass: every chunk authenticated, every record parsed and matched against the manifest."""
    digests: list[bytes] = []
    coverage = _Coverage(manifest.kind)
    receipt: dict[str, dict[str, int]] | None = {} if manifest.kind is Kind.RECEIPT else None
    records = _records(container, manifest, payload_key, lambda _i, sealed: digests.append(_digest(sealed)),
                       max_line=limits.max_line_bytes, stage=Stage.VERIFY, progress=progress)
    for record in records:
        try:
            coverage.add(record)
        except ValueError as exc:
            raise MalformedBundleError() from exc
        if receipt is not None:
            receipt[record["scope"]] = dict(record["vv"])
    found = (tuple(sorted(coverage.scopes)), coverage.covered(), coverage.prerequisites(),
             coverage.transactions, coverage.changes)
    if found != (manifest.scopes, manifest.covered, manifest.prerequisites, manifest.transactions, manifest.changes):
        raise MalformedBundleError()
    return tuple(digests), receipt


def _digest(sealed: bytes) -> bytes:
    return hashlib.sha256(sealed).digest()


def _check_trust(keys: KeyStore, manifest: Manifest, allow_new_devices: bool) -> Trust:
    trust = keys.trust_status(manifest.source_site, manifest.device_public_key)
    if trust is Trust.REVOKED:
        raise RevokedDeviceError()
    if trust is Trust.CHANGED:
        raise DeviceKeyChangedError()
    if trust is Trust.NEW and not allow_new_devices:
        raise UnknownDeviceError()
    return trust


def _payload_key(keys: KeyStore, manifest: Manifest, expected_recipient: str | None, limits: Limits) -> bytes:
    """Check recipient, network and declared sizes; the key that opens this bundle's payload."""
    if expected_recipient is not None and manifest.recipient_site not in (None, expected_recipient):
        raise WrongRecipientError()
    network = keys.network_key()
    if manifest.payload.network_key_id != network.key_id:
        raise ForeignNetworkError()
    limit = limits.max_receipt_bytes if manifest.kind is Kind.RECEIPT else limits.max_uncompressed_bytes
    if manifest.payload.uncompressed_size > limit:
        raise BundleTooLargeError()
    return network.payload_key(manifest.payload.salt, manifest.bundle_id.bytes)


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle that passed every check; its records can now be read (streaming) and applied."""

    path: Path
    manifest: Manifest
    trust: Trust  # Trust.NEW: first bundle from this site (its device is now pinned, if asked)
    receipt: Mapping[str, Mapping[str, int]] | None  # kind=receipt: the sender's version vector per scope
    payload_key: bytes = field(repr=False)
    chunk_digests: tuple[bytes, ...] = field(repr=False)
    limits: Limits = field(repr=False, default=DEFAULT_LIMITS)

    @property
    def bundle_id(self) -> uuid.UUID:
        return self.manifest.bundle_id

    def transactions(self, progress: ProgressCallback | None = None) -> Iterator[dict[str, Any]]:
        """The records in the exporter's order, decrypted again chunk by chunk; each chunk must be the verified one.

        If the file was changed since :func:`open_bundle`, :class:`TamperedBundleError` is raised before the
        first record of the changed chunk: apply the records in one database transaction.
        """
        changed = "Le fichier a été modifié pendant l'import : recommencez l'import."

        def same_as_verified(index: int, sealed: bytes) -> None:
            if index >= len(self.chunk_digests) or _digest(sealed) != self.chunk_digests[index]:
                raise TamperedBundleError(changed)

        with _Container(self.path, self.limits) as container:
            if container.manifest_raw != self.manifest.raw:
                raise TamperedBundleError(changed)
            yield from _records(container, self.manifest, self.payload_key, same_as_verified,
                                max_line=self.limits.max_line_bytes, stage=Stage.READ, progress=progress)


def read_manifest(path: Path | str, *, limits: Limits = DEFAULT_LIMITS) -> Manifest:
    """The manifest of a bundle, its signature checked against its own device key (not yet against the trust
    store nor the network key: use it to show what a file is, then :func:`open_bundle` to import it)."""
    with _Container(Path(path), limits) as container:
        return _verified_manifest(container.manifest_raw, container.signature)


def open_bundle(path: Path | str, keys: KeyStore, *, expected_recipient: str | None = None,
                allow_new_devices: bool = True, pin_new_device: bool = True, limits: Limits = DEFAULT_LIMITS,
                progress: ProgressCallback | None = None) -> VerifiedBundle:
    """Check a bundle completely (see the module doc) and return it, or raise a :class:`BundleError`.

    A first bundle from an unknown site is accepted (trust on first use) unless ``allow_new_devices`` is
    false, and its device is then pinned, after every check passed, unless ``pin_new_device`` is false.
    """
    path = Path(path)
    with _Container(path, limits) as container:
        manifest = _verified_manifest(container.manifest_raw, container.signature)
        trust = _check_trust(keys, manifest, allow_new_devices)
        payload_key = _payload_key(keys, manifest, expected_recipient, limits)
        digests, receipt = _verify_payload(container, manifest, payload_key, limits, progress)
    if trust is Trust.NEW and pin_new_device:
        keys.pin(manifest.source_site, manifest.device_public_key)
    logger.info("bundle %s verified: %s from site %s, %d records", manifest.bundle_id, manifest.kind,
                manifest.source_site, manifest.transactions)
    return VerifiedBundle(path, manifest, trust, receipt, payload_key, digests, limits)
