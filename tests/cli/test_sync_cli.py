"""``ess-acc sync`` and ``ess-acc conflicts`` end to end: three advisors of two structures exchanging files by hand.

A1 and A2 work for URSCOP, B for France Active; each has its own database file and keys. One long scenario
(subprocesses are slow): relays, duplicates, receipts, a concurrent edit, its resolution, refused files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.conftest import digest, ok, run


def _status(db: Path) -> dict[str, Any]:
    return ok(db, "sync", "status", "--json").json()


def _conflict_ids(db: Path) -> list[str]:
    return sorted(c["id"] for c in ok(db, "conflicts", "list", "--json").json())


def _bundle(db: Path, out: Path, *mode: str) -> Path:
    assert ok(db, "sync", "export", "--out", str(out), *mode).out.strip() == str(out)
    return out


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    a1, a2, b = tmp_path / "a1.db", tmp_path / "a2.db", tmp_path / "b.db"
    ok(a1, "init", "--advisor", "Camille Martin", "--structure", "urscop")
    ok(a2, "init", "--advisor", "Léa Petit", "--structure", "urscop")
    ok(b, "init", "--advisor", "Jean Roux", "--structure", "fa-cvl")
    key = ok(a1, "sync", "key", "new").out.strip()
    ok(a2, "sync", "key", "set", key)
    ok(b, "sync", "key", "set", key)
    return a1, a2, b


def test_three_advisors_of_two_structures_converge(tmp_path: Path) -> None:
    a1, a2, b = _setup(tmp_path)
    f = tmp_path
    # A1 creates a project (with a private summary) and refers it to France Active
    project = ok(a1, "project", "add", "--title", "Épicerie", "--holder", "Hélène Dupont", "--commune", "Tours",
                 "--summary", "note interne confidentielle").out.strip()
    referral = ok(a1, "referral", "add", project, "--to", "fa-cvl", "--motive", "financement").out.strip()
    # A1 → A2 (with a receipt), imported twice: the second time is a no-op
    f1 = _bundle(a1, f / "f1.essync", "--all")
    dry = ok(a2, "sync", "import", str(f1), "--dry-run")
    assert "Simulation (--dry-run)" in dry.out and "nouveau poste" in dry.out
    assert "Import du fichier" in ok(a2, "sync", "import", str(f1), "--receipt-out", str(f / "r2.essync")).out
    assert "déjà importé" in ok(a2, "sync", "import", str(f1)).out
    # relay A2 → B, then B also gets A1's own file (everything already known, nothing private of A applied)
    ok(b, "sync", "import", str(_bundle(a2, f / "f2.essync", "--all")), "--receipt-out", str(f / "rb.essync"))
    again = ok(b, "sync", "import", str(f1)).out
    assert "0 transactions appliquées" in again and "hors de votre structure" in again
    assert [p["title"] for p in ok(b, "project", "list", "--json").json()] == ["Épicerie"]
    assert "note interne" not in ok(b, "project", "show", project[:8], "--json").out
    # B answers; everyone gets the answer and the receipts
    ok(b, "referral", "answer", referral[:8], "--accept")
    _bundle(b, f / "f3.essync", "--all")
    for db, files in ((a1, ("r2", "rb", "f3")), (a2, ("f3",))):
        for name in files:
            ok(db, "sync", "import", str(f / f"{name}.essync"))
    assert ok(a2, "referral", "list", "--json").json()[0]["status"] == "acceptee"
    # concurrent edits of the same field on A1 and A2, exchanged by trimmed exports (--for) and relayed to B
    ok(a1, "project", "edit", project[:8], "--title", "Épicerie A1")
    ok(a2, "project", "edit", project[:8], "--title", "Épicerie A2")
    sites = {name: _status(db)["site_id"] for name, db in (("a1", a1), ("a2", a2), ("b", b))}
    f4 = _bundle(a1, f / "f4.essync", "--for", sites["a2"])
    f5 = _bundle(a2, f / "f5.essync", "--for", sites["a1"])
    ok(a2, "sync", "import", str(f4))
    ok(a1, "sync", "import", str(f5))
    ok(b, "sync", "import", str(_bundle(a2, f / "f6.essync", "--for", sites["b"])))
    conflicts = _conflict_ids(a1)
    assert conflicts and conflicts == _conflict_ids(a2)
    # refused files change nothing: addressed to someone else, altered, unknown
    before = digest(b)
    assert run(b, "sync", "import", str(f4)).code == 2  # addressed to A2
    tampered = f / "tampered.essync"
    data = bytearray(f4.read_bytes())
    data[len(data) // 2] ^= 1
    tampered.write_bytes(bytes(data))
    refused = run(b, "sync", "import", str(tampered))
    assert refused.code == 2 and refused.err.startswith("Erreur : ")
    assert digest(b) == before
    # A1 resolves (unique prefix, keeping A2's value); the resolution travels A1 → A2 → B
    ok(a1, "conflicts", "resolve", conflicts[0][:6], "--keep", "Épicerie A2")
    ok(a2, "sync", "import", str(_bundle(a1, f / "f7.essync", "--for", sites["a2"])))
    ok(b, "sync", "import", str(_bundle(a2, f / "f8.essync", "--for", sites["b"])))
    for db in (a1, a2, b):
        assert _conflict_ids(db) == []
    for db in (a1, a2):  # B holds the same title: its shared-scope digest is checked below (and in test_exchange)
        assert [p["title"] for p in ok(db, "project", "list", "--json").json()] == ["Épicerie A2"]
    s1, s2, sb = _status(a1), _status(a2), _status(b)
    assert s1["digests"] == s2["digests"]
    shared = set(s1["digests"]) & set(sb["digests"])
    assert "catalogue" in shared and any(s.startswith("share:") for s in shared)
    assert not any(s.startswith("structure:") for s in shared)
    assert all(s1["digests"][s] == sb["digests"][s] for s in shared)
