"""French public holidays: fixed days and the three moving ones that follow Easter."""

from __future__ import annotations

import datetime as dt

from ess_accompagnement.domain.holidays import french_holidays, holiday_name, holidays_between


def test_2026_has_eleven_holidays_with_the_moving_ones() -> None:
    # GIVEN Easter Sunday 2026 falls on 5 April
    days = french_holidays(2026)

    # THEN the eleven metropolitan holidays are there, in order, with their French names
    assert len(days) == 11
    assert days[dt.date(2026, 4, 6)] == "Lundi de Pâques"
    assert days[dt.date(2026, 5, 14)] == "Ascension"
    assert days[dt.date(2026, 5, 25)] == "Lundi de Pentecôte"
    assert days[dt.date(2026, 7, 14)] == "Fête nationale"
    assert list(days) == sorted(days)


def test_ordinary_days_and_alsace_moselle_days_are_not_holidays() -> None:
    assert holiday_name(dt.date(2026, 3, 17)) is None
    assert holiday_name(dt.date(2026, 4, 3)) is None  # Vendredi saint: Alsace-Moselle only
    assert holiday_name(dt.date(2026, 12, 26)) is None
    assert holiday_name(dt.date(2025, 6, 9)) == "Lundi de Pentecôte"


def test_holidays_between_spans_years() -> None:
    found = holidays_between(dt.date(2026, 12, 20), dt.date(2027, 1, 5))

    assert found == {dt.date(2026, 12, 25): "Noël", dt.date(2027, 1, 1): "Jour de l'an"}
