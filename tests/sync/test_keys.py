"""Device keys, the network key's printable form, and the trust store (pins and revocations)."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest

from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.sync.keys import (
    DeviceKey,
    KeyFileError,
    KeyStore,
    NetworkKey,
    NetworkKeyFormatError,
    NetworkKeyMissingError,
    Trust,
    fingerprint,
    normalize_fingerprint,
    verify_signature,
)

FIXED = NetworkKey(bytes(range(32)))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- Network key text


def test_network_key_text_round_trip() -> None:
    # GIVEN a network key WHEN it is written as text and read back THEN it is the same key
    key = NetworkKey.generate()
    text = key.to_text()
    assert text.startswith("ESSK-")
    assert [len(group) for group in text.split("-")[1:]] == [4] * 14
    assert NetworkKey.from_text(text) == key


def test_network_key_text_forgives_case_spaces_and_confusables() -> None:
    text = FIXED.to_text()
    sloppy = " ".join(text.lower().split("-")[1:]).replace("o", "0").replace("i", "1")
    assert NetworkKey.from_text(sloppy) == FIXED
    assert NetworkKey.from_text(text.replace("-", "")) == FIXED


def test_every_single_letter_typo_is_caught() -> None:
    # GIVEN the text of a fixed key WHEN any one letter is replaced by another THEN the checksum refuses it
    body = FIXED.to_text().removeprefix("ESSK-").replace("-", "")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    for position, original in enumerate(body):
        for letter in alphabet.replace(original, ""):
            typo = body[:position] + letter + body[position + 1 :]
            with pytest.raises(NetworkKeyFormatError):
                NetworkKey.from_text(typo)


@pytest.mark.parametrize("text", ["", "ESSK-ABCD", "ESSK-" + "A" * 57, "ESSK-" + "!" * 56, "ESSK-" + "9" * 56])
def test_malformed_network_key_text_is_a_user_facing_error(text: str) -> None:
    with pytest.raises(NetworkKeyFormatError) as caught:
        NetworkKey.from_text(text)
    assert isinstance(caught.value, UserFacingError)


def test_newer_network_key_version_is_refused() -> None:
    body = bytes([2]) + FIXED.secret
    encoded = base64.b32encode(body + hashlib.sha256(b"ESSK" + body).digest()[:2]).decode()
    with pytest.raises(NetworkKeyFormatError, match="plus récente"):
        NetworkKey.from_text(encoded)


def test_key_id_and_payload_keys() -> None:
    other = NetworkKey.generate()
    assert len(FIXED.key_id) == 16 and FIXED.key_id == NetworkKey(bytes(range(32))).key_id
    assert FIXED.key_id != other.key_id
    salt = bytes(32)
    assert FIXED.payload_key(salt, b"a") != FIXED.payload_key(salt, b"b")
    assert FIXED.payload_key(salt, b"a") != FIXED.payload_key(b"\x01" * 32, b"a")
    assert FIXED.payload_key(salt, b"a") != other.payload_key(salt, b"a")


def test_secrets_do_not_leak_in_repr() -> None:
    assert FIXED.secret.hex() not in repr(FIXED)
    assert "private_key" not in repr(DeviceKey.generate())


def test_network_key_must_have_32_bytes() -> None:
    with pytest.raises(ValueError):
        NetworkKey(b"short")


# ---- Device keys, fingerprints, signatures


def test_fingerprint_is_short_and_stable() -> None:
    key = DeviceKey.generate()
    assert len(key.fingerprint) == 19 and key.fingerprint.count("-") == 3
    assert fingerprint(key.public_key) == key.fingerprint
    assert normalize_fingerprint(key.fingerprint.lower().replace("-", " ")) == key.fingerprint
    with pytest.raises(NetworkKeyFormatError):
        normalize_fingerprint("ABCD-EFGH")


def test_signature_verification() -> None:
    key = DeviceKey.generate()
    signature = key.sign(b"data")
    assert verify_signature(key.public_key, signature, b"data")
    assert not verify_signature(key.public_key, signature, b"datA")
    assert not verify_signature(DeviceKey.generate().public_key, signature, b"data")
    assert not verify_signature(key.public_key[:5], signature, b"data")
    assert not verify_signature(key.public_key, signature[:-1], b"data")
    assert not verify_signature(bytes(32), bytes(64), b"data")  # not a valid curve point: False, no exception


# ---- Key store files


def test_device_key_is_created_once_private_and_reloaded(tmp_path: Path) -> None:
    # GIVEN an empty directory WHEN the device key is asked twice, from two stores THEN it is the same key
    store = KeyStore(tmp_path / "keys")
    first = store.device_key()
    assert KeyStore(tmp_path / "keys").device_key().public_key == first.public_key
    assert _mode(tmp_path / "keys" / "device.key") == 0o600
    assert _mode(tmp_path / "keys") == 0o700
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["device.key"]  # no temp file left


def test_corrupt_device_key_is_a_key_file_error(tmp_path: Path) -> None:
    (tmp_path / "device.key").write_bytes(b"not a key")
    with pytest.raises(KeyFileError):
        KeyStore(tmp_path).device_key()


def test_network_key_storage(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    assert not store.has_network_key()
    with pytest.raises(NetworkKeyMissingError):
        store.network_key()
    key = NetworkKey.generate()
    store.set_network_key(key)
    assert store.has_network_key() and store.network_key() == key
    assert _mode(tmp_path / "network.key") == 0o600
    assert key.secret.hex() not in (tmp_path / "network.key").read_text()  # stored as the printable text
    replacement = NetworkKey.generate()
    store.set_network_key(replacement)
    assert KeyStore(tmp_path).network_key() == replacement


# ---- Trust on first use, pins, revocations


def test_trust_on_first_use_then_pinned(tmp_path: Path) -> None:
    store, device, other = KeyStore(tmp_path), DeviceKey.generate(), DeviceKey.generate()
    assert store.trust_status("site-a", device.public_key) is Trust.NEW
    store.pin("site-a", device.public_key)
    store.pin("site-a", device.public_key)  # idempotent
    assert store.trust_status("site-a", device.public_key) is Trust.PINNED
    assert store.trust_status("site-a", other.public_key) is Trust.CHANGED
    assert store.trust_status("site-b", other.public_key) is Trust.NEW
    with pytest.raises(ValueError):
        store.pin("site-a", other.public_key)
    [pinned] = store.trusted_devices()
    assert (pinned.site_id, pinned.fingerprint) == ("site-a", device.fingerprint) and pinned.first_seen


def test_forget_allows_a_new_key(tmp_path: Path) -> None:
    store, old, new = KeyStore(tmp_path), DeviceKey.generate(), DeviceKey.generate()
    store.pin("site-a", old.public_key)
    store.forget("site-a")
    store.forget("site-a")
    assert store.trust_status("site-a", new.public_key) is Trust.NEW


def test_revocation_wins_over_pins_and_sites(tmp_path: Path) -> None:
    store, device = KeyStore(tmp_path), DeviceKey.generate()
    store.pin("site-a", device.public_key)
    store.revoke(device.fingerprint.lower())
    store.revoke(device.fingerprint)
    assert store.revoked_fingerprints() == {device.fingerprint}
    assert store.trust_status("site-a", device.public_key) is Trust.REVOKED
    assert KeyStore(tmp_path).trust_status("site-z", device.public_key) is Trust.REVOKED
    assert _mode(tmp_path / "trust.json") == 0o600


@pytest.mark.parametrize("content", [b"{", b"[]", b'{"pins": [], "revoked": []}', b'{"pins": {"a": 1}, "revoked": []}',
                                     b'{"pins": {"a": {"public_key": "zz"}}, "revoked": []}'])
def test_corrupt_trust_file_is_a_key_file_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "trust.json").write_bytes(content)
    with pytest.raises(KeyFileError):
        KeyStore(tmp_path).trust_status("site-a", DeviceKey.generate().public_key)
