"""Creating or editing a project: its identity, who follows it, and (on creation) its holders and first phase."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QDoubleSpinBox, QGroupBox, QHBoxLayout, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget
from sqlalchemy.orm import Session

from ess_accompagnement.domain import projects, validation
from ess_accompagnement.domain.actors import Actor
from ess_accompagnement.domain.codes import LegalForm, Phase, Prescripteur, Sector
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.queries.catalogue import list_structures
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.fields import CodedCombo, CommuneEdit, DateEdit, IdCombo
from ess_accompagnement.ui.dialogs.form import FormDialog
from ess_accompagnement.ui.dialogs.holder_picker import HolderPicker

logger = logging.getLogger(__name__)


class ProjectDialog(FormDialog):
    """« Nouveau projet » (``project_id`` None) or « Modifier le projet »; ``value()`` gives the draft."""

    def __init__(self, ctx: AppContext, project_id: uuid.UUID | None = None, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.set_title(self.tr("Nouveau projet") if project_id is None else self.tr("Modifier le projet"))
        self._subject_id = self.project_id = project_id
        self.setMinimumWidth(980)
        columns = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self._identity_group())
        left.addStretch(1)
        columns.addLayout(left, 1)
        right = QVBoxLayout()
        right.addWidget(self._follow_up_group())
        self.holders: HolderPicker | None = None
        if project_id is None:
            self.holders = HolderPicker(self, self._commune_code)
            right.addWidget(self.holders)
        right.addStretch(1)
        columns.addLayout(right, 1)
        self.finish(columns)
        self.load(self._read, self._fill)

    def _identity_group(self) -> QGroupBox:
        group, form = QGroupBox(self.tr("Le projet")), self.new_form()
        self.title = QLineEdit(maxLength=200)
        self.add_field(form, self.tr("&Titre"), self.title, names=("title",), required=True)
        self.summary = QPlainTextEdit(tabChangesFocus=True, maximumHeight=72)
        self.add_field(form, self.tr("Ré&sumé"), self.summary, names=("summary",))
        self.commune = CommuneEdit(self.ctx)
        self.add_field(form, self.tr("&Commune"), self.commune, names=("commune",), check=self.commune.parse)
        none = self.tr("— non précisé —")
        self.sector = CodedCombo(Sector, none_label=none)
        self.add_field(form, self.tr("Secte&ur"), self.sector, names=("sector",))
        self.filiere = QLineEdit(maxLength=100)
        self.add_field(form, self.tr("&Filière"), self.filiere, names=("filiere",))
        self.legal_form = CodedCombo(LegalForm)
        self.add_field(form, self.tr("Forme &juridique actuelle"), self.legal_form, names=("legal_form",))
        self.envisaged = CodedCombo(LegalForm, none_label=none)
        self.add_field(form, self.tr("Forme en&visagée"), self.envisaged, names=("envisaged_legal_form",))
        self.siret = QLineEdit(maxLength=20, placeholderText=self.tr("14 chiffres"))
        self.add_field(form, self.tr("S&IRET"), self.siret, names=("siret",), check=self._check_siret)
        self.rna = QLineEdit(maxLength=12, placeholderText=self.tr("W suivi de 9 chiffres"))
        self.add_field(form, self.tr("RNA"), self.rna, names=("rna",), check=self._check_rna)
        self.prescripteur = CodedCombo(Prescripteur, none_label=none)
        self.add_field(form, self.tr("Prescripteur"), self.prescripteur, names=("prescripteur",))
        self.innovation = self.add_check(form, self.tr("Innovation sociale"))
        self.esus = self.add_check(form, self.tr("Agrément ESUS (obtenu ou visé)"))
        self.confidential = self.add_check(form, self.tr("Projet confidentiel"))
        group.setLayout(form)
        return group

    def _follow_up_group(self) -> QGroupBox:
        group, form = QGroupBox(self.tr("Accompagnement")), self.new_form()
        self.structure = QLineEdit(readOnly=True)
        self.add_field(form, self.tr("Structure qui mène"), self.structure, names=("structure",))
        self.advisor = IdCombo()
        self.add_field(form, self.tr("C&onseiller référent"), self.advisor, names=("advisor",))
        if self.project_id is None:
            self.phase = CodedCombo(Phase)
            self.add_field(form, self.tr("Phase de &départ"), self.phase, names=("phase",))
            self.phase_date = DateEdit(field="phase_date")
            self.phase_date.set_date(self.ctx.today)
            self.add_field(form, self.tr("Date d'entrée dans la phase"), self.phase_date, names=("phase_date",),
                           check=self._check_phase_date, required=True)
        else:
            self.jobs_created = self._jobs_spin()
            self.add_field(form, self.tr("E&mplois créés (ETP)"), self.jobs_created, names=("jobs_created",))
            self.jobs_maintained = self._jobs_spin()
            self.add_field(form, self.tr("Emplois mai&ntenus (ETP)"), self.jobs_maintained, names=("jobs_maintained",))
        group.setLayout(form)
        return group

    def _jobs_spin(self) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(decimals=2, maximum=9999.0, singleStep=0.5)
        spin.setLocale(QLocale(QLocale.Language.French, QLocale.Country.France))
        return spin

    # ---- Checks

    def _commune_code(self) -> str | None:
        try:
            return self.commune.parse()
        except ValidationError:
            return None

    def _check_siret(self) -> None:
        if self.siret.text().strip():
            validation.siret(self.siret.text())

    def _check_rna(self) -> None:
        if self.rna.text().strip():
            validation.rna(self.rna.text())

    def _check_phase_date(self) -> None:
        date = self.phase_date.parse()
        if date is not None and date > self.ctx.today:
            raise ValidationError(self.tr("Date d'entrée dans la phase : elle ne peut pas être dans le futur."),
                                  field="phase_date")

    # ---- Loading

    def _read(self, session: Session) -> tuple[projects.ProjectValues | None, list[Any], str]:
        values = projects.project_values(session, self.project_id) if self.project_id else None
        structure_id = values.lead_structure_id if values else self.ctx.structure_id
        names = {row.id: row.name for row in list_structures(session, include_inactive=True)}
        return values, projects.structure_advisors(session, structure_id), names.get(structure_id, "")

    def _fill(self, loaded: tuple[projects.ProjectValues | None, list[Any], str]) -> None:
        values, advisors, structure = loaded
        self.structure.setText(structure)
        self.advisor.set_choices([(advisor.name, advisor.id) for advisor in advisors])
        self.advisor.set_value(values.lead_advisor_id if values else self.ctx.advisor_id)
        if values is not None:
            self._fill_values(values)

    def _fill_values(self, values: projects.ProjectValues) -> None:
        self.title.setText(values.title)
        self.summary.setPlainText(values.summary or "")
        self.commune.set_commune(values.commune_code)
        self.sector.set_value(values.sector)
        self.filiere.setText(values.filiere or "")
        self.legal_form.set_value(values.legal_form)
        self.envisaged.set_value(values.envisaged_legal_form)
        self.siret.setText(values.siret or "")
        self.rna.setText(values.rna or "")
        self.prescripteur.set_value(values.prescripteur)
        self.jobs_created.setValue(float(values.jobs_created or 0))
        self.jobs_maintained.setValue(float(values.jobs_maintained or 0))
        self._loaded_jobs = (self.jobs_created.value(), self.jobs_maintained.value())
        self.innovation.setChecked(values.innovation_sociale)
        self.esus.setChecked(values.esus)
        self.confidential.setChecked(values.confidential)

    # ---- Saving

    def value(self) -> projects.ProjectDraft | projects.ProjectEdit:
        """The draft of the new project, or the edit of the existing one."""
        if self.project_id is None:
            return self._draft()
        return projects.ProjectEdit(
            title=self.title.text(), summary=self.summary.toPlainText(), legal_form=self.legal_form.value(),
            envisaged_legal_form=self.envisaged.value(), sector=self.sector.value(), siret=self.siret.text(),
            rna=self.rna.text(), commune_code=self.commune.parse() or "", filiere=self.filiere.text(),
            jobs_created=self._jobs(self.jobs_created, 0), prescripteur=self.prescripteur.value(),
            jobs_maintained=self._jobs(self.jobs_maintained, 1), lead_advisor_id=self.advisor.value(),
            flags=self._flags(),
        )

    def _draft(self) -> projects.ProjectDraft:
        assert self.holders is not None
        return projects.ProjectDraft(
            title=self.title.text(), lead_structure_id=self.ctx.structure_id, commune_code=self.commune.parse(),
            holders=self.holders.holders(), lead_advisor_id=self.advisor.value(),
            phase=self.phase.value() or Phase.EMERGENCE, phase_date=self.phase_date.parse(),
            summary=self.summary.toPlainText(), legal_form=self.legal_form.value() or LegalForm.NON_DEFINIE,
            envisaged_legal_form=self.envisaged.value(), sector=self.sector.value(), siret=self.siret.text() or None,
            rna=self.rna.text() or None, prescripteur=self.prescripteur.value(), filiere=self.filiere.text(),
            **self._flags(),
        )

    def _jobs(self, spin: QDoubleSpinBox, index: int) -> Decimal | None:
        """The ETP typed, or None (leave as stored) when unchanged: an unknown count is not saved as 0."""
        loaded = getattr(self, "_loaded_jobs", (0.0, 0.0))[index]
        return Decimal(str(spin.value())) if spin.value() != loaded else None

    def _flags(self) -> dict[str, bool]:
        return {"innovation_sociale": self.innovation.isChecked(), "esus": self.esus.isChecked(),
                "confidential": self.confidential.isChecked()}

    def operation(self) -> Callable[[Session, Actor], Any]:
        value, today = self.value(), self.ctx.today
        if isinstance(value, projects.ProjectDraft):
            return lambda session, actor: projects.create_project(session, actor, value, today=today)
        project_id = self.project_id
        assert project_id is not None
        return lambda session, actor: projects.edit_project(session, actor, project_id, value)
