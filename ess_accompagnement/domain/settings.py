"""Settings shared by everyone using this database (kept in it), with their defaults."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.entities import LocalSetting
from ess_accompagnement.domain.errors import ValidationError

REFERRAL_EXPIRY_DAYS = "referral_expiry_days"
OWNER_ADVISOR = "owner_advisor_id"
DEFAULTS = {REFERRAL_EXPIRY_DAYS: "30"}


def get(session: Session, key: str) -> str | None:
    value = session.execute(select(LocalSetting.value).where(LocalSetting.key == key)).scalar()
    return value if value is not None else DEFAULTS.get(key)


def put(session: Session, key: str, value: str) -> None:
    setting = session.get(LocalSetting, key)
    if setting is None:
        session.add(LocalSetting(key=key, value=value))
    else:
        setting.value = value
    session.flush()


def referral_expiry_days(session: Session) -> int:
    """Days after which an unanswered referral is shown as expired (default 30)."""
    return int(get(session, REFERRAL_EXPIRY_DAYS) or DEFAULTS[REFERRAL_EXPIRY_DAYS])


def set_referral_expiry_days(session: Session, days: int) -> None:
    if not 1 <= days <= 365:
        raise ValidationError("Délai d'expiration des orientations : entre 1 et 365 jours.", field="days")
    put(session, REFERRAL_EXPIRY_DAYS, str(days))
