"""Catalogue lists (filters by phase and support type) and resolution of what a user types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from ess_accompagnement.domain import codes
from ess_accompagnement.domain.entities import Dispositif, Structure
from ess_accompagnement.domain.errors import AmbiguousError, NotFoundError, ValidationError
from ess_accompagnement.domain.ids import catalogue_id, new_id
from ess_accompagnement.domain.queries.catalogue import (
    list_dispositifs,
    list_structures,
    resolve_dispositif,
    resolve_structure,
)
from ess_accompagnement.store.catalogue import load_catalogue
from ess_accompagnement.store.db import Database


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A read session on a database holding the shipped catalogue."""
    with db.transaction() as writer:
        load_catalogue(writer)
    with db.read() as reader:
        yield reader


# ---- Lists --------------------------------------------------------------------------------------


def test_structures_filtered_by_phase_are_sorted_by_name(session: Session) -> None:
    # GIVEN the shipped catalogue
    # WHEN the structures serving reprise / transmission are listed
    rows = list_structures(session, phase=codes.Phase.REPRISE_TRANSMISSION)
    # THEN they all serve that phase, sorted by name, the URSCOP among them
    assert rows and all(codes.Phase.REPRISE_TRANSMISSION in row.phases for row in rows)
    assert "urscop" in [row.key for row in rows]
    assert "alter-incub" not in [row.key for row in rows]
    assert [row.name.casefold() for row in rows] == sorted(row.name.casefold() for row in rows)


def test_structures_filtered_by_phase_and_support(session: Session) -> None:
    # WHEN the structures that accompany at emergence are listed
    rows = list_structures(session, phase=codes.Phase.EMERGENCE, support=codes.SupportType.ACCOMPAGNEMENT)
    # THEN each one does both, and a prescripteur (orientation only) is left out
    keys = {row.key for row in rows}
    assert {"alter-incub", "cae", "fabrique"} <= keys
    assert "consulaires" not in keys
    assert all(codes.SupportType.ACCOMPAGNEMENT in row.support_types for row in rows)


def test_dispositifs_filtered_by_support_and_operator(session: Session) -> None:
    # WHEN the financing dispositifs of the Région are listed
    region_id = catalogue_id("structure", "region-cvl")
    rows = list_dispositifs(session, support=codes.SupportType.FINANCEMENT, operator_id=region_id)
    # THEN they are the Région's, named with their operator
    assert {"cap-asso", "a-vos-id", "cap-scop-scic", "cap-region-eco"} <= {row.key for row in rows}
    assert {row.operator_name for row in rows} == {"Région Centre-Val de Loire"}
    cap_scop = next(row for row in rows if row.key == "cap-scop-scic")
    assert cap_scop.instrument is codes.Instrument.APPORT_CAPITAL
    assert cap_scop.phases == (codes.Phase.CREATION, codes.Phase.CONSOLIDATION, codes.Phase.REPRISE_TRANSMISSION)


def test_dispositifs_by_phase_exclude_inactive_unless_asked(session: Session) -> None:
    # GIVEN the inactive example fa-fris (another region), which serves consolidation
    # WHEN the consolidation dispositifs are listed, with and without the inactive ones
    active = list_dispositifs(session, phase=codes.Phase.CONSOLIDATION)
    everything = list_dispositifs(session, phase=codes.Phase.CONSOLIDATION, include_inactive=True)
    # THEN fa-fris appears only when asked for
    assert "fa-fris" not in {row.key for row in active}
    assert "fa-fris" in {row.key for row in everything}
    assert "cap-asso" in {row.key for row in active}


def test_lists_exclude_soft_deleted_rows(db: Database, session: Session) -> None:
    # GIVEN a user who deleted the BGE structure and the LEADER dispositif
    with db.transaction() as writer:
        now = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        writer.get(Structure, catalogue_id("structure", "bge")).deleted_at = now
        writer.get(Dispositif, catalogue_id("dispositif", "leader")).deleted_at = now
    # WHEN the lists are read again
    session.rollback()
    # THEN the deleted rows are gone, even with inactive ones included
    assert "bge" not in {row.key for row in list_structures(session, include_inactive=True)}
    assert "leader" not in {row.key for row in list_dispositifs(session, include_inactive=True)}
    with pytest.raises(NotFoundError):
        resolve_structure(session, "bge")


# ---- Resolution ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("fa-cvl", "fa-cvl"),  # catalogue key
        ("FA-CVL", "fa-cvl"),
        ("alter incub", "alter-incub"),  # short name, without its apostrophe
        ("ALTER'INCUB CENTRE-VAL DE LOIRE", "alter-incub"),  # full name
        ("Urscop", "urscop"),
        ("Pole Emploi", "pole-emploi"),  # former name, without accent
        ("Centre Actif", "fa-cvl"),
        ("région centre", "region-cvl"),  # a unique part of a name
    ],
)
def test_resolve_structure(session: Session, typed: str, key: str) -> None:
    # WHEN a user names a structure THEN the right one is found
    assert resolve_structure(session, typed).key == key


