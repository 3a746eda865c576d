"""Device signing keys and the network key that encrypts sync bundles, kept in plain files.

Two kinds of keys:

* **Device key** (Ed25519), one per database copy: it signs the manifest of every bundle that copy
  exports. Its public half travels in the manifest; people compare its *fingerprint*
  (``ABCD-EFGH-IJKL-MNOP``, 80 bits of SHA-256) over the phone when they first exchange bundles.
* **Network key** (32 random bytes), shared by the advisors of one territory who exchange bundles: the
  payload of a bundle is encrypted under a key derived from it (HKDF-SHA256, a fresh salt per bundle).
  It is created once by one advisor, exported as printable text (``ESSK-XXXX-…``: base32 of a version
  byte, the key and a 16-bit checksum, so a typo is caught) and given to the others by another channel
  (in person, phone, a separate message — never inside a bundle). A short *key id*, derived by HKDF and
  written in manifests, tells "this file comes from another network" apart from "this file was modified".

Trust model for device keys (trust on first use, pinned per site):

* The first valid bundle from a site id pins that site to the public key that signed it.
* A later bundle claiming the same site id with another key is refused (``Trust.CHANGED``): either the
  file is forged or the copy was moved without its keys; an administrator may :meth:`KeyStore.forget`
  the pin after checking the fingerprint with the colleague.
* A device can be revoked by fingerprint (lost laptop, departed advisor); its bundles are then refused
  whatever site id they claim. Revocation is local: each copy must be told (a known limit until the hub
  distributes the list).
* What this does not protect against: someone holding both the network key and a not-yet-pinned site id
  can introduce a new device; a pin is only as good as the first fingerprint check.

Storage: :class:`KeyStore` works on any machine, with or without an OS keyring, on a directory given by
the caller (one per database copy): ``device.key`` (PKCS#8 PEM, mode 0600), ``network.key`` (the printable
text, mode 0600), ``trust.json`` (pins and revocations). Files are replaced atomically. On Windows the
modes are best effort: the directory should sit in the user's profile.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ess_accompagnement.domain.errors import UserFacingError

logger = logging.getLogger(__name__)

NETWORK_KEY_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
_TEXT_PREFIX = "ESSK"
_TEXT_VERSION = 1
_CONFUSABLES = str.maketrans({"0": "O", "1": "I", "8": "B"})
DEVICE_KEY_FILE = "device.key"
NETWORK_KEY_FILE = "network.key"
TRUST_FILE = "trust.json"


class KeyStoreError(UserFacingError):
    """A key is missing, mistyped or unreadable."""


class NetworkKeyMissingError(KeyStoreError):
    def __init__(self) -> None:
        super().__init__("Aucune clé de réseau n'est configurée sur ce poste : importez celle de votre réseau.")


class NetworkKeyFormatError(KeyStoreError):
    """The text typed or pasted is not a network key (wrong length, letters or checksum)."""


class KeyFileError(KeyStoreError):
    """A key file exists but cannot be read or parsed."""


class Trust(StrEnum):
    """What the key store knows about a (site id, device public key) pair."""

    PINNED = "pinned"  # the site is pinned to this very key
    NEW = "new"  # first contact: the site is not pinned yet (trust on first use)
    CHANGED = "changed"  # the site is pinned to another key: refuse
    REVOKED = "revoked"  # the key was revoked: refuse


# ---- Fingerprints and signatures


def fingerprint(public_key: bytes) -> str:
    """A short, human-comparable fingerprint: 80 bits of SHA-256, base32 in four groups of four."""
    digest = hashlib.sha256(b"ess-sync device key\n" + public_key).digest()[:10]
    text = base64.b32encode(digest).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalize_fingerprint(text: str) -> str:
    """``text`` typed by a person (any case, spaces, dashes, 0/1/8 for O/I/B) in canonical form."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_CONFUSABLES)
    if len(raw) != 16:
        raise NetworkKeyFormatError("Une empreinte d'appareil compte 16 caractères (4 groupes de 4).")
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def verify_signature(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``data`` by ``public_key``."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class DeviceKey:
    """This copy's Ed25519 signing key."""

    private_key: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)


