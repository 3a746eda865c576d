"""A line of the project's « tour de table »: instrument, funder or dispositif, amount, status."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import financing
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import FinancingStatus, Instrument, StructureKind, SupportType
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.projects import project_values
from ess_accompagnement.domain.queries.catalogue import DispositifRow, StructureRow, list_dispositifs, list_structures
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import AmountEdit, CodedCombo, IdCombo
from ess_accompagnement.ui.dialogs.form import FormDialog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Funders:
    title: str
    structures: list[StructureRow]
    dispositifs: list[DispositifRow]


def _is_funder(row: StructureRow) -> bool:
    return row.kind is StructureKind.FINANCEUR or SupportType.FINANCEMENT in row.support_types


class FinancingDialog(FormDialog):
    """« Nouveau financement »; ``value()`` → ``FinancingDraft``."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Nouveau financement"))
        self.project_id = project_id
        self._funders: Funders | None = None
        self.setMinimumWidth(560)
        form = self.new_form()
        self.project = QLineEdit(readOnly=True)
        self.add_field(form, self.tr("&Projet"), self.project, names=("projet",))
        self.instrument = CodedCombo(Instrument)
        self.add_field(form, self.tr("&Instrument"), self.instrument, names=("instrument",))
        self.funder = IdCombo()
        self.add_field(form, self.tr("&Financeur"), self.funder, names=("funder",))
        self.dispositif = IdCombo()
        self.add_field(form, self.tr("&Dispositif"), self.dispositif, names=("dispositif",))
        self.funder_name = QLineEdit(maxLength=200, placeholderText=self.tr("banque, fondation… absente du catalogue"))
        self.add_field(form, self.tr("Autre &financeur"), self.funder_name, names=("funder_name",))
        self.amount = AmountEdit(field="amount")
        self.add_field(form, self.tr("&Montant (€)"), self.amount, names=("amount",), check=self._check_amount,
                       required=True)
        self.status = CodedCombo(FinancingStatus)
        self.status.set_value(FinancingStatus.DEMANDE)
        self.add_field(form, self.tr("&Statut"), self.status, names=("status",))
        self.comment = QPlainTextEdit(tabChangesFocus=True, maximumHeight=80)
        self.add_field(form, self.tr("&Commentaire"), self.comment, names=("comment",))
        self.funder.currentIndexChanged.connect(lambda _index: self._offer_dispositifs())
        self.finish(form)
        self.load(self._read, self._fill)

    def _read(self, session: Session) -> Funders:
        return Funders(project_values(session, self.project_id).title, list_structures(session),
                       list_dispositifs(session))

    def _fill(self, funders: Funders) -> None:
        self._funders = funders
        self.project.setText(funders.title)
        rows = funders.structures
        self.funder.set_groups([
            (None, [(self.tr("— non précisé —"), None)]),
            (self.tr("Financeurs"), [(row.name, row.id) for row in rows if _is_funder(row)]),
            (self.tr("Autres structures"), [(row.name, row.id) for row in rows if not _is_funder(row)]),
        ])
        self._offer_dispositifs()

    def _offer_dispositifs(self) -> None:
        if self._funders is None:
            return
        funder = self.funder.value()
        rows = [row for row in self._funders.dispositifs if funder is None or row.operator_id == funder]
        items = [(row.name if funder else f"{row.name} ({row.operator_name})", row.id) for row in rows]
        self.dispositif.set_choices([(self.tr("— aucun —"), None), *items])

    def _check_amount(self) -> None:
        amount = self.amount.parse()
        if amount is not None and amount <= 0:
            raise ValidationError(self.tr("Montant : il doit être supérieur à zéro."), field="amount")

    def value(self) -> financing.FinancingDraft:
        amount = self.amount.parse()
        if amount is None:
            raise ValidationError(self.tr("Montant : ce champ est obligatoire."), field="amount")
        return financing.FinancingDraft(
            project_id=self.project_id, instrument=self.instrument.value() or Instrument.AUTRE, amount=amount,
            status=self.status.value() or FinancingStatus.DEMANDE, dispositif_id=self.dispositif.value(),
            funder_structure_id=self.funder.value(), funder_name=self.funder_name.text(),
            comment=self.comment.toPlainText())

    def operation(self) -> Callable[[Session, Actor], Any]:
        draft, today = self.value(), self.ctx.today
        return lambda session, actor: financing.add_financing(session, actor, draft, today=today)