def test_resolve_structure_by_uuid(session: Session) -> None:
    # GIVEN the id of a structure
    urscop_id = catalogue_id("structure", "urscop")
    # WHEN it is typed THEN that structure is found
    assert resolve_structure(session, str(urscop_id)).id == urscop_id


def test_resolve_dispositif_by_former_name(session: Session) -> None:
    # WHEN a user types the former name of A VOS ID, lower-case
    row = resolve_dispositif(session, "id en campagne")
    # THEN A VOS ID is found, with its operator
    assert row.key == "a-vos-id"
    assert row.name == "A VOS ID"
    assert row.operator_id == catalogue_id("structure", "region-cvl")
    assert resolve_dispositif(session, "CAP SCOP").key == "cap-scop-scic"


def test_resolve_dispositif_within_operator(session: Session) -> None:
    # GIVEN France Active CVL's id
    fa_cvl = catalogue_id("structure", "fa-cvl")
    # WHEN « garantie » is resolved among its dispositifs THEN only its own guarantee matches
    assert resolve_dispositif(session, "garantie", operator_id=fa_cvl).key == "fa-garantie"
    # AND across all operators, « garantie » is ambiguous (Bpifrance has one too)
    with pytest.raises(AmbiguousError):
        resolve_dispositif(session, "garantie")


def test_resolve_structure_ambiguous(session: Session) -> None:
    # WHEN a user types « France Active », part of two structures' names (the regional one and the network)
    with pytest.raises(AmbiguousError) as caught:
        resolve_structure(session, "France Active")
    # THEN the message lists both, with their keys, and quotes the regional one as the example
    error = caught.value
    assert error.field == "structure"
    assert error.message == (
        "« France Active » désigne plusieurs structures : France Active (réseau national) (france-active), "
        "France Active Centre-Val de Loire (fa-cvl). Précisez avec la clé, par exemple « fa-cvl »."
    )


def test_exact_name_beats_partial_matches_and_user_rows_are_named_by_id(db: Database, session: Session) -> None:
    # GIVEN a structure a user added, whose name contains « URSCOP »
    user_row_id = new_id()
    with db.transaction() as writer:
        writer.add(Structure(id=user_row_id, owner_structure_id=user_row_id, name="URSCOP Formation",
                             kind=codes.StructureKind.ACCOMPAGNATEUR, sort_key="urscop formation", territory="CVL"))
    session.rollback()
    # WHEN a user types « URSCOP » THEN the exact short name wins over the partial match
    assert resolve_structure(session, "URSCOP").key == "urscop"
    # AND a part of both names is ambiguous, the user's row being named by its id
    with pytest.raises(AmbiguousError) as caught:
        resolve_structure(session, "scop")
    assert f"URSCOP Formation ({user_row_id})" in caught.value.message
    assert caught.value.message.endswith("Précisez avec la clé, par exemple « urscop ».")


def test_resolve_prefers_whole_words(session: Session) -> None:
    # WHEN a user types « Région »: a whole word of two structures' names, and inside « régional » of others
    with pytest.raises(AmbiguousError) as caught:
        resolve_structure(session, "Région")
    # THEN only the whole-word matches are offered
    assert "Région Centre-Val de Loire (region-cvl)" in caught.value.message
    assert "Maisons de la Région (maisons-region)" in caught.value.message
    assert "mress" not in caught.value.message


def test_resolve_dispositif_ambiguous(session: Session) -> None:
    # WHEN a user types « CAP Région »
    with pytest.raises(AmbiguousError) as caught:
        resolve_dispositif(session, "CAP Région")
    # THEN both CAP Région dispositifs are offered
    assert caught.value.field == "dispositif"
    assert caught.value.message.startswith("« CAP Région » désigne plusieurs dispositifs : ")
    assert "CAP Région SCOP-SCIC (cap-scop-scic)" in caught.value.message
    assert "CAP Région volet Économie (cap-region-eco)" in caught.value.message


def test_resolve_not_found_suggests_close_names(session: Session) -> None:
    # WHEN a user misspells Efferve'sens
    with pytest.raises(NotFoundError) as caught:
        resolve_dispositif(session, "Efervesens")
    # THEN the message says nothing matched and suggests the close name
    assert caught.value.field == "dispositif"
    assert caught.value.message == (
        "Aucun dispositif ne correspond à « Efervesens ». Vouliez-vous dire : Efferve'sens (effervesens) ?"
    )


def test_resolve_not_found_without_close_names(session: Session) -> None:
    # WHEN a user types a name close to nothing
    with pytest.raises(NotFoundError) as caught:
        resolve_structure(session, "Zébulon")
    # THEN the message only says nothing matched
    assert caught.value.field == "structure"
    assert caught.value.message == "Aucune structure ne correspond à « Zébulon »."


def test_resolve_unknown_uuid_and_empty_text(session: Session) -> None:
    # WHEN a user types an id that is no structure's, or nothing
    with pytest.raises(NotFoundError, match="identifiant"):
        resolve_structure(session, str(catalogue_id("structure", "nowhere")))
    with pytest.raises(ValidationError) as caught:
        resolve_structure(session, "   ")
    # THEN each error names the field
    assert caught.value.field == "structure"
