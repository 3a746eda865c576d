"""Who is acting: the advisor a use case runs for, and what that advisor may do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ess_accompagnement.domain.codes import AdvisorRole
from ess_accompagnement.domain.entities import Advisor
from ess_accompagnement.domain.errors import NotFoundError, RuleError


@dataclass(frozen=True)
class Actor:
    advisor_id: uuid.UUID
    structure_id: uuid.UUID
    role: AdvisorRole

    def require_writer(self) -> None:
        if self.role is AdvisorRole.LECTURE:
            raise RuleError("Votre profil est en lecture seule : cette action n'est pas permise.")


def load_actor(session: Session, advisor_id: uuid.UUID) -> Actor:
    advisor = session.get(Advisor, advisor_id)
    if advisor is None or advisor.deleted_at is not None:
        raise NotFoundError(f"Conseiller introuvable (id {advisor_id}).", field="as")
    if not advisor.active:
        raise RuleError("Ce conseiller est désactivé : il ne peut plus agir.", field="as")
    return Actor(advisor_id=advisor.id, structure_id=advisor.structure_id, role=advisor.role)
