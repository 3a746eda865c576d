"""A line of the project's « tour de table »: recording it (instrument, funder or dispositif, amounts, status,
dates) and following it (the funder's decision with the amount granted, the payment, a correction)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from PySide6.QtWidgets import QFormLayout, QLineEdit, QPlainTextEdit, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import financing
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import FinancingStatus, Instrument, StructureKind, SupportType
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.projects import project_values
from ess_accompagnement.domain.queries.catalogue import DispositifRow, StructureRow, list_dispositifs, list_structures
from ess_accompagnement.domain.queries.project_records import FinancingItem, financing_line
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import AmountEdit, CodedCombo, DateEdit, IdCombo
from ess_accompagnement.ui.dialogs.form import FormDialog, Row
from ess_accompagnement.ui.labels import capitalised

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
        self.add_field(form, self.tr("Autre fi&nanceur"), self.funder_name, names=("funder_name",))
        self.figures = _FigureFields(self, form)
        self.amount, self.status, self.comment = self.figures.amount, self.figures.status, self.figures.comment
        self.funder.currentIndexChanged.connect(lambda _index: self._offer_dispositifs())
        self.finish(form)
        self.figures.follow_status()
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

    def value(self) -> financing.FinancingDraft:
        f = self.figures
        return financing.FinancingDraft(
            project_id=self.project_id, instrument=self.instrument.value() or Instrument.AUTRE, amount=f.requested(),
            status=f.status_value(), dispositif_id=self.dispositif.value(), funder_structure_id=self.funder.value(),
            funder_name=self.funder_name.text(), comment=self.comment.toPlainText(), amount_granted=f.granted(),
            requested_on=f.requested_on.parse(), decided_on=f.decided_on.parse())

    def operation(self) -> Callable[[Session, Actor], Any]:
        draft, today = self.value(), self.ctx.today
        return lambda session, actor: financing.add_financing(session, actor, draft, today=today)


class FinancingFollowUpDialog(FormDialog):
    """« Suivi du financement »: the funder's decision, the payment or a correction of one line;
    ``value()`` → ``FinancingUpdate``."""

    def __init__(self, ctx: AppContext, financing_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Suivi du financement"))
        self._subject_id = self.line_id = financing_id
        self.setMinimumWidth(520)
        form = self.new_form()
        self.line = QLineEdit(readOnly=True)
        self.add_field(form, self.tr("Lig&ne"), self.line, names=("financing",))
        self.figures = _FigureFields(self, form)
        self.finish(form)
        self.figures.follow_status()
        self.load(self._read, self._fill)

    def _read(self, session: Session) -> FinancingItem | None:
        return financing_line(session, self.line_id)

    def _fill(self, line: FinancingItem | None) -> None:
        if line is None:
            self.banner.setText(self.tr("Cette ligne de financement n'existe plus."))
            self.banner.show()
            self.save_button.setEnabled(False)
            return
        f = self.figures
        self.line.setText(" — ".join(part for part in (capitalised(line.instrument), line.funder) if part))
        f.amount.setText(_amount_text(line.requested))
        f.status.set_value(line.status)
        f.granted_amount.setText(_amount_text(line.granted))
        f.requested_on.set_date(line.requested_on)
        f.decided_on.set_date(line.decided_on)
        f.comment.setPlainText(line.comment or "")
        f.follow_status()

    def value(self) -> financing.FinancingUpdate:
        f = self.figures
        return financing.FinancingUpdate(status=f.status_value(), amount_requested=f.requested(),
                                         amount_granted=f.granted(), requested_on=f.requested_on.parse(),
                                         decided_on=f.decided_on.parse(), comment=f.comment.toPlainText())

    def operation(self) -> Callable[[Session, Actor], Any]:
        update, today, line_id = self.value(), self.ctx.today, self.line_id
        return lambda session, actor: financing.update_financing(session, actor, line_id, update, today=today)


def _amount_text(value: Decimal | None) -> str:
    return "" if value is None else format_decimal(value, format="#,##0.00", locale="fr_FR")


class _FigureFields:
    """The amounts, status and dates both dialogs share; the granted amount and the decision date are shown
    only for the statuses that have them."""

    def __init__(self, dialog: FormDialog, form: QFormLayout) -> None:
        self.dialog = dialog
        tr = dialog.tr
        self.amount = AmountEdit(field="amount")
        dialog.add_field(form, tr("&Montant demandé (€)"), self.amount, names=("amount",),
                         check=lambda: self._positive(self.amount, "amount", tr("Montant demandé")), required=True)
        self.status = CodedCombo(FinancingStatus)
        self.status.set_value(FinancingStatus.DEMANDE)
        dialog.add_field(form, tr("&Statut"), self.status, names=("status",))
        self.granted_amount = AmountEdit(field="amount_granted")
        self.granted_amount.setPlaceholderText(tr("par défaut : le montant demandé"))
        self.granted_row: Row = dialog.add_field(
            form, tr("Montant acc&ordé (€)"), self.granted_amount, names=("amount_granted",),
            check=lambda: self._positive(self.granted_amount, "amount_granted", tr("Montant accordé")))
        self.requested_on = DateEdit(field="requested_on")
        self.requested_on.setPlaceholderText(tr("JJ/MM/AAAA — par défaut : aujourd'hui"))
        dialog.add_field(form, tr("Da&te de la demande"), self.requested_on, names=("requested_on",),
                         check=lambda: self.requested_on.parse())
        self.decided_on = DateEdit(field="decided_on")
        self.decided_on.setPlaceholderText(tr("JJ/MM/AAAA — par défaut : aujourd'hui"))
        self.decided_row: Row = dialog.add_field(form, tr("Date de &la décision"), self.decided_on,
                                                 names=("decided_on",), check=lambda: self.decided_on.parse())
        self.comment = QPlainTextEdit(tabChangesFocus=True, maximumHeight=80)
        dialog.add_field(form, tr("&Commentaire"), self.comment, names=("comment",))
        self.status.currentIndexChanged.connect(lambda _index: self.follow_status())

    def follow_status(self) -> None:
        status = self.status_value()
        self.dialog.set_row_visible(self.granted_row, status in financing.GRANTED)
        self.dialog.set_row_visible(self.decided_row, status in financing.DECIDED | {FinancingStatus.ABANDONNE})

    def status_value(self) -> FinancingStatus:
        return self.status.value() or FinancingStatus.DEMANDE

    def requested(self) -> Decimal:
        amount = self.amount.parse()
        if amount is None:
            raise ValidationError(self.dialog.tr("Montant demandé : ce champ est obligatoire."), field="amount")
        return amount

    def granted(self) -> Decimal | None:
        return self.granted_amount.parse() if self.status_value() in financing.GRANTED else None

    def _positive(self, edit: AmountEdit, field: str, label: str) -> None:
        amount = edit.parse()
        if amount is not None and amount <= 0:
            raise ValidationError(self.dialog.tr("{label} : il doit être supérieur à zéro.").format(label=label),
                                  field=field)
