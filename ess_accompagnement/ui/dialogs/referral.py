"""Referring a project to another structure: targets and dispositifs suggested by the project's phase."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import phases, referrals
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import Phase
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.projects import project_values
from ess_accompagnement.domain.queries.catalogue import DispositifRow, StructureRow, list_dispositifs, list_structures
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import IdCombo
from ess_accompagnement.ui.dialogs.form import FormDialog
from ess_accompagnement.ui.labels import label

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Catalogue:
    """What the referral form offers: the project's phase and the catalogue, whole and for that phase."""

    title: str
    phase: Phase | None
    structures: list[StructureRow]
    suggested_structures: set[uuid.UUID]
    dispositifs: list[DispositifRow]
    suggested_dispositifs: set[uuid.UUID]


def read_catalogue(session: Session, project_id: uuid.UUID) -> Catalogue:
    steps = phases.history(session, project_id)
    phase = steps[-1].phase if steps else None
    suggested = {row.id for row in list_structures(session, phase=phase)} if phase else set()
    suggested_dispositifs = {row.id for row in list_dispositifs(session, phase=phase)} if phase else set()
    return Catalogue(project_values(session, project_id).title, phase, list_structures(session), suggested,
                     list_dispositifs(session), suggested_dispositifs)


class ReferralDialog(FormDialog):
    """« Orienter le projet »; ``value()`` → ``ReferralDraft``."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Orienter le projet"))
        self.project_id = project_id
        self._catalogue: Catalogue | None = None
        self.setMinimumWidth(600)
        form = self.new_form()
        self.project = QLineEdit(readOnly=True)
        self.add_field(form, self.tr("&Projet"), self.project, names=("projet",))
        self.structure = IdCombo()
        self.add_field(form, self.tr("&Structure destinataire"), self.structure, names=("to",), required=True)
        self.dispositif = IdCombo()
        self.add_field(form, self.tr("&Dispositif"), self.dispositif, names=("dispositif",))
        self.motive = QPlainTextEdit(tabChangesFocus=True, minimumHeight=110)
        self.motive.setPlaceholderText(self.tr("Ce que le porteur attend de la structure, où en est le projet…"))
        self.add_field(form, self.tr("&Motif et message"), self.motive, names=("motive",), required=True)
        self.structure.currentIndexChanged.connect(lambda _index: self._offer_dispositifs())
        self.finish(form)
        self.load(lambda session: read_catalogue(session, project_id), self._fill)

    def _fill(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        phase = label(catalogue.phase, empty=self.tr("inconnue"))
        self.project.setText(self.tr("{0} (phase : {1})").format(catalogue.title, phase))
        rows = [row for row in catalogue.structures if row.id != self.ctx.structure_id]
        suggested = [(row.name, row.id) for row in rows if row.id in catalogue.suggested_structures]
        others = [(row.name, row.id) for row in rows if row.id not in catalogue.suggested_structures]
        self.structure.set_groups([
            (None, [(self.tr("— choisissez une structure —"), None)]),
            (self.tr("Suggérées pour la phase « {0} »").format(phase), suggested),
            (self.tr("Toutes les structures") if suggested else None, others),
        ])
        self._offer_dispositifs()

    def _offer_dispositifs(self) -> None:
        catalogue, target = self._catalogue, self.structure.value()
        if catalogue is None:
            return
        rows = [row for row in catalogue.dispositifs if row.operator_id == target]
        suggested = [(row.name, row.id) for row in rows if row.id in catalogue.suggested_dispositifs]
        others = [(row.name, row.id) for row in rows if row.id not in catalogue.suggested_dispositifs]
        self.dispositif.set_groups([
            (None, [(self.tr("— sans dispositif précis —"), None)]),
            (self.tr("Suggérés pour cette phase"), suggested),
            (self.tr("Autres dispositifs") if suggested else None, others),
        ])
        self.dispositif.setEnabled(bool(rows))

    def value(self) -> referrals.ReferralDraft:
        target = self.structure.value()
        if target is None:
            raise ValidationError(self.tr("Structure destinataire : choisissez-la."), field="to")
        return referrals.ReferralDraft(self.project_id, target, self.motive.toPlainText(), self.dispositif.value())

    def operation(self) -> Callable[[Session, Actor], Any]:
        draft, today = self.value(), self.ctx.today
        return lambda session, actor: referrals.propose(session, actor, draft, today=today)
