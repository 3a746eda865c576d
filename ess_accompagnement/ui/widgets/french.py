"""French formatting for screens: « mardi 12 mars 2026 », « 12/03/2026 », « 15 000,50 € ».

Always the fr_FR locale, whatever the machine's locale (the app is French-only), through QLocale so
the output matches Qt's own widgets (narrow no-break space between thousands, as CLDR).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QTime

FRENCH = QLocale(QLocale.Language.French, QLocale.Country.France)


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def long_date(day: dt.date | None) -> str:
    """« mardi 12 mars 2026 »."""
    return FRENCH.toString(_qdate(day), QLocale.FormatType.LongFormat) if day is not None else ""


def short_date(day: dt.date | None) -> str:
    """« 12/03/2026 »."""
    return day.strftime("%d/%m/%Y") if day is not None else ""


def reminders_text(day: dt.date | None, count: int | None) -> str:
    """A referral's last reminder: « 12/03/2026 », « 19/03/2026 (2 relances) », or nothing if never reminded."""
    if day is None:
        return ""
    if (count or 0) <= 1:
        return short_date(day)
    return QCoreApplication.translate("French", "{day} ({n} relances)").format(day=short_date(day), n=count)


def day_header(day: dt.date) -> str:
    """« mar. 12 mars »."""
    return FRENCH.toString(_qdate(day), "ddd d MMM")


def clock(moment: dt.datetime | dt.time) -> str:
    """« 09:30 »."""
    return FRENCH.toString(QTime(moment.hour, moment.minute), "HH:mm")


def date_time(moment: dt.datetime) -> str:
    """« 12/03/2026 09:30 »."""
    return f"{short_date(moment.date())} {clock(moment)}"


def amount(value: Decimal | None) -> str:
    """« 15 000,50 € », empty for None."""
    return FRENCH.toCurrencyString(float(value)) if value is not None else ""


def number(value: int) -> str:
    return FRENCH.toString(value)


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