# ---- The network key


def _hkdf(secret: bytes, *, salt: bytes | None, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def _checksum(body: bytes) -> bytes:
    return hashlib.sha256(b"ESSK" + body).digest()[:2]


@dataclass(frozen=True)
class NetworkKey:
    """The symmetric key shared by the advisors of one network; never written into a bundle."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != NETWORK_KEY_BYTES:
            raise ValueError("a network key has 32 bytes")

    @classmethod
    def generate(cls) -> NetworkKey:
        return cls(secrets.token_bytes(NETWORK_KEY_BYTES))

    @property
    def key_id(self) -> str:
        """A public identifier (16 hex digits, one-way): tells networks apart without revealing the key."""
        return _hkdf(self.secret, salt=None, info=b"ess-sync/1 network key id", length=8).hex()

    def payload_key(self, salt: bytes, context: bytes) -> bytes:
        """The 256-bit key of one bundle's payload: HKDF-SHA256(network key, salt, context)."""
        return _hkdf(self.secret, salt=salt, info=b"ess-sync/1 payload\n" + context)

    def to_text(self) -> str:
        """Printable form: ``ESSK-`` then 14 groups of 4 base32 letters (version, key, checksum)."""
        body = bytes([_TEXT_VERSION]) + self.secret
        text = base64.b32encode(body + _checksum(body)).decode("ascii")
        return "-".join([_TEXT_PREFIX, *(text[i : i + 4] for i in range(0, len(text), 4))])

    @classmethod
    def from_text(cls, text: str) -> NetworkKey:
        """Parse :meth:`to_text` output, forgiving case, spaces, dashes and 0/1/8 typed for O/I/B."""
        raw = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_CONFUSABLES)
        raw = raw.removeprefix(_TEXT_PREFIX.translate(_CONFUSABLES))
        if len(raw) != 56:
            raise NetworkKeyFormatError("La clé de réseau n'a pas la bonne longueur : vérifiez qu'elle est complète.")
        try:
            data = base64.b32decode(raw)
        except ValueError as exc:
            raise NetworkKeyFormatError("La clé de réseau contient des caractères invalides.") from exc
        body, check = data[:-2], data[-2:]
        if not secrets.compare_digest(_checksum(body), check):
            raise NetworkKeyFormatError("La clé de réseau est mal saisie (somme de contrôle incorrecte).")
        if body[0] != _TEXT_VERSION:
            raise NetworkKeyFormatError("Cette clé de réseau vient d'une version plus récente de l'application.")
        return cls(body[1:])


# ---- Files


