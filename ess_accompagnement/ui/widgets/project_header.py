"""The head of a project's page: title, phase and status badges, lead structure and advisor, territory."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ess_accompagnement.domain.codes import Phase, ProjectStatus
from ess_accompagnement.domain.queries.project_detail import ProjectDetail
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.widgets.french import long_date, short_date

PHASE_COLOURS: dict[Phase, str] = {
    Phase.EMERGENCE: "#6D5BD0", Phase.CREATION: "#2F6FB2", Phase.CONSOLIDATION: "#2E8B57",
    Phase.CHANGEMENT_ECHELLE: "#0E7C86", Phase.REPRISE_TRANSMISSION: "#9A6B12", Phase.DIFFICULTE: "#B42318",
}
STATUS_COLOURS: dict[ProjectStatus, str] = {
    ProjectStatus.ACTIF: "#027A48", ProjectStatus.EN_VEILLE: "#B54708", ProjectStatus.ABANDONNE: "#667085",
    ProjectStatus.ACTIVITE_DEMARREE: "#175CD3", ProjectStatus.CLOS: "#475467",
}


def badge(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent, objectName=name)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def paint_badge(label: QLabel, text: str, colour: str) -> None:
    label.setText(text)
    label.setStyleSheet(f"QLabel {{ color: white; background: {colour}; border-radius: 9px; padding: 2px 10px;"
                        " font-weight: 600; }")


class ProjectHeader(QFrame):
    """Filled by ``show_detail``; every label is selectable so advisors can copy a SIRET or a name."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent, objectName="project_header")
        self.setStyleSheet("#project_header { background: #F5F7FA; border-bottom: 1px solid #D0D5DD; }")
        self.title = QLabel(self, objectName="project_title",
                            textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title.setFont(font)
        self.phase = badge(self, "project_phase")
        self.status = badge(self, "project_status")
        self.confidential = badge(self, "project_confidential")
        self.lead = self._value("project_lead")
        self.territory = self._value("project_territory")
        self.facts = self._value("project_facts")
        self.next_step = self._value("project_next_step")
        self._layout()

    def _value(self, name: str) -> QLabel:
        label = QLabel(self, objectName=name, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setStyleSheet("color: #344054;")
        return label

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.title)
        top.addSpacing(8)
        for widget in (self.phase, self.status, self.confidential):
            top.addWidget(widget)
        top.addStretch(1)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.lead, 0, 0)
        grid.addWidget(self.facts, 0, 1)
        grid.addWidget(self.territory, 1, 0)
        grid.addWidget(self.next_step, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addLayout(grid)

    # ---- Public API

    def show_detail(self, d: ProjectDetail) -> None:
        self.title.setText(d.title)
        self.title.setToolTip(d.summary or "")
        if d.phase is not None:
            since = self.tr(" depuis le {date}").format(date=short_date(d.phase_since)) if d.phase_since else ""
            paint_badge(self.phase, capitalised(d.phase) + since, PHASE_COLOURS[d.phase])
        self.phase.setVisible(d.phase is not None)
        paint_badge(self.status, capitalised(d.status), STATUS_COLOURS[d.status])
        paint_badge(self.confidential, self.tr("Confidentiel"), "#B42318")
        self.confidential.setVisible(d.confidential)
        advisor = d.lead_advisor or self.tr("aucun conseiller désigné")
        self.lead.setText(self.tr("<b>Structure référente :</b> {structure} · <b>Conseiller :</b> {advisor}").format(
            structure=escape(d.lead_structure), advisor=escape(advisor)))
        self.territory.setText(self.tr("<b>Territoire :</b> {territory}").format(territory=escape(territory(d, self))))
        self.facts.setText(self.tr("<b>Forme juridique :</b> {form} · <b>Suivi depuis le</b> {date}").format(
            form=capitalised(d.legal_form), date=long_date(d.created_at.date())))
        self.next_step.setText(next_step_text(d, self))


def territory(d: ProjectDetail, widget: QWidget) -> str:
    if d.commune is None:
        return widget.tr("commune non renseignée")
    parts = [d.commune]
    if d.epci:
        parts.append(d.epci)
    if d.departement:
        parts.append(widget.tr("département {code}").format(code=d.departement))
    return " · ".join(parts)


def next_step_text(d: ProjectDetail, widget: QWidget) -> str:
    if not d.open_next_steps:
        return widget.tr("<b>Prochaine étape :</b> aucune")
    text, due = d.open_next_steps[0]
    more = len(d.open_next_steps) - 1
    when = widget.tr(" (pour le {date})").format(date=short_date(due)) if due else ""
    extra = widget.tr(" · {n} autre(s)").format(n=more) if more else ""
    return widget.tr("<b>Prochaine étape :</b> {text}{when}{extra}").format(text=escape(text), when=when, extra=extra)
