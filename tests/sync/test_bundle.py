"""Sync bundles: round trips, manifests, and P-bundle-integrity (sync.md Part D, property 9).

Every transaction here is synthetic (generated ids and words), never a real name.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import textwrap
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ess_accompagnement.sync.bundle import (  # the canonical layout, to forge files
    SIGNATURE_CONTEXT,
    BundleError,
    BundleProgress,
    BundleReadError,
    BundleTooLargeError,
    BundleWriter,
    DeviceKeyChangedError,
    ForeignNetworkError,
    Kind,
    Limits,
    MalformedBundleError,
    Manifest,
    NotABundleError,
    RevokedDeviceError,
    Stage,
    TamperedBundleError,
    TruncatedBundleError,
    UnknownDeviceError,
    UnsupportedVersionError,
    VerifiedBundle,
    WrongRecipientError,
    _layout,
    _local_header,
    open_bundle,
    read_manifest,
    write_receipt,
)
from ess_accompagnement.sync.keys import DeviceKey, KeyStore, NetworkKey, NetworkKeyMissingError, Trust

SCOPE = "structure:" + "5" * 32
SITE_A, SITE_B = "a" * 32, "b" * 32
WORDS = ["projet", "atelier", "collectif", "cooperative", "tiers-lieu", "recyclerie", "epicerie", "jardin"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def synthetic_txs(count: int, *, seed: int = 0, sites: tuple[str, ...] = (SITE_A, SITE_B),
                  scope: str = SCOPE) -> Iterator[dict[str, Any]]:
    """Transactions shaped like the engine's (codec.py), with generated ids and words only."""
    rng = random.Random(seed)
    seqs = dict.fromkeys(sites, 0)
    for i in range(count):
        site = sites[i % len(sites)]
        seqs[site] += 1
        changes = [["project", f"{rng.getrandbits(128):032x}", col, f"{rng.choice(WORDS)} {rng.randint(1, 9999)}"]
                   for col in rng.sample(["title", "description", "commune", "status", "phase"], 3)]
        yield {"v": 1, "scope": scope, "site": site, "seq": seqs[site], "hlc": (1_700_000_000_000 + i) << 16,
               "deps": {s: n for s, n in seqs.items() if n and s != site} | {site: seqs[site] - 1},
               "author": None, "structure": None, "schema": 2, "prev_hash": f"{rng.getrandbits(256):064x}",
               "changes": changes, "tx_hash": f"{rng.getrandbits(256):064x}"}


def write(path: Path, keys: KeyStore, txs: Iterator[dict[str, Any]] | list[dict[str, Any]], **options: Any) -> Manifest:
    options = {"source_site": SITE_A, "created_hlc": 42 << 16, "schema_version": 2} | options
    with BundleWriter(path, keys, **options) as writer:
        for tx in txs:
            writer.add(tx)
    assert writer.manifest is not None
    return writer.manifest


def store(directory: Path, network: NetworkKey) -> KeyStore:
    keys = KeyStore(directory)
    keys.set_network_key(network)
    return keys


@pytest.fixture
def network() -> NetworkKey:
    return NetworkKey.generate()


@pytest.fixture
def sender(tmp_path: Path, network: NetworkKey) -> KeyStore:
    return store(tmp_path / "sender", network)


@pytest.fixture
def receiver(tmp_path: Path, network: NetworkKey) -> KeyStore:
    return store(tmp_path / "receiver", network)


# ---- Helpers that take a bundle apart and put it back together (the attacker's tools)


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def assemble(path: Path, parts: list[tuple[str, bytes]], compression: int | None = None) -> Path:
    """Write ``parts`` as the writer would (canonical layout), or with ``zipfile`` when a compression is given."""
    if compression is None:
        body = b"".join(_local_header(name, zlib.crc32(data), len(data)) + data for name, data in parts)
        segments, _ = _layout([(name, zlib.crc32(data), len(data)) for name, data in parts])
        path.write_bytes(body + segments[-1][1])
        return path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the attacks
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for name, data in parts:
                archive.writestr(name, data)
    return path


