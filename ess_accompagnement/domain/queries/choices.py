"""The values offered by the projects list's filters: structures, advisors, départements, EPCI.

Only values that some live project uses are offered, so every choice gives a non-empty list.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain.entities import Advisor, Commune, Project, Structure


@dataclass(frozen=True)
class Choice:
    key: str  # uuid hex, département code or EPCI SIREN
    label: str
    group: str | None = None  # an advisor's structure id, an EPCI's département


@dataclass(frozen=True)
class FilterChoices:
    structures: tuple[Choice, ...]
    advisors: tuple[Choice, ...]
    departements: tuple[Choice, ...]
    epcis: tuple[Choice, ...]


def _live_projects() -> ColumnElement[bool]:
    return Project.deleted_at.is_(None)


def filter_choices(session: Session) -> FilterChoices:
    return FilterChoices(_structures(session), _advisors(session), _departements(session), _epcis(session))


def _structures(session: Session) -> tuple[Choice, ...]:
    leads = select(Project.lead_structure_id).where(_live_projects()).distinct()
    rows = session.execute(select(Structure.id, Structure.name).where(Structure.id.in_(leads))
                           .order_by(Structure.sort_key)).all()
    return tuple(Choice(id_.hex, name) for id_, name in rows)


def _advisors(session: Session) -> tuple[Choice, ...]:
    leads = select(Project.lead_advisor_id).where(_live_projects(), Project.lead_advisor_id.is_not(None)).distinct()
    rows = session.execute(select(Advisor.id, Advisor.name, Advisor.structure_id)
                           .where(Advisor.id.in_(leads), Advisor.deleted_at.is_(None))
                           .order_by(Advisor.sort_key)).all()
    return tuple(Choice(id_.hex, name, structure.hex) for id_, name, structure in rows)


def _used_communes() -> Select[tuple[str | None]]:
    return select(Project.commune_code).where(_live_projects(), Project.commune_code.is_not(None)).distinct()


def _departements(session: Session) -> tuple[Choice, ...]:
    rows = session.execute(select(Commune.departement).where(Commune.code.in_(_used_communes())).distinct()
                           .order_by(Commune.departement)).scalars()
    return tuple(Choice(code, code) for code in rows)


def _epcis(session: Session) -> tuple[Choice, ...]:
    rows = session.execute(
        select(Commune.epci_siren, Commune.epci_name, Commune.departement)
        .where(Commune.code.in_(_used_communes()), Commune.epci_siren.is_not(None))
        .group_by(Commune.epci_siren).order_by(Commune.epci_name)
    ).all()
    return tuple(Choice(siren, name or siren, departement) for siren, name, departement in rows)


def parse_uuid(key: str | None) -> uuid.UUID | None:
    return uuid.UUID(key) if key else None
