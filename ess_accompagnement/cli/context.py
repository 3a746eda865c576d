"""What every command needs: the database, the acting advisor, today's date, name resolution."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ess_accompagnement import paths
from ess_accompagnement.domain import advisors
from ess_accompagnement.domain.actors import Actor, load_actor
from ess_accompagnement.domain.codes import Coded
from ess_accompagnement.domain.entities import Financing, NextStep, Project, Referral
from ess_accompagnement.domain.errors import AmbiguousError, NotFoundError, UserFacingError, ValidationError
from ess_accompagnement.domain.validation import PARIS, french_date
from ess_accompagnement.store.db import Database, open_database

E = TypeVar("E", bound=Coded)


@dataclass
class Context:
    args: argparse.Namespace
    _db: Database | None = field(default=None, init=False)

    @property
    def db_path(self) -> Path:
        return Path(self.args.db) if self.args.db else paths.default_db_path()

    def db(self, *, create: bool = False) -> Database:
        if self._db is None:
            self._db = open_database(self.db_path, create=create)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    @property
    def today(self) -> dt.date:
        """Today in France; ESS_ACC_TODAY (JJ/MM/AAAA or AAAA-MM-JJ) fixes it for tests and demos."""
        forced = os.environ.get("ESS_ACC_TODAY")
        return french_date(forced, "ESS_ACC_TODAY") if forced else dt.datetime.now(PARIS).date()

    @property
    def now(self) -> dt.datetime:
        forced = os.environ.get("ESS_ACC_TODAY")
        if forced:
            return dt.datetime.combine(self.today, dt.time(23, 59), tzinfo=PARIS)
        return dt.datetime.now(dt.UTC)

    def actor(self, session: Session) -> Actor:
        """The advisor named by --as, or the owner of this copy set at init."""
        if self.args.as_advisor:
            return load_actor(session, advisors.resolve_advisor(session, self.args.as_advisor))
        owner = advisors.owner_id(session)
        if owner is None:
            raise UserFacingError(
                "Aucun conseiller n'est associé à cette base : lancez « ess-acc init --advisor \"Prénom Nom\" "
                "--structure STRUCTURE » ou précisez --as.",
                field="as",
            )
        return load_actor(session, owner)


def parse_code(enum_cls: type[E], value: str, option: str) -> E:
    """A coded value given by its code or its French label, or a French error listing the choices."""
    member = enum_cls.parse(value)
    if member is None:
        choices = ", ".join(f"{m.value} ({m.label})" for m in enum_cls)
        raise ValidationError(f"{option} « {value} » : valeur inconnue. Valeurs possibles : {choices}.", field=option)
    return member  # type: ignore[return-value]


def _by_id_prefix(session: Session, model: type[Project] | type[Referral] | type[Financing] | type[NextStep], text: str,
                  label: str) -> uuid.UUID:
    """A row given by its full id, or by the first characters of its id (at least 6), like git."""
    compact = text.strip().lower().replace("-", "")
    if len(compact) < 6 or any(c not in "0123456789abcdef" for c in compact):
        raise ValidationError(f"{label} : identifiant attendu (au moins 6 caractères), « {text} » reçu.", field=label)
    low, high = uuid.UUID(compact.ljust(32, "0")[:32]), uuid.UUID(compact.ljust(32, "f")[:32])
    matches = session.execute(
        select(model.id).where(model.id.between(low, high), model.deleted_at.is_(None)).limit(5)
    ).scalars().all()
    if not matches:
        raise NotFoundError(f"{label} introuvable : aucun identifiant ne commence par « {text} ».", field=label)
    if len(matches) > 1:
        raise AmbiguousError(f"{label} : « {text} » désigne plusieurs enregistrements, donnez plus de caractères.",
                             field=label)
    return matches[0]


def project_id(session: Session, text: str) -> uuid.UUID:
    return _by_id_prefix(session, Project, text, "Projet")


def referral_id(session: Session, text: str) -> uuid.UUID:
    return _by_id_prefix(session, Referral, text, "Orientation")


def financing_id(session: Session, text: str) -> uuid.UUID:
    return _by_id_prefix(session, Financing, text, "Ligne de financement")


def step_id(session: Session, text: str) -> uuid.UUID:
    return _by_id_prefix(session, NextStep, text, "Étape")


def short(value: uuid.UUID) -> str:
    """The first 8 characters of an id, enough to name it on the command line."""
    return value.hex[:8]
