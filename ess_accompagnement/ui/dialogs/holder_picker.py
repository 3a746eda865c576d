"""The holders of a new project: existing persons found first, new ones checked for probable duplicates.

The advisor types a name (or an e-mail, a commune) in « Rechercher une personne »: persons already
recorded appear below and one is added with its role. Only when nobody fits does the advisor fill
the new holder's names; before creating, ``domain.duplicates`` looks for the same e-mail or phone
with a close first name, or a close name in the project's commune, and lists them with a warning:
pick one of them, or confirm with « Créer quand même ».

With ``single=True`` (« Ajouter un membre » of an existing project) the picker chooses one person: choosing
another replaces it, and the role is read from « Rôle » when saving (``member()``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.codes import MemberRole
from ess_accompagnement.domain.duplicates import Duplicate, MatchReason, PersonFacts, person_duplicates
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.projects import HolderDraft
from ess_accompagnement.domain.queries.search import SearchHit, search
from ess_accompagnement.ui.dialogs.fields import CodedCombo
from ess_accompagnement.ui.dialogs.form import FormDialog, Row, run_query
from ess_accompagnement.ui.labels import label

logger = logging.getLogger(__name__)

SEARCH_DEBOUNCE_MS = 150
WARNING_STYLE = "color: #7a4f01; background: #fff4e5; border: 1px solid #f5c16c; border-radius: 4px; padding: 6px;"
REASONS = {
    MatchReason.EMAIL_AND_FIRST_NAME: QT_TRANSLATE_NOOP("HolderPicker", "même courriel et prénom proche"),
    MatchReason.PHONE_AND_FIRST_NAME: QT_TRANSLATE_NOOP("HolderPicker", "même téléphone et prénom proche"),
    MatchReason.NAME_AND_COMMUNE: QT_TRANSLATE_NOOP("HolderPicker", "nom proche dans la même commune"),
}


@dataclass(frozen=True)
class Candidate:
    """A person the advisor can add: found by the search, or a probable duplicate."""

    person_id: uuid.UUID
    name: str


class HolderList(QListWidget):
    """The holders chosen so far (a handful: a plain list widget is right here)."""

    # ---- Signals

    sig_changed = Signal()
    """A holder was added or removed."""

    def __init__(self, *, single: bool = False) -> None:
        super().__init__()
        self.drafts: list[HolderDraft] = []
        self.single = single
        self.setMaximumHeight(40 if single else 90)

    def add(self, draft: HolderDraft, text: str) -> None:
        if self.single:
            self.clear()
            self.drafts.clear()
        self.drafts.append(draft)
        self.addItem(text)
        self.setCurrentRow(self.count() - 1)
        self.sig_changed.emit()

    def remove_current(self) -> None:
        row = self.currentRow()
        if row >= 0:
            self.takeItem(row)
            del self.drafts[row]
            self.sig_changed.emit()


class HolderPicker(QGroupBox):
    """The « Porteurs » group of the project dialog; ``holders()`` gives the drafts to save."""

    def __init__(self, dialog: FormDialog, commune: Callable[[], str | None], *, single: bool = False) -> None:
        super().__init__(QCoreApplication.translate("HolderPicker", "Personne") if single
                         else QCoreApplication.translate("HolderPicker", "Porteurs"))
        self._single = single
        self._dialog = dialog
        self._commune = commune
        self._confirmed: PersonFacts | None = None
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self._timer.timeout.connect(self._search)
        self._build()

    def _t(self, text: str) -> str:
        return QCoreApplication.translate("HolderPicker", text)

    def _build(self) -> None:
        d, form = self._dialog, self._dialog.new_form()
        self.search = QLineEdit(placeholderText=self._t("Nom, prénom ou courriel"))
        d.add_field(form, self._t("Rec&hercher une personne"), self.search)
        self.results = QListWidget(maximumHeight=96)
        d.add_field(form, self._t("Personnes trouvées"), self.results)
        self.role = CodedCombo(MemberRole)
        self.role_row: Row = d.add_field(form, self._t("Rô&le"), self.role, names=("role",))
        self.add_found = QPushButton(self._t("Ajouter la perso&nne trouvée"), enabled=False)
        form.addRow("", self.add_found)
        d.add_focusable(self.add_found)
        self.first_name, self.last_name = QLineEdit(), QLineEdit()
        self.email = QLineEdit(placeholderText=self._t("facultatif"))
        self.phone = QLineEdit(placeholderText=self._t("facultatif"))
        self._names = [d.add_field(form, self._t("Prénom (nouvelle personne)"), self.first_name, names=("first_name",)),
                       d.add_field(form, self._t("Nom (nouvelle personne)"), self.last_name, names=("last_name",))]
        d.add_field(form, self._t("Courriel"), self.email, names=("email",), check=self._check_email)
        d.add_field(form, self._t("Téléphone"), self.phone, names=("phone",), check=self._check_phone)
        self.warning = QLabel(wordWrap=True, visible=False, objectName="duplicate_warning")
        self.warning.setStyleSheet(WARNING_STYLE)
        form.addRow(self.warning)
        self.create = QPushButton(self._t("Ajouter co&mme nouvelle personne"), enabled=False)
        form.addRow("", self.create)
        d.add_focusable(self.create)
        self.chosen = HolderList(single=self._single)
        chosen_label = self._t("Personne à a&jouter") if self._single else self._t("Porteurs du &projet")
        self.chosen_row: Row = d.add_field(form, chosen_label, self.chosen, names=("holder",),
                                           check=self._check_chosen, required=True)
        self.remove = QPushButton(self._t("Reti&rer"), enabled=False)
        form.addRow("", self.remove)
        d.add_focusable(self.remove)
        self.setLayout(form)
        self._connect()

    def _connect(self) -> None:
        self.search.textEdited.connect(lambda _text: self._timer.start())
        self.results.currentRowChanged.connect(lambda row: self.add_found.setEnabled(row >= 0))
        self.results.itemActivated.connect(lambda _item: self._add_found())
        self.add_found.clicked.connect(self._add_found)
        for edit in (self.first_name, self.last_name, self.email, self.phone):
            edit.textChanged.connect(self._new_person_edited)
        self.create.clicked.connect(self._create_clicked)
        self.chosen.currentRowChanged.connect(lambda row: self.remove.setEnabled(row >= 0))
        self.remove.clicked.connect(self.chosen.remove_current)

    # ---- Values

    def holders(self) -> tuple[HolderDraft, ...]:
        return tuple(self.chosen.drafts)

    def member(self) -> HolderDraft | None:
        """The one person chosen (``single`` mode), with the role shown in « Rôle »."""
        if not self.chosen.drafts:
            return None
        return replace(self.chosen.drafts[-1], role=self.role.value() or MemberRole.PORTEUR)

    def _check_chosen(self) -> None:
        if not self.chosen.drafts and self._single:
            raise ValidationError(self._t("Personne à ajouter : choisissez une personne trouvée ou une nouvelle "
                                          "personne."), field="holder")
        if not self.chosen.drafts:
            raise ValidationError(self._t("Porteurs : ajoutez au moins un porteur (une personne trouvée ou nouvelle)."),
                                  field="holder")

    def _check_email(self) -> None:
        if self.email.text().strip():
            validation.email(self.email.text(), "email")

    def _check_phone(self) -> None:
        if self.phone.text().strip():
            validation.phone(self.phone.text(), "phone")

    # ---- Existing persons

    def _search(self) -> None:
        typed = self.search.text()
        run_query(self, self._dialog.ctx, lambda session: search(session, typed, limit=15, kinds=("person",)),
                  self._found)

    def _found(self, hits: list[SearchHit]) -> None:
        self._show_candidates([(Candidate(hit.id, hit.title), f"{hit.title} — {hit.detail}" if hit.detail else hit.title)
                               for hit in hits])

    def _show_candidates(self, candidates: list[tuple[Candidate, str]]) -> None:
        self.results.clear()
        for candidate, text in candidates:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, candidate)
            self.results.addItem(item)
        if candidates:
            self.results.setCurrentRow(0)

    def _add_found(self) -> None:
        item = self.results.currentItem()
        if item is None:
            return
        candidate: Candidate = item.data(Qt.ItemDataRole.UserRole)
        if not self._single and any(draft.person_id == candidate.person_id for draft in self.chosen.drafts):
            self.warning.setText(self._t("Cette personne figure déjà parmi les porteurs."))
            self.warning.show()
            return
        first, _space, last = candidate.name.partition(" ")
        role = self.role.value() or MemberRole.PORTEUR
        self.chosen.add(HolderDraft(first, last or first, role, person_id=candidate.person_id),
                        candidate.name if self._single else f"{candidate.name} — {label(role)}")
        self._reset_new_person()

    # ---- New persons

    def _facts(self) -> PersonFacts:
        return PersonFacts(self.first_name.text().strip(), self.last_name.text().strip(),
                           self.email.text().strip() or None, self.phone.text().strip() or None, self._commune())

    def _new_person_edited(self) -> None:
        self._confirmed = None
        self.create.setText(self._t("Ajouter co&mme nouvelle personne"))
        self.warning.hide()
        self.create.setEnabled(bool(self.first_name.text().strip() and self.last_name.text().strip()))

    def _create_clicked(self) -> None:
        facts = self._facts()
        try:
            self._check_email()
            self._check_phone()
        except ValidationError as exc:
            self._dialog.show_refusal(exc)
            return
        if self._confirmed == facts:
            self._add_new(facts)
            return
        self.create.setEnabled(False)
        run_query(self, self._dialog.ctx, lambda session: person_duplicates(session, facts),
                  lambda found: self._duplicates_checked(facts, found))

    def _duplicates_checked(self, facts: PersonFacts, found: list[Duplicate]) -> None:
        self.create.setEnabled(True)
        if not found:
            self._add_new(facts)
            return
        self._confirmed = facts
        self._show_candidates([(Candidate(d.id, d.label), f"{d.label} — {self._t(REASONS[d.reason])}") for d in found])
        self.warning.setText(self._t(
            "Cette personne est peut-être déjà enregistrée (voir « Personnes trouvées ») : ajoutez la personne "
            "trouvée, ou confirmez qu'il s'agit d'une autre personne."))
        self.warning.show()
        self.create.setText(self._t("Créer quand &même"))
        self.results.setFocus()

    def _add_new(self, facts: PersonFacts) -> None:
        role = self.role.value() or MemberRole.PORTEUR
        name = f"{facts.first_name} {facts.last_name}" + ("" if self._single else f" — {label(role)}")
        self.chosen.add(HolderDraft(facts.first_name, facts.last_name, role, facts.email, facts.phone),
                        f"{name} " + self._t("(nouvelle personne)"))
        self._reset_new_person()

    def _reset_new_person(self) -> None:
        for edit in (self.first_name, self.last_name, self.email, self.phone):
            edit.clear()
        if not self._single:  # the next holder of a new project is most often a co-porteur
            self.role.set_value(MemberRole.CO_PORTEUR)
        self.warning.hide()
        self.results.clear()
        self.search.clear()
