"""Validation of what advisors type, with each field's own library.

Every function takes the raw text and the name of the field it came from, returns the normalised
value, and raises ``ValidationError`` with a French message naming that field. Messages quote the
value only when it is not personal data (a SIRET, a date, an amount: yes; an e-mail or phone: no).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from email_validator import EmailNotValidError, validate_email
from stdnum import exceptions as stdnum_errors
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from ess_accompagnement.domain.errors import ValidationError

PARIS = ZoneInfo("Europe/Paris")
_RNA = re.compile(r"^W\d{9}$")
# Overseas départements and collectivities whose numbers are not valid when parsed as metropolitan FR.
_OVERSEAS_REGIONS = ("RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF", "NC", "PF", "WF")
_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_DATETIME = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+|\s*[àaT]\s*)(\d{1,2})\s*[:hH]\s*(\d{2})?\s*$")
_SPACES = re.compile(r"[\s\u00a0\u202f]")


def required_text(value: str | None, field: str, label: str, *, max_length: int = 200) -> str:
    """A non-empty, trimmed text of at most ``max_length`` characters."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{label} : ce champ est obligatoire.", field=field)
    if len(text) > max_length:
        raise ValidationError(f"{label} : {max_length} caractères au plus ({len(text)} saisis).", field=field)
    return text


def optional_text(value: str | None, field: str, label: str, *, max_length: int = 10_000) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > max_length:
        raise ValidationError(f"{label} : {max_length} caractères au plus ({len(text)} saisis).", field=field)
    return text


def siret(value: str, field: str = "siret") -> str:
    """A SIRET (14 digits, Luhn checksum, La Poste exception included), returned compact."""
    try:
        return str(stdnum_siret.validate(value))
    except stdnum_errors.InvalidLength:
        raise ValidationError(f"SIRET « {value} » : il faut 14 chiffres.", field=field) from None
    except stdnum_errors.InvalidFormat:
        raise ValidationError(f"SIRET « {value} » : seuls des chiffres sont attendus.", field=field) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(
            f"SIRET « {value} » : la clé de contrôle est fausse, vérifiez les chiffres.", field=field
        ) from None


def siren(value: str, field: str = "siren") -> str:
    """A SIREN (9 digits with a Luhn checksum), returned compact."""
    try:
        return str(stdnum_siren.validate(value))
    except stdnum_errors.InvalidLength:
        raise ValidationError(f"SIREN « {value} » : il faut 9 chiffres.", field=field) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(f"SIREN « {value} » : numéro invalide, vérifiez les chiffres.", field=field) from None


def rna(value: str, field: str = "rna") -> str:
    """An association's RNA number: « W » followed by nine digits."""
    compact = _SPACES.sub("", value).upper()
    if not _RNA.match(compact):
        raise ValidationError(
            f"RNA « {value} » : le numéro RNA s'écrit W suivi de 9 chiffres (ex. W372012345).", field=field
        )
    return compact


def phone(value: str, field: str = "telephone") -> str:
    """A French phone number (overseas included), returned in E.164 (+33…, +262…)."""
    # Overseas first: « 0596 12 34 56 » dialled in France reaches Martinique (+596), although phonenumbers
    # also accepts it as a metropolitan +33 5 number; metropolitan numbers are never valid overseas.
    candidates = (*_OVERSEAS_REGIONS, "FR")
    for region in candidates:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValidationError(
        "Téléphone : numéro non reconnu. Saisissez-le à 10 chiffres (02 54 12 34 56) "
        "ou au format international (+262 262 12 34 56).",
        field=field,
    )


def format_phone(e164: str) -> str:
    """« +33254123456 » → « 02 54 12 34 56 »; overseas and foreign numbers in international form."""
    number = phonenumbers.parse(e164, None)
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def email(value: str, field: str = "email") -> str:
    """An e-mail address, syntax checked (no network look-up), domain lower-cased."""
    try:
        return str(validate_email(value.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        raise ValidationError("Courriel : adresse invalide (exemple attendu : prenom.nom@exemple.fr).", field=field) \
            from None


def french_date(value: str, field: str = "date") -> dt.date:
    """« 12/03/2026 » (also 12-03-2026, 12.03.2026, or ISO 2026-03-12) → a date."""
    match = _DATE.match(value)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        pass
    raise ValidationError(f"Date « {value} » : date invalide, format attendu JJ/MM/AAAA (ex. 12/03/2026).", field=field)


def french_datetime(value: str, field: str = "date", tz: ZoneInfo = PARIS) -> dt.datetime:
    """« 12/03/2026 14:30 » (or « 12/03/2026 à 14h30 »), local time in ``tz`` → an aware datetime."""
    match = _DATETIME.match(value)
    if match:
        day, month, year, hour = (int(g) for g in match.groups()[:4])
        minute = int(match.group(5) or 0)
        try:
            return dt.datetime(year, month, day, hour, minute, tzinfo=tz)
        except ValueError:
            pass
    raise ValidationError(
        f"Date et heure « {value} » : format attendu JJ/MM/AAAA HH:MM (ex. 12/03/2026 14:30).", field=field
    )


def amount(value: str, field: str = "montant") -> Decimal:
    """« 15 000,50 » (spaces, no-break spaces, or none; comma decimals) → Decimal('15000.50')."""
    text = _SPACES.sub("", value).removesuffix("€")
    try:
        if "." in text and "," not in text and re.fullmatch(r"\d+\.\d{1,2}", text):
            number = Decimal(text)  # « 15000.50 » pasted from an English source
        else:
            number = parse_decimal(text, locale="fr_FR", strict=True)
    except (NumberFormatError, ArithmeticError):
        raise ValidationError(f"Montant « {value} » : nombre invalide (ex. 15 000,50).", field=field) from None
    if number < 0:
        raise ValidationError(f"Montant « {value} » : le montant ne peut pas être négatif.", field=field)
    if number != number.quantize(Decimal("0.01")):
        raise ValidationError(f"Montant « {value} » : deux décimales au plus.", field=field)
    return number.quantize(Decimal("0.01"))


def format_amount(value: Decimal) -> str:
    """Decimal('15000.5') → « 15 000,50 € » (narrow no-break space between thousands, as CLDR)."""
    return format_decimal(value, format="#,##0.00", locale="fr_FR") + "\u00a0€"


def format_date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def birth_year(value: int | str, field: str = "annee_naissance", *, today: dt.date | None = None) -> int:
    today = today or dt.date.today()
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"Année de naissance « {value} » : quatre chiffres attendus.", field=field) from None
    if not today.year - 110 <= year <= today.year - 12:
        raise ValidationError(
            f"Année de naissance « {value} » : hors des bornes plausibles ({today.year - 110}–{today.year - 12}).",
            field=field,
        )
    return year


def positive_minutes(value: int | str, field: str = "duree", *, maximum: int = 12 * 60) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"Durée « {value} » : un nombre de minutes est attendu.", field=field) from None
    if not 1 <= minutes <= maximum:
        raise ValidationError(f"Durée « {value} » : entre 1 et {maximum} minutes.", field=field)
    return minutes
