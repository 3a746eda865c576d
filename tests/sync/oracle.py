"""A pure-Python reference model of the merge: expected leaves, projection and conflicts of a set of
transactions, computed in closed form (no order, no database), per sync.md Part D."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

NO_CONFLICT = {"created_at", "updated_at"}


@dataclass(frozen=True)
class V:
    scope: str
    site: str
    seq: int
    hlc: int
    val: Any
    deps: tuple[tuple[str, int], ...]

    def saw(self, other: V) -> bool:
        if self.site == other.site:
            return self.seq >= other.seq
        return dict(self.deps).get(other.site, 0) >= other.seq


Field = tuple[str, str, str]  # tbl, pk, col


def versions(txs: Iterable[dict[str, Any]]) -> dict[Field, list[V]]:
    found: dict[Field, list[V]] = {}
    for tx in txs:
        deps = tuple(sorted(tx["deps"].items()))
        for tbl, pk, col, val in tx["changes"]:
            found.setdefault((tbl, pk, col), []).append(V(tx["scope"], tx["site"], tx["seq"], tx["hlc"], val, deps))
    return found


def leaves(txs: Iterable[dict[str, Any]]) -> dict[Field, list[V]]:
    """A version is a leaf unless another version of the same field and scope had seen it."""
    result = {}
    for key, vs in versions(txs).items():
        kept = [v for v in vs if not any(w is not v and w.scope == v.scope and w.saw(v) for w in vs)]
        result[key] = sorted(kept, key=lambda v: (v.scope, v.site, v.seq))
    return result


def _winner(vs: list[V]) -> V:
    return max(vs, key=lambda v: (v.hlc, v.site, v.seq))


def rows(state: dict[Field, list[V]]) -> dict[tuple[str, str], dict[str, list[V]]]:
    out: dict[tuple[str, str], dict[str, list[V]]] = {}
    for (tbl, pk, col), vs in state.items():
        out.setdefault((tbl, pk), {})[col] = vs
    return out


def _resurrecting(row: dict[str, list[V]]) -> list[tuple[str, V]]:
    dels = row.get("deleted_at", [])
    if not dels or _winner(dels).val is None:
        return []
    deletes = [d for d in dels if d.val is not None]
    return [(col, v) for col, vs in row.items() if col != "deleted_at" and col not in NO_CONFLICT
            for v in vs if not any(d.saw(v) for d in deletes)]


def projection(state: dict[Field, list[V]]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for key, row in rows(state).items():
        values = {col: _winner(vs).val for col, vs in row.items()}
        if values.get("deleted_at") is not None and _resurrecting(row):
            values["deleted_at"] = None
        out[key] = values
    return out


def _cid(tbl: str, pk: str, col: str, vs: Iterable[V]) -> str:
    dots = sorted(f"{v.scope}/{v.site}/{v.seq}" for v in vs)
    return hashlib.sha256("|".join([tbl, pk, col, *dots]).encode()).hexdigest()[:24]


def conflict_ids(state: dict[Field, list[V]]) -> set[str]:
    ids = set()
    for (tbl, pk), row in rows(state).items():
        for col, vs in row.items():
            if col not in NO_CONFLICT and len({repr(v.val) for v in vs}) > 1:
                ids.add(_cid(tbl, pk, col, vs))
        edits = _resurrecting(row)
        if edits:
            pairs = [d for d in row["deleted_at"] if d.val is not None] + [v for _, v in edits]
            ids.add(_cid(tbl, pk, "#delete", pairs))
    return ids