def resign(src: Path, dst: Path, device: DeviceKey, edit: Callable[[dict[str, Any]], None],
           payload: bytes | None = None) -> Path:
    """A copy of ``src`` whose manifest was edited and signed again by ``device``."""
    parts = entries(src)
    manifest = json.loads(parts["manifest.json"])
    if payload is not None:
        parts["payload.bin"] = payload
        manifest["payload"]["size"] = len(payload)
        manifest["payload"]["sha256"] = hashlib.sha256(payload).hexdigest()
    edit(manifest)
    raw = json.dumps(manifest).encode()
    return assemble(dst, [("mimetype", parts["mimetype"]), ("payload.bin", parts["payload.bin"]),
                          ("manifest.json", raw), ("manifest.sig", device.sign(SIGNATURE_CONTEXT + raw))])


def chunks(path: Path) -> list[bytes]:
    manifest = read_manifest(path)
    payload, full = entries(path)["payload.bin"], manifest.payload.chunk_size + 16
    return [payload[i : i + full] for i in range(0, len(payload), full)]


# ---- Round trips


def test_round_trip_of_thousands_of_transactions(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    # GIVEN 3 000 synthetic transactions from two sites WHEN written then opened by a colleague
    txs = list(synthetic_txs(3000))
    manifest = write(tmp_path / "out.essync", sender, txs, chunk_size=64 * 1024)
    bundle = open_bundle(tmp_path / "out.essync", receiver)
    # THEN every transaction comes back, in order, and the manifest describes them
    assert list(bundle.transactions()) == txs
    assert list(bundle.transactions()) == txs  # a second reading is the same
    assert bundle.manifest == manifest and bundle.manifest.raw == manifest.raw
    assert manifest.kind is Kind.CHANGES and manifest.scopes == (SCOPE,)
    assert manifest.covered == {SCOPE: {SITE_A: ((1, 1500),), SITE_B: ((1, 1500),)}}
    assert manifest.prerequisites == {} and (manifest.transactions, manifest.changes) == (3000, 9000)
    assert manifest.payload.chunks > 1 and manifest.device_fingerprint == sender.device_key().fingerprint
    assert bundle.trust is Trust.NEW and receiver.trust_status(SITE_A, manifest.device_public_key) is Trust.PINNED
    assert open_bundle(tmp_path / "out.essync", receiver).trust is Trust.PINNED


def test_manifest_has_no_personal_data(tmp_path: Path, sender: KeyStore) -> None:
    txs = list(synthetic_txs(50))
    manifest = write(tmp_path / "out.essync", sender, txs)
    text = manifest.raw.decode()
    assert not any(word in text for word in WORDS) and json.loads(text)["format"] == "ess-sync/1"
    assert not any(word.encode() in (tmp_path / "out.essync").read_bytes() for word in WORDS)  # encrypted


def test_empty_bundle(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    manifest = write(tmp_path / "empty.essync", sender, [])
    bundle = open_bundle(tmp_path / "empty.essync", receiver)
    assert list(bundle.transactions()) == []
    assert (manifest.scopes, manifest.transactions, manifest.covered, manifest.payload.chunks) == ((), 0, {}, 1)


def test_receipt_bundle(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    # GIVEN the receiver acknowledges what it has WHEN its receipt is opened by the sender
    vv = {SCOPE: {SITE_A: 1500, SITE_B: 7}, "catalogue": {SITE_A: 3}}
    manifest = write_receipt(tmp_path / "receipt.essync", receiver, source_site=SITE_B, recipient_site=SITE_A,
                             created_hlc=7, schema_version=2, vv_by_scope=vv)
    bundle = open_bundle(tmp_path / "receipt.essync", sender, expected_recipient=SITE_A)
    # THEN it carries the version vectors, and nothing else
    assert manifest.kind is Kind.RECEIPT and bundle.receipt == vv and manifest.scopes == ("catalogue", SCOPE)
    assert manifest.covered == {} and [r["scope"] for r in bundle.transactions()] == ["catalogue", SCOPE]
    with pytest.raises(WrongRecipientError):
        open_bundle(tmp_path / "receipt.essync", sender, expected_recipient=SITE_B)
    with pytest.raises(BundleTooLargeError):
        open_bundle(tmp_path / "receipt.essync", sender, limits=Limits(max_receipt_bytes=10))


def test_progress_is_reported_while_writing_and_reading(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    seen: list[BundleProgress] = []
    manifest = write(tmp_path / "out.essync", sender, synthetic_txs(2000), chunk_size=8192, progress=seen.append)
    exported = [p for p in seen if p.stage is Stage.EXPORT]
    assert len(exported) == manifest.payload.chunks and exported[-1].bytes_done == manifest.payload.size
    assert exported[-1].transactions == 2000
    bundle = open_bundle(tmp_path / "out.essync", receiver, progress=seen.append)
    sum(1 for _ in bundle.transactions(progress=seen.append))
    for stage in (Stage.VERIFY, Stage.READ):
        steps = [p for p in seen if p.stage is stage]
        assert [p.bytes_done for p in steps] == sorted(p.bytes_done for p in steps)
        assert (steps[-1].bytes_done, steps[-1].bytes_total, steps[-1].transactions) == (
            manifest.payload.size, manifest.payload.size, 2000)


def test_prerequisites_and_ranges(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    # GIVEN site A's seqs 3, 5, 4, 7 out of order, and deps on B up to 4 WHEN bundled
    txs = [{"scope": SCOPE, "site": SITE_A, "seq": seq, "deps": {SITE_B: 4} if seq == 7 else {}, "changes": []}
           for seq in (3, 5, 4, 7)] + [{"scope": "other", "site": SITE_B, "seq": 1, "deps": {}, "changes": [[1]]}]
    manifest = write(tmp_path / "out.essync", sender, txs)
    # THEN ranges are merged, and the receiver must have A up to 6 (a gap) and B up to 4 first
    assert manifest.covered == {SCOPE: {SITE_A: ((3, 5), (7, 7))}, "other": {SITE_B: ((1, 1),)}}
    assert manifest.prerequisites == {SCOPE: {SITE_A: 6, SITE_B: 4}}
    assert open_bundle(tmp_path / "out.essync", receiver).manifest.prerequisites == manifest.prerequisites


def test_bundle_ids_are_exposed_for_replay_detection(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    first = write(tmp_path / "1.essync", sender, synthetic_txs(3))
    second = write(tmp_path / "2.essync", sender, synthetic_txs(3))
    assert first.bundle_id != second.bundle_id and first.bundle_id.version == 7
    assert read_manifest(tmp_path / "1.essync").bundle_id == first.bundle_id
    assert open_bundle(tmp_path / "1.essync", receiver).bundle_id == first.bundle_id


# ---- The writer never leaves a half-written file


def test_error_while_writing_leaves_nothing(tmp_path: Path, sender: KeyStore) -> None:
    target = tmp_path / "out" / "x.essync"
    target.parent.mkdir()
    with pytest.raises(RuntimeError), BundleWriter(target, sender, source_site=SITE_A, created_hlc=1,
                                                   schema_version=2, chunk_size=1024) as writer:
        for tx in synthetic_txs(500):
            writer.add(tx)
        raise RuntimeError("disk full")
    assert list(target.parent.iterdir()) == []


def test_failure_while_finishing_leaves_nothing(tmp_path: Path, sender: KeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an existing bundle at the destination WHEN the disk fails while the new one is being finished
    write(tmp_path / "x.essync", sender, synthetic_txs(5))
    before = (tmp_path / "x.essync").read_bytes()

    def disk_full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ess_accompagnement.sync.bundle.os.fsync", disk_full)
    with pytest.raises(OSError):
        write(tmp_path / "x.essync", sender, synthetic_txs(50))
    # THEN the old file is intact and no temporary file is left
    assert (tmp_path / "x.essync").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sender", "x.essync"]


@pytest.mark.parametrize("bad", [{"site": SITE_A, "seq": 1}, {"scope": SCOPE, "seq": 1}, {"scope": SCOPE, "site": SITE_A},
                                 {"scope": SCOPE, "site": SITE_A, "seq": True}, {"scope": SCOPE, "site": SITE_A, "seq": 0}])
def test_writer_refuses_records_the_manifest_cannot_describe(tmp_path: Path, sender: KeyStore, bad: dict) -> None:
    with pytest.raises(ValueError), BundleWriter(tmp_path / "x.essync", sender, source_site=SITE_A, created_hlc=1,
                                                 schema_version=2) as writer:
        writer.add(bad)
    assert list(tmp_path.glob("*.essync*")) == [] and list(tmp_path.glob(".x.essync*")) == []


def test_writer_refuses_a_duplicate_and_an_unserialisable_record(tmp_path: Path, sender: KeyStore) -> None:
    tx = next(synthetic_txs(1))
    with pytest.raises(ValueError), BundleWriter(tmp_path / "x.essync", sender, source_site=SITE_A, created_hlc=1,
                                                 schema_version=2) as writer:
        writer.add(tx)
        writer.add(tx)
    with pytest.raises(TypeError), BundleWriter(tmp_path / "x.essync", sender, source_site=SITE_A, created_hlc=1,
                                                schema_version=2) as writer:
        writer.add(tx | {"changes": [object()]})
    assert list(tmp_path.iterdir()) == [tmp_path / "sender"]


def test_writing_over_an_existing_file_replaces_it(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(5))
    second = write(tmp_path / "x.essync", sender, synthetic_txs(9))
    assert open_bundle(tmp_path / "x.essync", receiver).bundle_id == second.bundle_id


# ---- Keys and devices


def test_wrong_network_key(tmp_path: Path, sender: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(5))
    stranger = store(tmp_path / "stranger", NetworkKey.generate())
    with pytest.raises(ForeignNetworkError, match="autre réseau"):
        open_bundle(tmp_path / "x.essync", stranger)
    assert stranger.trusted_devices() == []
    with pytest.raises(NetworkKeyMissingError):
        open_bundle(tmp_path / "x.essync", KeyStore(tmp_path / "no-network"))


def test_unknown_device_without_trust_on_first_use(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(5))
    with pytest.raises(UnknownDeviceError, match="n'est pas reconnu"):
        open_bundle(tmp_path / "x.essync", receiver, allow_new_devices=False)
    assert open_bundle(tmp_path / "x.essync", receiver, pin_new_device=False).trust is Trust.NEW
    assert receiver.trusted_devices() == []


def test_revoked_device(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(5))
    open_bundle(tmp_path / "x.essync", receiver)
    receiver.revoke(sender.device_key().fingerprint)
    with pytest.raises(RevokedDeviceError, match="révoqué"):
        open_bundle(tmp_path / "x.essync", receiver)


def test_changed_device_key_for_a_pinned_site(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    # GIVEN site A is pinned WHEN a bundle claims site A but is signed by another device (even a valid one)
    write(tmp_path / "x.essync", sender, synthetic_txs(5))
    open_bundle(tmp_path / "x.essync", receiver)
    impostor = DeviceKey.generate()

    def claim(manifest: dict[str, Any]) -> None:
        manifest["device"] = {"public_key": impostor.public_key.hex(), "fingerprint": impostor.fingerprint}

    forged = resign(tmp_path / "x.essync", tmp_path / "forged.essync", impostor, claim)
    # THEN it is refused
    with pytest.raises(DeviceKeyChangedError):
        open_bundle(forged, receiver)


def test_no_pin_when_verification_fails(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(50), chunk_size=1024)
    data = bytearray((tmp_path / "x.essync").read_bytes())
    data[200] ^= 0x01  # inside the payload
    (tmp_path / "x.essync").write_bytes(bytes(data))
    with pytest.raises(TamperedBundleError):
        open_bundle(tmp_path / "x.essync", receiver)
    assert receiver.trusted_devices() == []


# ---- Edited, spliced, foreign and oversize files


def test_edited_manifest_fails_the_signature(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(5))
    parts = entries(tmp_path / "x.essync")
    edited = parts["manifest.json"].replace(b'"transactions": 5', b'"transactions": 6')
    assert edited != parts["manifest.json"]
    assemble(tmp_path / "y.essync", [*(parts | {"manifest.json": edited}).items()])
    with pytest.raises(TamperedBundleError, match="modifié"):
        open_bundle(tmp_path / "y.essync", receiver)


def test_signature_of_another_bundle(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(5))
    write(tmp_path / "z.essync", sender, synthetic_txs(5))
    parts = entries(tmp_path / "x.essync") | {"manifest.sig": entries(tmp_path / "z.essync")["manifest.sig"]}
    with pytest.raises(TamperedBundleError):
        open_bundle(assemble(tmp_path / "y.essync", [*parts.items()]), receiver)


def test_payload_replaced_by_another_bundles(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(5, seed=1))
    write(tmp_path / "z.essync", sender, synthetic_txs(5, seed=2))
    parts = entries(tmp_path / "x.essync") | {"payload.bin": entries(tmp_path / "z.essync")["payload.bin"]}
    with pytest.raises(TamperedBundleError):
        open_bundle(assemble(tmp_path / "y.essync", [*parts.items()]), receiver)


def test_streaming_aead_refuses_reordered_dropped_or_foreign_chunks(tmp_path: Path, sender: KeyStore,
                                                                    receiver: KeyStore) -> None:
    # GIVEN a signer who re-signs the manifest (so SHA-256 and sizes match): only the chunk AEAD can object
    write(tmp_path / "x.essync", sender, synthetic_txs(300), chunk_size=1024)
    write(tmp_path / "z.essync", sender, synthetic_txs(300), chunk_size=1024)
    mine, other, device = chunks(tmp_path / "x.essync"), chunks(tmp_path / "z.essync"), sender.device_key()
    assert len(mine) > 3

    def keep(_manifest: dict[str, Any]) -> None:
        pass

    def drop_last(manifest: dict[str, Any]) -> None:
        manifest["payload"]["chunks"] -= 1

    attacks = {
        "swapped": (b"".join([mine[1], mine[0], *mine[2:]]), keep),
        "foreign chunk": (b"".join([other[0], *mine[1:]]), keep),
        "duplicated": (b"".join([mine[0], mine[0], *mine[2:]]), keep),
        "final chunk dropped": (b"".join(mine[:-1]), drop_last),
    }
    open_bundle(tmp_path / "x.essync", receiver)  # pin the device: the attacks are "signed by a known device"
    for name, (payload, edit) in attacks.items():
        forged = resign(tmp_path / "x.essync", tmp_path / f"{name}.essync", device, edit, payload)
        with pytest.raises(TamperedBundleError):
            open_bundle(forged, receiver)


@pytest.mark.parametrize(("edit", "error"), [
    (lambda m: m.update(format="ess-sync/2"), UnsupportedVersionError),
    (lambda m: m.update(format="autre-format/1"), NotABundleError),
    (lambda m: m.pop("counts"), MalformedBundleError),
    (lambda m: m["counts"].update(transactions=99), MalformedBundleError),
    (lambda m: m["covered"][SCOPE].update({SITE_A: [[1, 9]]}), MalformedBundleError),
    (lambda m: m.update(prerequisites={SCOPE: {SITE_B: 1}}), MalformedBundleError),
    (lambda m: m.update(scopes=[]), MalformedBundleError),
    (lambda m: m["payload"].update(chunk_size=16), MalformedBundleError),
    (lambda m: m["payload"].update(aead="none"), MalformedBundleError),
    (lambda m: m.update(kind="snapshot"), MalformedBundleError),
    (lambda m: m.update(bundle_id="not-a-uuid"), MalformedBundleError),
    (lambda m: m["device"].update(fingerprint="AAAA-AAAA-AAAA-AAAA"), MalformedBundleError),
    (lambda m: m["payload"].update(uncompressed_size=m["payload"]["uncompressed_size"] - 1), MalformedBundleError),
    (lambda m: m["payload"].update(uncompressed_size=m["payload"]["uncompressed_size"] + 1), MalformedBundleError),
    (lambda m: m["payload"].update(network_key_id="0" * 16), ForeignNetworkError),
    (lambda m: m["payload"].update(salt="00" * 32), TamperedBundleError),
    (lambda m: m.update(bundle_id="01900000-0000-7000-8000-000000000000"), TamperedBundleError),
    (lambda m: m.update(recipient_site=SITE_A), WrongRecipientError),
])
def test_signed_but_wrong_manifests(tmp_path: Path, sender: KeyStore, receiver: KeyStore,
                                    edit: Callable[[dict[str, Any]], None], error: type[BundleError]) -> None:
    # GIVEN a manifest changed and re-signed by the known device WHEN opened THEN the precise error, no exception else
    write(tmp_path / "x.essync", sender, synthetic_txs(20))
    forged = resign(tmp_path / "x.essync", tmp_path / "forged.essync", sender.device_key(), edit)
    with pytest.raises(error):
        open_bundle(forged, receiver, expected_recipient=SITE_B)


@pytest.mark.parametrize(("content", "error"), [
    (b"", TruncatedBundleError),
    (b"PK", TruncatedBundleError),
    (b"%PDF-1.7\n" + bytes(500), NotABundleError),
    (b"PK\x05\x06" + bytes(18), NotABundleError),
])
def test_foreign_or_empty_files(tmp_path: Path, receiver: KeyStore, content: bytes, error: type[BundleError]) -> None:
    (tmp_path / "f.essync").write_bytes(content)
    with pytest.raises(error):
        open_bundle(tmp_path / "f.essync", receiver)


def test_an_ordinary_zip_is_not_a_bundle(tmp_path: Path) -> None:
    assemble(tmp_path / "f.essync", [("notes.txt", b"hello"), ("mimetype", b"application/zip")])
    with pytest.raises(NotABundleError, match="n'est pas un fichier de synchronisation"):
        read_manifest(tmp_path / "f.essync")


def test_missing_file_or_directory(tmp_path: Path, receiver: KeyStore) -> None:
    for path in (tmp_path / "absent.essync", tmp_path):
        with pytest.raises(BundleReadError):
            open_bundle(path, receiver)


def test_zip_structure_attacks(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(20))
    parts = [*entries(tmp_path / "x.essync").items()]
    attacks = {
        "deflated": assemble(tmp_path / "a.essync", parts, zipfile.ZIP_DEFLATED),
        "written by zipfile": assemble(tmp_path / "g.essync", parts, zipfile.ZIP_STORED),
        "entries reordered": assemble(tmp_path / "h.essync", [parts[0], parts[2], parts[1], parts[3]]),
        "extra entry": assemble(tmp_path / "b.essync", [*parts, ("../../evil", b"x")]),
        "duplicate entry": assemble(tmp_path / "c.essync", [*parts, parts[2]]),
        "missing signature": assemble(tmp_path / "d.essync", parts[:3]),
        "signature too long": assemble(tmp_path / "e.essync", [*parts[:3], ("manifest.sig", parts[3][1] + b"x")]),
        "wrong mimetype content": assemble(tmp_path / "f.essync", [("mimetype", b"application/vnd.ess-accompagnement.synC"),
                                                                     *parts[1:]]),
    }
    for name, path in attacks.items():
        with pytest.raises(BundleError) as caught:
            open_bundle(path, receiver)
        assert isinstance(caught.value, TamperedBundleError | NotABundleError), name


def test_oversize_files_and_entries(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(20))
    size = (tmp_path / "x.essync").stat().st_size
    for limits in (Limits(max_file_bytes=size - 1), Limits(max_manifest_bytes=100), Limits(max_uncompressed_bytes=100)):
        with pytest.raises(BundleTooLargeError):
            open_bundle(tmp_path / "x.essync", receiver, limits=limits)


def test_decompression_bomb_and_huge_line_stay_bounded(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    # GIVEN one 30 MB record of zeros (compresses to ~30 KB), then a manifest that under-declares it
    bomb = {"scope": SCOPE, "site": SITE_A, "seq": 1, "deps": {}, "changes": [], "blob": "0" * (30 << 20)}
    write(tmp_path / "bomb.essync", sender, [bomb])
    assert (tmp_path / "bomb.essync").stat().st_size < 100_000
    # THEN a line limit stops it while streaming, and a lying size is caught as soon as it is exceeded
    with pytest.raises(BundleTooLargeError):
        open_bundle(tmp_path / "bomb.essync", receiver, limits=Limits(max_line_bytes=1 << 20))

    def under_declare(manifest: dict[str, Any]) -> None:
        manifest["payload"]["uncompressed_size"] = 1000

    forged = resign(tmp_path / "bomb.essync", tmp_path / "forged.essync", sender.device_key(), under_declare)
    with pytest.raises(MalformedBundleError):
        open_bundle(forged, receiver)


def test_file_changed_between_verification_and_reading(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(300), chunk_size=1024)
    bundle = open_bundle(tmp_path / "x.essync", receiver)
    # WHEN another valid bundle is swapped in THEN reading refuses before yielding anything
    write(tmp_path / "x.essync", sender, synthetic_txs(300, seed=9), chunk_size=1024)
    with pytest.raises(TamperedBundleError, match="pendant l'import"):
        next(bundle.transactions())


def test_chunk_changed_between_verification_and_reading(tmp_path: Path, sender: KeyStore, receiver: KeyStore) -> None:
    write(tmp_path / "x.essync", sender, synthetic_txs(300), chunk_size=1024)
    bundle = open_bundle(tmp_path / "x.essync", receiver)
    data = bytearray((tmp_path / "x.essync").read_bytes())
    data[3000] ^= 0x80
    (tmp_path / "x.essync").write_bytes(bytes(data))
    with pytest.raises(BundleError):
        list(bundle.transactions())


# ---- P-bundle-integrity, fuzzed: any damage is refused with a BundleError, or changes nothing


@dataclass
class World:
    """One small multi-chunk bundle, and a receiver that never pins (stays pristine)."""

    data: bytes
    txs: list[dict[str, Any]]
    manifest: Manifest
    receiver: KeyStore
    scratch: Path
    regions: list[tuple[int, int]]  # where each entry's bytes lie in the file

    def open(self, data: bytes) -> VerifiedBundle | BundleError:
        self.scratch.write_bytes(data)
        try:
            bundle = open_bundle(self.scratch, self.receiver, pin_new_device=False)
        except BundleError as error:
            return error
        assert self.receiver.trusted_devices() == []
        return bundle

    def refuse(self, data: bytes) -> BundleError:
        """Open ``data``, which must be refused with a BundleError and a message (no other exception, no result)."""
        result = self.open(data)
        assert isinstance(result, BundleError), "a damaged file was accepted"
        assert str(result) and "Traceback" not in str(result)
        return result


def _regions(path: Path) -> list[tuple[int, int]]:
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        spans = []
        for info in archive.infolist():
            name_len, extra_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"), \
                int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
            start = info.header_offset + 30 + name_len + extra_len
            spans.append((start, start + info.compress_size))
    return spans


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    base, network = tmp_path_factory.mktemp("world"), NetworkKey.generate()
    txs = list(synthetic_txs(120, seed=7))
    manifest = write(base / "world.essync", store(base / "sender", network), txs, chunk_size=1024)
    assert manifest.payload.chunks >= 4
    return World((base / "world.essync").read_bytes(), txs, manifest, store(base / "receiver", network),
                 base / "scratch.essync", _regions(base / "world.essync"))


def test_world_opens(world: World) -> None:
    bundle = world.open(world.data)
    assert isinstance(bundle, VerifiedBundle) and list(bundle.transactions()) == world.txs


@FUZZ
@given(data=st.binary(max_size=4096))
@example(data=b"PK\x03\x04")
def test_arbitrary_bytes_are_refused(world: World, data: bytes) -> None:
    world.refuse(data)


@FUZZ
@given(tail=st.binary(max_size=2048), keep_end=st.sampled_from([0, 22, 300]))
def test_arbitrary_bytes_after_a_valid_start_are_refused(world: World, tail: bytes, keep_end: int) -> None:
    # with the real end records kept, zipfile parses its way into the random bytes
    world.refuse(world.data[:77] + tail + (world.data[-keep_end:] if keep_end else b""))


@FUZZ
@given(noise=st.binary(min_size=1, max_size=400), at=st.integers(min_value=0))
def test_random_bytes_over_the_headers_and_directory_are_refused(world: World, noise: bytes, at: int) -> None:
    start = world.regions[3][1] + at % (len(world.data) - world.regions[3][1])  # in the central directory
    data = world.data[:start] + noise + world.data[start + len(noise) :]
    if data != world.data:
        world.refuse(data)


def test_truncation_at_many_cut_points_is_refused_as_truncated(world: World) -> None:
    # every cut up to the payload's data, every 5th after it, every 37th inside it (most of the file)
    payload_start, payload_end = world.regions[1]
    cuts = [*range(payload_start), *range(payload_start, payload_end, 37), *range(payload_end, len(world.data), 5)]
    for cut in cuts:
        result = world.open(world.data[:cut])
        assert isinstance(result, TruncatedBundleError), (cut, result)


@FUZZ
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_single_bit_flips_anywhere_are_refused(world: World, position: int, bit: int) -> None:
    data = bytearray(world.data)
    data[position % len(data)] ^= 1 << bit
    world.refuse(bytes(data))


def test_every_byte_outside_the_payload_is_protected(world: World) -> None:
    # headers, names, central directory, manifest and signature, exhaustively (one bit per byte); the payload
    # (CRC, SHA-256 and AEAD) is sampled by the fuzzer above
    payload_start, payload_end = world.regions[1]
    for position in [*range(payload_start), *range(payload_end, len(world.data))]:
        data = bytearray(world.data)
        data[position] ^= 1 << (position % 8)
        world.refuse(bytes(data))


@FUZZ
@given(cuts=st.lists(st.integers(min_value=0), min_size=1, max_size=4), seed=st.integers())
def test_reordered_blocks_of_the_file_are_refused(world: World, cuts: list[int], seed: int) -> None:
    points = sorted({0, len(world.data), *(c % len(world.data) for c in cuts)})
    blocks = [world.data[a:b] for a, b in zip(points, points[1:], strict=False)]
    random.Random(seed).shuffle(blocks)
    shuffled = b"".join(blocks)
    if shuffled != world.data:
        world.refuse(shuffled)


# ---- Memory: a 100 MB bundle is written and read with a bounded footprint

MEMORY_PROBE = textwrap.dedent("""
    import json, resource, sys, tempfile
    from pathlib import Path
    from ess_accompagnement.sync.bundle import BundleWriter, open_bundle
    from ess_accompagnement.sync.keys import KeyStore, NetworkKey

    def rss_mb():  # the kernel's peak mark for this process (ru_maxrss would include the parent's at fork)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def txs(n):
        for seq in range(1, n + 1):
            yield {"scope": "s", "site": "a" * 32, "seq": seq, "deps": {"a" * 32: seq - 1},
                   "changes": [["project", f"{seq:032x}", f"col{i}", f"valeur {seq * 7919 % 100003} " * 8]
                               for i in range(8)]}

    base = Path(tempfile.mkdtemp())
    keys = KeyStore(base / "keys")
    keys.set_network_key(NetworkKey.generate())
    keys.device_key()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak mark: measure the bundle work only
    except OSError:
        pass
    baseline = rss_mb()
    with BundleWriter(base / "big.essync", keys, source_site="a" * 32, created_hlc=1, schema_version=2) as writer:
        for tx in txs(int(sys.argv[1])):
            writer.add(tx)
    after_write = rss_mb()
    bundle = open_bundle(base / "big.essync", keys)
    count = sum(1 for _ in bundle.transactions())
    print(json.dumps({"baseline": baseline, "write": after_write, "read": rss_mb(), "count": count,
                      "plain": writer.manifest.payload.uncompressed_size}))
""")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="measures the Linux peak-RSS mark")
def test_memory_stays_bounded_for_a_100_mb_bundle() -> None:
    # GIVEN ~100 MB of JSON lines WHEN written then verified and read THEN peak RSS grows by far less than that
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, "80000"], capture_output=True, text=True, check=True,
                          timeout=300)
    figures = json.loads(done.stdout)
    assert figures["count"] == 80000 and figures["plain"] > 100 * 10**6
    assert figures["read"] - figures["baseline"] < 60 and figures["read"] < 300, figures
