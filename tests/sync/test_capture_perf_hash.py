"""The canonical bytes and hash of a transaction are a wire format: they must never change.

Bundles written by older copies carry ``tx_hash`` values computed by them; a faster encoder that produced
different bytes would quarantine every one of them. The hash below was computed by the original encoder.
"""

from __future__ import annotations

from ess_accompagnement.sync.codec import canonical, dumps, tx_hash, verify_hash

PINNED_HASH = "1e18de751dc5652d4e060f2fdc1d07db031e2cccc74d60563e1af0bdf15e0636"


def _tx() -> dict[str, object]:
    return {
        "v": 1, "scope": "structure:" + "ab" * 16, "site": "cd" * 16, "seq": 7, "hlc": 123456789012345,
        "deps": {"ef" * 16: 3, "cd" * 16: 6}, "author": None, "structure": "ab" * 16, "schema": 2,
        "prev_hash": "0" * 64,
        "changes": [
            ["project", "12" * 16, "title", 'Épicerie « solidaire » "bio"\n\\ \u2028 ✓'],
            ["project", "12" * 16, "jobs_created", 3],
            ["financing", "34" * 16, "amount", 1234.5],
            ["project", "12" * 16, "deleted_at", None],
            ["document", "56" * 16, "content", {"$b": "00ff10"}],
            ["project", "12" * 16, "esus", -9007199254740993],
            ["project", "12" * 16, "x", 1e-07],
            ["project", "12" * 16, "y", "\x00\x1f\x7f"],
        ],
    }


def test_tx_hash_is_pinned() -> None:
    # GIVEN a transaction with every kind of value (unicode, escapes, integers, reals, null, bytes)
    tx = _tx()
    # WHEN it is hashed, THEN the hash is the one older copies computed
    assert tx_hash(tx) == PINNED_HASH
    tx["tx_hash"] = PINNED_HASH
    assert tx_hash(tx) == PINNED_HASH  # tx_hash itself is not part of the hashed body
    assert verify_hash(tx)


def test_changes_as_tuples_hash_like_lists() -> None:
    # GIVEN the same transaction whose changes are tuples (as sealing builds them)
    tx = _tx()
    tx["changes"] = [tuple(c) for c in tx["changes"]]  # type: ignore[attr-defined]
    # THEN the canonical bytes and the hash are unchanged
    assert tx_hash(tx) == PINNED_HASH
    assert canonical(tx) == canonical(_tx())


def test_canonical_layout_is_sorted_compact_and_utf8() -> None:
    body = canonical({"b": [1, 2.5, None], "a": "é"})
    assert body == '{"a":"é","b":[1,2.5,null]}'.encode()
    assert dumps({"z": 1, "a": {"$b": "00"}}) == '{"a":{"$b":"00"},"z":1}'


def test_unhashable_values_do_not_verify() -> None:
    tx = _tx()
    tx["changes"] = [["project", "12" * 16, "x", float("nan")]]
    tx["tx_hash"] = PINNED_HASH
    assert not verify_hash(tx)