def _write_private(path: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Write ``data`` to ``path`` atomically, readable by the owner only (``mkstemp`` makes it 0600).

    With ``exclusive``, never replace an existing file: return False when ``path`` already exists.
    """
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # atomic and exclusive
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive enough for one user's app data
            if path.exists():
                return False
            os.replace(tmp, path)
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def _valid_trust(data: Any) -> bool:
    if not (isinstance(data, dict) and isinstance(data.get("pins"), dict) and isinstance(data.get("revoked"), list)):
        return False
    pins_ok = all(isinstance(entry, dict) and _is_key_hex(entry.get("public_key")) for entry in data["pins"].values())
    return pins_ok and all(isinstance(item, str) for item in data["revoked"])


def _is_key_hex(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 2 * PUBLIC_KEY_BYTES and all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True)
class TrustedDevice:
    """A pinned (site id, device key) pair, as shown in the synchronisation view."""

    site_id: str
    public_key: bytes
    first_seen: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)


class KeyStore:
    """The keys of one database copy, in files under ``directory`` (created with mode 0700)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    # ---- Device key

    def device_key(self) -> DeviceKey:
        """This copy's signing key, created on first use (two concurrent first uses agree on one)."""
        path = self.directory / DEVICE_KEY_FILE
        if not path.exists():
            self._create_device_key(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise KeyFileError("La clé de signature de ce poste est illisible (fichier device.key).") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError("La clé de signature de ce poste n'est pas une clé Ed25519 (fichier device.key).")
        return DeviceKey(key)

    def _create_device_key(self, path: Path) -> None:
        pem = DeviceKey.generate().private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        if _write_private(path, pem, exclusive=True):  # if another process won the race, keep its key
            logger.info("device key created")

    # ---- Network key

    def has_network_key(self) -> bool:
        return (self.directory / NETWORK_KEY_FILE).exists()

    def network_key(self) -> NetworkKey:
        path = self.directory / NETWORK_KEY_FILE
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise NetworkKeyMissingError() from None
        except (OSError, ValueError) as exc:
            raise KeyFileError("La clé de réseau de ce poste est illisible (fichier network.key).") from exc
        return NetworkKey.from_text(text)

    def set_network_key(self, key: NetworkKey) -> None:
        """Install (or replace) the network key; bundles of the previous network become unreadable."""
        _write_private(self.directory / NETWORK_KEY_FILE, (key.to_text() + "\n").encode("ascii"))
        logger.info("network key set (id %s)", key.key_id)

    # ---- Trust (pins and revocations)

    def _load_trust(self) -> dict[str, Any]:
        path = self.directory / TRUST_FILE
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {"pins": {}, "revoked": []}
        except (OSError, ValueError) as exc:
            raise KeyFileError("La liste des appareils reconnus est illisible (fichier trust.json).") from exc
        if not _valid_trust(data):
            raise KeyFileError("La liste des appareils reconnus est illisible (fichier trust.json).")
        return data

    def _save_trust(self, data: dict[str, Any]) -> None:
        _write_private(self.directory / TRUST_FILE, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))

    def trust_status(self, site_id: str, public_key: bytes) -> Trust:
        """Whether a bundle from ``site_id`` signed by ``public_key`` may be accepted (see module doc)."""
        data = self._load_trust()
        if fingerprint(public_key) in data["revoked"]:
            return Trust.REVOKED
        pinned = data["pins"].get(site_id)
        if pinned is None:
            return Trust.NEW
        return Trust.PINNED if pinned.get("public_key") == public_key.hex() else Trust.CHANGED

    def pin(self, site_id: str, public_key: bytes) -> None:
        """Pin ``site_id`` to ``public_key`` (no-op when already pinned to it)."""
        data = self._load_trust()
        current = data["pins"].get(site_id)
        if current is not None and current.get("public_key") != public_key.hex():
            raise ValueError(f"site {site_id} is pinned to another key; forget() it first")
        if current is None:
            now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            data["pins"][site_id] = {"public_key": public_key.hex(), "first_seen": now}
            self._save_trust(data)
            logger.info("site %s pinned to device %s", site_id, fingerprint(public_key))

    def forget(self, site_id: str) -> None:
        """Drop the pin of ``site_id`` (after checking the new fingerprint with the colleague)."""
        data = self._load_trust()
        if data["pins"].pop(site_id, None) is not None:
            self._save_trust(data)
            logger.info("pin of site %s forgotten", site_id)

    def revoke(self, device_fingerprint: str) -> None:
        """Refuse from now on every bundle signed by the device with this fingerprint."""
        canonical = normalize_fingerprint(device_fingerprint)
        data = self._load_trust()
        if canonical not in data["revoked"]:
            data["revoked"] = sorted([*data["revoked"], canonical])
            self._save_trust(data)
            logger.info("device %s revoked", canonical)

    def revoked_fingerprints(self) -> frozenset[str]:
        return frozenset(self._load_trust()["revoked"])

    def trusted_devices(self) -> list[TrustedDevice]:
        """The pinned devices, by site id."""
        pins = self._load_trust()["pins"]
        return [
            TrustedDevice(site, bytes.fromhex(entry["public_key"]), entry.get("first_seen", ""))
            for site, entry in sorted(pins.items())
        ]
