"""Field validation with the field's own libraries; French messages naming the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ess_accompagnement.domain import validation as v
from ess_accompagnement.domain.errors import ValidationError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("732 829 320 00074", "73282932000074"), ("356 000 000 00048", "35600000000048")],  # La Poste exception
)
def test_valid_siret(raw: str, expected: str) -> None:
    assert v.siret(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [("73282932000075", "clé de contrôle"), ("1234", "14 chiffres"), ("7328293200007A", "chiffres")],
)
def test_invalid_siret(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as error:
        v.siret(raw, "--siret")
    assert error.value.field == "--siret"


def test_siren() -> None:
    assert v.siren("732 829 320") == "732829320"
    with pytest.raises(ValidationError, match="SIREN"):
        v.siren("732829321")


@pytest.mark.parametrize("raw", ["W372012345", "w 372 012 345"])
def test_valid_rna(raw: str) -> None:
    assert v.rna(raw) == "W372012345"


@pytest.mark.parametrize("raw", ["372012345", "W37201234", "X372012345", "W37201234A"])
def test_invalid_rna(raw: str) -> None:
    with pytest.raises(ValidationError, match="W suivi de 9 chiffres"):
        v.rna(raw)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("02.54.12.34.56", "+33254123456"),
        ("+33 2 54 12 34 56", "+33254123456"),
        ("0262 12 34 56", "+262262123456"),  # La Réunion, landline
        ("0692 12 34 56", "+262692123456"),  # La Réunion, mobile
        ("0590 12 34 56", "+590590123456"),  # Guadeloupe
        ("0596 30 12 34", "+596596301234"),  # Martinique
        ("0594 12 34 56", "+594594123456"),  # Guyane
        ("0269 61 23 45", "+262269612345"),  # Mayotte
    ],
)
def test_phone_numbers_including_overseas(raw: str, e164: str) -> None:
    assert v.phone(raw) == e164


def test_phone_formatting_and_errors() -> None:
    assert v.format_phone("+33254123456") == "02 54 12 34 56"
    with pytest.raises(ValidationError, match="Téléphone") as error:
        v.phone("98 76")
    assert "98 76" not in error.value.message  # personal data is never echoed


def test_email() -> None:
    assert v.email(" Camille.Martin@Exemple.FR ") == "Camille.Martin@exemple.fr"
    with pytest.raises(ValidationError, match="Courriel"):
        v.email("camille.martin@")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12/03/2026", dt.date(2026, 3, 12)), ("1/3/2026", dt.date(2026, 3, 1)), ("12-03-2026", dt.date(2026, 3, 12)),
     ("2026-03-12", dt.date(2026, 3, 12))],
)
def test_french_dates(raw: str, expected: dt.date) -> None:
    assert v.french_date(raw) == expected


@pytest.mark.parametrize("raw", ["31/02/2026", "12/13/2026", "demain", "12/03/26"])
def test_invalid_dates(raw: str) -> None:
    with pytest.raises(ValidationError, match="JJ/MM/AAAA"):
        v.french_date(raw, "--date")


def test_french_datetime_is_paris_local_time_across_dst() -> None:
    winter = v.french_datetime("12/03/2026 14:30")
    summer = v.french_datetime("12/07/2026 à 9h05")
    assert winter.utcoffset() == dt.timedelta(hours=1) and winter.hour == 14
    assert summer.utcoffset() == dt.timedelta(hours=2) and (summer.hour, summer.minute) == (9, 5)
    with pytest.raises(ValidationError, match="HH:MM"):
        v.french_datetime("12/03/2026 25:00")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("15 000,50", "15000.50"), ("15\u202f000,50 €", "15000.50"), ("15\u00a0000", "15000.00"), ("12", "12.00"),
     ("15000.50", "15000.50"), ("0,5", "0.50")],
)
def test_amounts(raw: str, expected: str) -> None:
    assert v.amount(raw) == Decimal(expected)


@pytest.mark.parametrize(("raw", "message"), [("abc", "invalide"), ("-5", "négatif"), ("1,234", "deux décimales")])
def test_invalid_amounts(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        v.amount(raw, "--amount")


def test_amount_formatting_uses_french_separators() -> None:
    assert v.format_amount(Decimal("15000.5")) == "15\u202f000,50\u00a0€"


def test_birth_year_bounds() -> None:
    today = dt.date(2026, 11, 23)
    assert v.birth_year("1985", today=today) == 1985
    for bad in ("1900", "2020", "85"):
        with pytest.raises(ValidationError, match="Année de naissance"):
            v.birth_year(bad, today=today)
