"""Loading the reference catalogue: ids, idempotence, three-way merge with users' edits, strict checks."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from ess_accompagnement.domain import codes
from ess_accompagnement.domain.entities import Dispositif, Structure
from ess_accompagnement.domain.ids import catalogue_id
from ess_accompagnement.store.catalogue import (
    CATALOGUE_PATH,
    CatalogueResult,
    load_catalogue,
    load_catalogue_file,
    parse_catalogue,
)
from ess_accompagnement.store.db import Database, open_database

SHIPPED = load_catalogue_file()
N_STRUCTURES = len(SHIPPED.structures)
N_DISPOSITIFS = len(SHIPPED.dispositifs)
N_ENTRIES = N_STRUCTURES + N_DISPOSITIFS


def _load(db: Database, catalogue_path: Path | None = None) -> CatalogueResult:
    with db.transaction() as session:
        catalogue = load_catalogue_file(catalogue_path) if catalogue_path else None
        return load_catalogue(session, catalogue)


def _edited_copy(tmp_path: Path, replacements: list[tuple[str, str]]) -> Path:
    """A copy of the shipped catalogue with some lines replaced: a new version of the file."""
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "catalogue-v2.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _raw() -> dict:
    with open(CATALOGUE_PATH, "rb") as stream:
        return tomllib.load(stream)


# ---- The shipped file ---------------------------------------------------------------------------


def test_shipped_catalogue_is_valid_and_names_its_operators() -> None:
    # GIVEN the shipped catalogue file
    # WHEN it is read and checked
    catalogue = load_catalogue_file()
    # THEN it holds the structures and dispositifs of the brief, and every operator is a structure
    structure_keys = {entry.key for entry in catalogue.structures}
    assert {"cress-cvl", "urscop", "alter-incub", "fa-cvl", "region-cvl", "dla", "cae"} <= structure_keys
    assert {"cap-asso", "a-vos-id", "cap-scop-scic", "fonds-confiance", "effervesens"} <= {
        entry.key for entry in catalogue.dispositifs
    }
    assert all(entry.operator in structure_keys for entry in catalogue.dispositifs)
    fris = next(entry for entry in catalogue.dispositifs if entry.key == "fa-fris")
    assert fris.values["territory"] == "EX" and fris.values["active"] is False


# ---- Loading ------------------------------------------------------------------------------------


def test_first_load_adds_every_entry_with_catalogue_ids(db: Database) -> None:
    # GIVEN an empty database
    # WHEN the catalogue is loaded
    result = _load(db)
    # THEN every entry is added, under the id derived from its key
    assert result == CatalogueResult(added=N_ENTRIES, updated=0, kept_user_edits=0, unchanged=0)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Structure)) == N_STRUCTURES
        assert session.scalar(select(func.count()).select_from(Dispositif)) == N_DISPOSITIFS
        urscop = session.get(Structure, catalogue_id("structure", "urscop"))
        cap_asso = session.get(Dispositif, catalogue_id("dispositif", "cap-asso"))
        assert urscop is not None and cap_asso is not None
        # AND a structure owns itself, a dispositif belongs to its operator
        assert urscop.owner_structure_id == urscop.id
        assert cap_asso.operator_id == cap_asso.owner_structure_id == catalogue_id("structure", "region-cvl")
        assert urscop.kind is codes.StructureKind.ACCOMPAGNATEUR
        assert cap_asso.instrument is codes.Instrument.AIDE_EMPLOI
        assert urscop.sort_key == "urscop ile-de-france, centre-val de loire et outre-mer"
        assert urscop.catalogue_key == "urscop" and urscop.catalogue_values["name"] == urscop.name


def test_two_databases_get_the_same_ids(db: Database, tmp_path: Path) -> None:
    # GIVEN two separate database files
    other = open_database(tmp_path / "other.db")
    try:
        # WHEN the catalogue is loaded into each
        _load(db)
        _load(other)
        # THEN they hold the same ids for the same entries
        with db.read() as first, other.read() as second:
            ids_first = set(first.scalars(select(Structure.id))) | set(first.scalars(select(Dispositif.id)))
            ids_second = set(second.scalars(select(Structure.id))) | set(second.scalars(select(Dispositif.id)))
        assert ids_first == ids_second
        assert catalogue_id("structure", "fa-cvl") in ids_first
    finally:
        other.close()


def test_reloading_the_same_file_writes_nothing(db: Database) -> None:
    # GIVEN a loaded catalogue
    _load(db)
    with db.read() as session:
        before = dict(session.execute(select(Structure.id, Structure.updated_at)).all())
    statements: list[str] = []

    def _record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _record)
    try:
        # WHEN the same file is loaded again
        result = _load(db)
    finally:
        event.remove(db.engine, "before_cursor_execute", _record)
    # THEN nothing is counted as changed, no row is written and no timestamp moves
    assert result == CatalogueResult(added=0, updated=0, kept_user_edits=0, unchanged=N_ENTRIES)
    assert any(s.lstrip().upper().startswith("SELECT") for s in statements)  # the listener did see the load
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    with db.read() as session:
        after = dict(session.execute(select(Structure.id, Structure.updated_at)).all())
    assert after == before


def test_user_edit_survives_a_new_catalogue_version(db: Database, tmp_path: Path) -> None:
    # GIVEN a loaded catalogue, and a user who renamed the URSCOP
    _load(db)
    urscop_id = catalogue_id("structure", "urscop")
    with db.transaction() as session:
        session.get(Structure, urscop_id).name = "URSCOP Centre-Val de Loire (antenne d'Orléans)"
    # AND a new version of the file changing both that name and a field nobody edited
    new_version = _edited_copy(tmp_path, [
        ('name = "URSCOP Île-de-France, Centre-Val de Loire et Outre-Mer"', 'name = "Les SCOP Centre-Val de Loire"'),
        ('targets = "SCOP, SCIC et CAE ; salariés qui reprennent leur entreprise en coopérative"',
         'targets = "SCOP, SCIC et CAE ; salariés repreneurs"'),
    ])
    # WHEN the new version is loaded
    result = _load(db, new_version)
    # THEN the user's name stays, the untouched field takes the new value
    assert result.kept_user_edits == 1
    assert result.updated == 1 and result.unchanged == N_ENTRIES - 1
    with db.read() as session:
        urscop = session.get(Structure, urscop_id)
        assert urscop.name == "URSCOP Centre-Val de Loire (antenne d'Orléans)"
        assert urscop.sort_key == "urscop centre-val de loire (antenne d'orleans)"
        assert urscop.targets == "SCOP, SCIC et CAE ; salariés repreneurs"
        # AND the recorded catalogue values are the new ones, so a later reload keeps following the file
        assert urscop.catalogue_values["name"] == "Les SCOP Centre-Val de Loire"


def test_fields_nobody_edited_follow_the_new_version(db: Database, tmp_path: Path) -> None:
    # GIVEN a loaded catalogue
    _load(db)
    # AND a new version changing a dispositif's operator, phases, instrument and former names
    new_version = _edited_copy(tmp_path, [
        ('key = "ph-cae"\nname = "Fonds régional de prêt d\'honneur des entrepreneurs salariés de CAE"\n'
         'operator = "cae"', 'key = "ph-cae"\nname = "Prêt d\'honneur des entrepreneurs salariés de CAE"\n'
         'operator = "region-cvl"'),
        ('phases = ["reprise_transmission", "difficulte"]', 'phases = ["reprise_transmission"]'),
    ])
    # WHEN it is loaded
    result = _load(db, new_version)
    # THEN both entries take every new value, owner and sort key included
    assert (result.updated, result.kept_user_edits) == (2, 0)
    with db.read() as session:
        loan = session.get(Dispositif, catalogue_id("dispositif", "ph-cae"))
        assert loan.operator_id == loan.owner_structure_id == catalogue_id("structure", "region-cvl")
        assert loan.sort_key == "pret d'honneur des entrepreneurs salaries de cae"
        guarantee = session.get(Dispositif, catalogue_id("dispositif", "bpi-garantie"))
        assert guarantee.phases == ["reprise_transmission"]


def test_soft_deleted_entry_stays_deleted(db: Database, tmp_path: Path) -> None:
    # GIVEN a loaded catalogue, and a user who deleted the BGE entry
    _load(db)
    bge_id = catalogue_id("structure", "bge")
    deleted_at = dt.datetime(2025, 5, 2, 9, 30, tzinfo=dt.UTC)
    with db.transaction() as session:
        session.get(Structure, bge_id).deleted_at = deleted_at
    # WHEN a new version of the file, which changes that entry, is loaded
    result = _load(db, _edited_copy(tmp_path, [('name = "BGE"', 'name = "BGE Centre-Val de Loire"')]))
    # THEN the entry is neither brought back nor changed
    assert result.added == 0 and result.updated == 0 and result.unchanged == N_ENTRIES
    with db.read() as session:
        bge = session.get(Structure, bge_id)
        assert bge.deleted_at == deleted_at
        assert bge.name == "BGE"


# ---- Strict checks ------------------------------------------------------------------------------


def _dispositif(data: dict, key: str) -> dict:
    return next(entry for entry in data["dispositif"] if entry["key"] == key)


def test_unknown_phase_code_names_entry_and_field() -> None:
    # GIVEN a catalogue whose CAP ASSO has a phase the app does not know
    data = _raw()
    _dispositif(data, "cap-asso")["phases"] = ["consolidation", "post_creation"]
    # WHEN it is checked THEN a ValueError names the entry and the field
    with pytest.raises(ValueError, match=r"dispositif 'cap-asso', field 'phases': unknown Phase code 'post_creation'"):
        parse_catalogue(data)


def test_unknown_operator_names_entry_and_field(tmp_path: Path) -> None:
    # GIVEN a new version of the file where A VOS ID names an operator that is not a structure
    path = _edited_copy(tmp_path, [('key = "a-vos-id"\nname = "A VOS ID"\noperator = "region-cvl"',
                                    'key = "a-vos-id"\nname = "A VOS ID"\noperator = "region-centre"')])
    # WHEN it is read THEN a ValueError names the entry, the field and the missing key
    with pytest.raises(ValueError, match=r"dispositif 'a-vos-id', field 'operator': no structure has the key "
                                         r"'region-centre'"):
        load_catalogue_file(path)


@pytest.mark.parametrize(
    ("table", "key", "field", "value", "message"),
    [
        ("structure", "urscop", "kind", "syndicat", r"structure 'urscop', field 'kind': unknown StructureKind"),
        ("structure", "urscop", "support", ["conseil"], r"structure 'urscop', field 'support'"),
        ("structure", "mress", "departement", "450", r"structure 'mress', field 'departement'"),
        ("structure", "bge", "colour", "blue", r"structure 'bge', field 'colour': unknown field"),
        ("dispositif", "cap-asso", "instrument", "pret", r"dispositif 'cap-asso', field 'instrument'"),
        ("dispositif", "cap-asso", "territory", "PDL", r"dispositif 'cap-asso', field 'territory'"),
        ("dispositif", "fa-fris", "active", True, r"dispositif 'fa-fris', field 'active'"),
        ("dispositif", "cap-asso", "refs", ["3:212"], r"dispositif 'cap-asso', field 'refs'"),
        ("dispositif", "cap-asso", "name", "Garantie France Active", r"dispositif 'cap-asso', field 'name'"),
    ],
)
def test_malformed_entries_are_refused(table: str, key: str, field: str, value: object, message: str) -> None:
    # GIVEN a catalogue with one malformed field
    data = _raw()
    next(entry for entry in data[table] if entry["key"] == key)[field] = value
    # WHEN it is checked THEN the error names the entry and the field
    with pytest.raises(ValueError, match=message):
        parse_catalogue(data)


def test_duplicate_key_is_refused() -> None:
    # GIVEN a catalogue where two structures share a key
    data = _raw()
    data["structure"].append({**data["structure"][0], "name": "Une autre CRESS"})
    # WHEN it is checked THEN the error names the key
    with pytest.raises(ValueError, match=r"structure 'cress-cvl', field 'key'"):
        parse_catalogue(data)
