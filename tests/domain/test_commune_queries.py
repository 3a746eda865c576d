"""Looking communes up by name, postal code or INSEE code, on a real database loaded with every commune."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ess_accompagnement.domain.errors import AmbiguousError, NotFoundError, ValidationError
from ess_accompagnement.domain.queries.communes import (
    CommuneRow,
    commune_key,
    find_communes,
    get_commune,
    resolve_commune,
)
from ess_accompagnement.store.db import Database


@pytest.fixture
def session(loaded_db: Database) -> Iterator[Session]:
    with loaded_db.read() as read_session:
        yield read_session


def codes(rows: list[CommuneRow]) -> list[str]:
    return [row.code for row in rows]


# ---- find_communes ------------------------------------------------------------------------------


def test_name_prefix_ignores_accents_and_case(session: Session) -> None:
    # GIVEN the loaded communes
    # WHEN « chateau » is searched
    rows = find_communes(session, "chateau")
    # THEN Châteauroux, the most populous, comes first, and every result starts with « Château »
    assert rows[0].code == "36044"
    assert rows[0].name == "Châteauroux"
    assert all(commune_key(row.name).startswith("chateau") for row in rows)


def test_name_prefix_ignores_hyphens(session: Session) -> None:
    # GIVEN the loaded communes
    # WHEN « saint amand », « SAINT-AMAND-MONT » and « St Amand Montrond » are searched
    loose = find_communes(session, "saint amand")
    hyphenated = find_communes(session, "SAINT-AMAND-MONT")
    abbreviated = find_communes(session, "St Amand Montrond")
    # THEN Saint-Amand-Montrond is found each time
    assert "18197" in codes(loose)
    assert codes(hyphenated) == ["18197"]
    assert codes(abbreviated) == ["18197"]


def test_ligatures_match_both_spellings(session: Session) -> None:
    # GIVEN the loaded communes, which have two « Œuilly » (Aisne, Marne) and « Cœuvres-et-Valsery »
    # WHEN they are searched with and without the ligature
    with_ligature = find_communes(session, "Œuilly")
    without_ligature = find_communes(session, "oeuilly")
    coeuvres = find_communes(session, "coeuvres")
    # THEN the same communes are found
    assert sorted(codes(with_ligature)) == sorted(codes(without_ligature)) == ["02565", "51410"]
    assert [row.name for row in coeuvres] == ["Cœuvres-et-Valsery"]


def test_postal_code_finds_its_communes(session: Session) -> None:
    # GIVEN the loaded communes
    # WHEN postal code 37000 is searched
    rows = find_communes(session, "37000")
    # THEN Tours is found, with its postal codes and EPCI
    assert codes(rows) == ["37261"]
    tours = rows[0]
    assert tours.name == "Tours"
    assert "37000" in tours.postal_codes
    assert tours.epci_name == "Tours Métropole Val de Loire"
    assert tours.departement == "37"


def test_five_digits_match_insee_code_or_postal_code(session: Session) -> None:
    # GIVEN the loaded communes: 37100 is a postal code of Tours and the INSEE code of Épeigné-les-Bois
    # WHEN 37100 and the Corsican INSEE code 2a004 are searched
    both = find_communes(session, "37100")
    ajaccio = find_communes(session, "2a004")
    # THEN both communes are found, the more populous first; Ajaccio is found by its code
    assert codes(both) == ["37261", "37100"]
    assert [row.name for row in ajaccio] == ["Ajaccio"]


def test_postal_code_prefix(session: Session) -> None:
    # GIVEN the loaded communes
    # WHEN « 37 » is searched, limited to 5 results
    rows = find_communes(session, "37", limit=5)
    # THEN the 5 most populous communes with a 37xxx postal code come, Tours first
    assert len(rows) == 5
    assert rows[0].code == "37261"
    assert all(any(code.startswith("37") for code in row.postal_codes) for row in rows)
    populations = [row.population or 0 for row in rows]
    assert populations == sorted(populations, reverse=True)


def test_blank_search_finds_nothing(session: Session) -> None:
    # GIVEN the loaded communes
    # WHEN nothing (or punctuation only) is searched
    # THEN nothing is found
    assert find_communes(session, "   ") == []
    assert find_communes(session, "-'") == []


def test_current_communes_come_first(loaded_db: Database) -> None:
    # GIVEN a bigger commune « Toursville » that is no longer current
    with loaded_db.transaction() as writer:
        writer.execute(text(
            "INSERT INTO commune (code, name, sort_key, postal_codes, population, departement, current) "
            "VALUES ('37998', 'Toursville', 'toursville', '', 900000, '37', 0)"))
    # WHEN « tours » is searched
    with loaded_db.read() as session:
        rows = find_communes(session, "tours")
    # THEN the current communes come before it, whatever their population
    assert rows[0].code == "37261"
    assert rows[-1].code == "37998"
    assert rows[-1].current is False


def test_searches_use_indexes(session: Session) -> None:
    # GIVEN the statements find_communes runs, as SQLite receives them
    raw = session.connection().connection.driver_connection
    assert raw is not None
    statements: list[str] = []
    raw.set_trace_callback(statements.append)
    # WHEN a name prefix, a postal code and a postal code prefix are searched
    for typed in ("saint amand", "37000", "370"):
        find_communes(session, typed)
    raw.set_trace_callback(None)
    # THEN none of them scans the commune table
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3
    for sql in selects:
        plan = " / ".join(row[-1] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "SCAN" not in plan, plan
        assert "USING" in plan and "INDEX" in plan, plan


# ---- get_commune --------------------------------------------------------------------------------


def test_get_commune_by_insee_code(session: Session) -> None:
    # GIVEN the loaded communes
    # WHEN Saint-Denis de La Réunion and an unknown code are read
    saint_denis = get_commune(session, "97411")
    unknown = get_commune(session, "00000")
    # THEN the first is found in département 974, the second is None
    assert saint_denis is not None
    assert (saint_denis.name, saint_denis.departement, saint_denis.label) == ("Saint-Denis", "974", "Saint-Denis (974)")
    assert unknown is None


# ---- resolve_commune ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Tours", "37261"),
        ("tours", "37261"),
        ("37000", "37261"),
        ("37261", "37261"),
        ("Saint-Martin (32)", "32389"),
        ("saint martin (32)", "32389"),
        ("Saint-Denis (974)", "97411"),
        ("Châteauroux", "36044"),
        ("Château", "71112"),
        ("Saint-Amand-Mont", "18197"),
        ("St-Amand-Montrond", "18197"),
        ("Oeuilly (51)", "51410"),
        ("INSEE 37100", "37100"),
        ("Saint-Martin (32) – code INSEE 32389", "32389"),
        ("Château-Chinon (Ville)", "58062"),
        ("75011", "75056"),
    ],
)
def test_resolve_commune(session: Session, typed: str, code: str) -> None:
    # GIVEN the loaded communes
    # WHEN what the user typed is resolved
    commune = resolve_commune(session, typed)
    # THEN it is the expected commune
    assert commune.code == code


def test_resolve_ambiguous_name_lists_candidates(session: Session) -> None:
    # GIVEN the loaded communes, which have several « Saint-Martin »
    # WHEN « Saint-Martin » is resolved
    with pytest.raises(AmbiguousError) as caught:
        resolve_commune(session, "saint martin")
    # THEN the message lists them with their département and INSEE code, and says how to choose
    error = caught.value
    assert error.field == "commune"
    assert error.message.startswith("Plusieurs communes s'appellent « Saint-Martin » : ")
    assert "Saint-Martin (32) – code INSEE 32389" in error.message
    assert "Saint-Martin (54) – code INSEE 54480" in error.message
    assert "Précisez le département, par exemple « Saint-Martin (" in error.message
    assert error.message.endswith("», ou le code INSEE.")


def test_resolve_ambiguous_prefix_lists_at_most_ten(session: Session) -> None:
    # GIVEN the loaded communes, where hundreds of names start with « Saint-Ge »
    # WHEN « Saint-Ge » is resolved
    with pytest.raises(AmbiguousError) as caught:
        resolve_commune(session, "Saint-Ge")
    # THEN ten candidates are listed, then an ellipsis
    message = caught.value.message
    assert message.startswith("Plusieurs communes commencent par « Saint-Ge » : ")
    assert message.count("code INSEE ") == 10
    assert ", …. Précisez" in message


def test_resolve_code_shared_by_insee_and_postal_code(session: Session) -> None:
    # GIVEN 37100: a postal code of Tours and the INSEE code of Épeigné-les-Bois
    # WHEN it is resolved
    with pytest.raises(AmbiguousError) as caught:
        resolve_commune(session, "37100")
    # THEN both are proposed, with the way to pick each
    message = caught.value.message
    assert "Tours (37) – code INSEE 37261" in message
    assert "Épeigné-les-Bois (37) – code INSEE 37100" in message
    assert "« Tours (37) »" in message
    assert caught.value.field == "commune"


def test_resolve_unknown_name_suggests_close_names(session: Session) -> None:
    # GIVEN the loaded communes
    # WHEN a misspelt « Tuors » is resolved
    with pytest.raises(NotFoundError) as caught:
        resolve_commune(session, "Tuors")
    # THEN the error names the input and proposes Tours first
    error = caught.value
    assert error.field == "commune"
    assert error.message.startswith("Commune inconnue : « Tuors ». Vouliez-vous dire : Tours (37), ")
    assert error.message.endswith(" ?")


def test_resolve_name_in_the_wrong_departement(session: Session) -> None:
    # GIVEN the loaded communes, with no Tours in Isère
    # WHEN « Tours (38) » is resolved
    with pytest.raises(NotFoundError) as caught:
        resolve_commune(session, "Tours (38)")
    # THEN Tours (37) is proposed
    assert caught.value.message.startswith("Commune inconnue : « Tours (38) ». Vouliez-vous dire : Tours (37)")


def test_resolve_unknown_name_without_close_names(session: Session) -> None:
    # GIVEN the loaded communes
    # WHEN a name close to nothing, or an unknown code, is resolved
    with pytest.raises(NotFoundError) as by_name:
        resolve_commune(session, "Xqzwvkj")
    with pytest.raises(NotFoundError) as by_code:
        resolve_commune(session, "00000")
    # THEN the message only says the commune is unknown
    assert by_name.value.message == "Commune inconnue : « Xqzwvkj »."
    assert by_code.value.message.startswith("Commune inconnue : « 00000 »")


def test_resolve_blank_is_a_validation_error(session: Session) -> None:
    # GIVEN the loaded communes
    # WHEN nothing is resolved
    # THEN the user is asked for a commune
    with pytest.raises(ValidationError) as caught:
        resolve_commune(session, "  ")
    assert caught.value.field == "commune"


def test_resolve_prefers_the_current_commune(loaded_db: Database) -> None:
    # GIVEN a former commune also called « Tours », no longer current
    with loaded_db.transaction() as writer:
        writer.execute(text(
            "INSERT INTO commune (code, name, sort_key, postal_codes, population, departement, current) "
            "VALUES ('37998', 'Tours', 'tours', '', NULL, '37', 0)"))
    # WHEN « Tours » is resolved, and the former one read by its code
    with loaded_db.read() as session:
        resolved = resolve_commune(session, "Tours")
        former = get_commune(session, "37998")
    # THEN the current Tours is chosen without ambiguity; the former one is still reachable by code
    assert resolved.code == "37261"
    assert former is not None
    assert former.current is False
