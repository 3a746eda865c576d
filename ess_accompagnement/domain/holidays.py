"""French public holidays (« jours fériés ») of metropolitan France, computed, with their French names.

Eight fixed days plus the three that follow Easter (lundi de Pâques, Ascension, lundi de Pentecôte),
from ``dateutil.easter``. Alsace-Moselle's extra days (Vendredi saint, Saint-Étienne) are not included.
The Journée de solidarité is a working day for most structures, so Whit Monday stays a holiday here.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from dateutil.easter import easter

_FIXED: tuple[tuple[int, int, str], ...] = (
    (1, 1, "Jour de l'an"),
    (5, 1, "Fête du Travail"),
    (5, 8, "Victoire 1945"),
    (7, 14, "Fête nationale"),
    (8, 15, "Assomption"),
    (11, 1, "Toussaint"),
    (11, 11, "Armistice 1918"),
    (12, 25, "Noël"),
)
_AFTER_EASTER: tuple[tuple[int, str], ...] = (
    (1, "Lundi de Pâques"),
    (39, "Ascension"),
    (50, "Lundi de Pentecôte"),
)


@lru_cache(maxsize=64)
def french_holidays(year: int) -> dict[dt.date, str]:
    """The year's public holidays, by date, in calendar order: {date(2026, 4, 6): "Lundi de Pâques", …}."""
    days = {dt.date(year, month, day): name for month, day, name in _FIXED}
    sunday = easter(year)
    days.update({sunday + dt.timedelta(days=offset): name for offset, name in _AFTER_EASTER})
    return dict(sorted(days.items()))


def holiday_name(day: dt.date) -> str | None:
    """The name of the public holiday ``day`` is, or None for an ordinary day."""
    return french_holidays(day.year).get(day)


def holidays_between(first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """The public holidays from ``first`` to ``last``, both included."""
    found: dict[dt.date, str] = {}
    for year in range(first.year, last.year + 1):
        found.update({day: name for day, name in french_holidays(year).items() if first <= day <= last})
    return found
