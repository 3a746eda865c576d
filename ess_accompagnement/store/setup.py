"""Setting up a new copy of the database: reference data, then its owner."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from ess_accompagnement.domain import advisors
from ess_accompagnement.domain.codes import AdvisorRole
from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.domain.queries.catalogue import resolve_structure
from ess_accompagnement.store.catalogue import CatalogueResult, load_catalogue
from ess_accompagnement.store.communes import load_communes
from ess_accompagnement.store.db import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SetupResult:
    owner_id: uuid.UUID | None
    communes: int
    catalogue: CatalogueResult


def load_reference_data(db: Database) -> tuple[int, CatalogueResult]:
    """Load (or update, idempotently) the communes and the catalogue, in one transaction."""
    with db.transaction() as session:
        communes = load_communes(session.connection())
        catalogue = load_catalogue(session)
    logger.info("reference data loaded: %d communes, catalogue %s", communes, catalogue)
    return communes, catalogue


def initialise(db: Database, *, advisor_name: str | None, structure: str | None) -> SetupResult:
    """Load the reference data and, when given, create the owner advisor of this copy.

    Running it again on an initialised database only updates the reference data.
    """
    communes, catalogue = load_reference_data(db)
    if advisor_name is None and structure is None:
        return SetupResult(None, communes, catalogue)
    if not advisor_name or not structure:
        raise RuleError("Indiquez à la fois --advisor et --structure pour créer le conseiller.", field="advisor")
    with db.transaction() as session:
        existing = advisors.owner_id(session)
        if existing is not None:
            raise RuleError("Cette base a déjà un conseiller propriétaire ; ajoutez-en d'autres avec "
                            "« ess-acc advisor add ».", field="advisor")
        structure_id = resolve_structure(session, structure).id
        owner = advisors.add_advisor(session, None, name=advisor_name, structure_id=structure_id,
                                     role=AdvisorRole.RESPONSABLE).id
        advisors.set_owner(session, owner)
    return SetupResult(owner, communes, catalogue)
