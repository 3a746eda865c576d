"""Open sync conflicts as the desktop shows them: which record, which field, who wrote each version.

``load_conflicts(session, advisor_id)`` (run in a ``Query``) turns the engine's ``ConflictRow``s
(``sync.api.list_conflicts``) into frozen ``ConflictItem``s: the record's French name (a project's title,
a person's name, « Rendez-vous – <projet> »…), the field's French label, and for each competing value its
author and structure by name and its display text. ``ConflictsTableModel`` lists them.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP
from sqlalchemy import Boolean, Date, DateTime, Enum, Text, text
from sqlalchemy.orm import Session

from ess_accompagnement.domain.entities import SYNCED_MODELS, Advisor, Structure
from ess_accompagnement.sync import api
from ess_accompagnement.ui.labels import label
from ess_accompagnement.ui.models.rows_model import Column, RowsTableModel, tr
from ess_accompagnement.ui.widgets.french import date_time

logger = logging.getLogger(__name__)

CONTEXT = "ConflictsTableModel"
DELETE = "delete"

FIELD_LABELS: dict[str, str] = {
    "title": QT_TRANSLATE_NOOP("ConflictsTableModel", "Titre"),
    "summary": QT_TRANSLATE_NOOP("ConflictsTableModel", "Résumé"),
    "legal_form": QT_TRANSLATE_NOOP("ConflictsTableModel", "Forme juridique"),
    "envisaged_legal_form": QT_TRANSLATE_NOOP("ConflictsTableModel", "Forme juridique envisagée"),
    "sector": QT_TRANSLATE_NOOP("ConflictsTableModel", "Secteur"),
    "filiere": QT_TRANSLATE_NOOP("ConflictsTableModel", "Filière"),
    "commune_code": QT_TRANSLATE_NOOP("ConflictsTableModel", "Commune"),
    "status": QT_TRANSLATE_NOOP("ConflictsTableModel", "Statut"),
    "lead_advisor_id": QT_TRANSLATE_NOOP("ConflictsTableModel", "Conseiller référent"),
    "lead_structure_id": QT_TRANSLATE_NOOP("ConflictsTableModel", "Structure référente"),
    "siret": QT_TRANSLATE_NOOP("ConflictsTableModel", "SIRET"),
    "rna": QT_TRANSLATE_NOOP("ConflictsTableModel", "RNA"),
    "first_name": QT_TRANSLATE_NOOP("ConflictsTableModel", "Prénom"),
    "last_name": QT_TRANSLATE_NOOP("ConflictsTableModel", "Nom"),
    "gender": QT_TRANSLATE_NOOP("ConflictsTableModel", "Genre"),
    "birth_year": QT_TRANSLATE_NOOP("ConflictsTableModel", "Année de naissance"),
    "email": QT_TRANSLATE_NOOP("ConflictsTableModel", "E-mail"),
    "phone": QT_TRANSLATE_NOOP("ConflictsTableModel", "Téléphone"),
    "situation": QT_TRANSLATE_NOOP("ConflictsTableModel", "Situation"),
    "role": QT_TRANSLATE_NOOP("ConflictsTableModel", "Rôle"),
    "starts_at": QT_TRANSLATE_NOOP("ConflictsTableModel", "Début"),
    "duration_minutes": QT_TRANSLATE_NOOP("ConflictsTableModel", "Durée (minutes)"),
    "mode": QT_TRANSLATE_NOOP("ConflictsTableModel", "Modalité"),
    "place": QT_TRANSLATE_NOOP("ConflictsTableModel", "Lieu"),
    "notes": QT_TRANSLATE_NOOP("ConflictsTableModel", "Compte rendu"),
    "text": QT_TRANSLATE_NOOP("ConflictsTableModel", "Texte"),
    "motive": QT_TRANSLATE_NOOP("ConflictsTableModel", "Motif"),
    "comment": QT_TRANSLATE_NOOP("ConflictsTableModel", "Commentaire"),
    "answer_comment": QT_TRANSLATE_NOOP("ConflictsTableModel", "Commentaire de réponse"),
    "outcome_comment": QT_TRANSLATE_NOOP("ConflictsTableModel", "Commentaire de sortie"),
    "name": QT_TRANSLATE_NOOP("ConflictsTableModel", "Nom"),
    "amount_requested": QT_TRANSLATE_NOOP("ConflictsTableModel", "Montant demandé"),
    "amount_granted": QT_TRANSLATE_NOOP("ConflictsTableModel", "Montant accordé"),
    "due_date": QT_TRANSLATE_NOOP("ConflictsTableModel", "Échéance"),
    "deleted_at": QT_TRANSLATE_NOOP("ConflictsTableModel", "Suppression de la fiche"),
}

TABLE_LABELS: dict[str, str] = {
    "project": QT_TRANSLATE_NOOP("ConflictsTableModel", "Projet"),
    "person": QT_TRANSLATE_NOOP("ConflictsTableModel", "Personne"),
    "project_member": QT_TRANSLATE_NOOP("ConflictsTableModel", "Porteur"),
    "phase_change": QT_TRANSLATE_NOOP("ConflictsTableModel", "Phase"),
    "status_change": QT_TRANSLATE_NOOP("ConflictsTableModel", "Statut"),
    "appointment": QT_TRANSLATE_NOOP("ConflictsTableModel", "Rendez-vous"),
    "next_step": QT_TRANSLATE_NOOP("ConflictsTableModel", "Prochaine étape"),
    "referral": QT_TRANSLATE_NOOP("ConflictsTableModel", "Orientation"),
    "financing": QT_TRANSLATE_NOOP("ConflictsTableModel", "Financement"),
    "note": QT_TRANSLATE_NOOP("ConflictsTableModel", "Note"),
    "structure": QT_TRANSLATE_NOOP("ConflictsTableModel", "Structure"),
    "dispositif": QT_TRANSLATE_NOOP("ConflictsTableModel", "Dispositif"),
    "advisor": QT_TRANSLATE_NOOP("ConflictsTableModel", "Conseiller"),
    "permanence": QT_TRANSLATE_NOOP("ConflictsTableModel", "Permanence"),
}

_NAMED = {"structure": "name", "dispositif": "name", "advisor": "name", "permanence": "name", "project": "title"}


@dataclass(frozen=True)
class VersionItem:
    """One competing value: what it is (stored and shown), who wrote it, when, and whether it is shown."""

    field: str
    value: Any
    text: str
    mine: bool
    author: str
    structure: str
    at: dt.datetime
    shown: bool


@dataclass(frozen=True)
class ConflictItem:
    id: str
    kind: str  # "value" or "delete"
    table: str
    row_id: str
    field: str
    record: str
    since: dt.datetime
    versions: tuple[VersionItem, ...]
    text_field: bool
    """A multi-line text: « Garder les deux » is offered."""
    editable: bool
    """A free text (one line or several): « Saisir une autre valeur » is offered."""


# ---- Loading (worker thread, no widget) ----------------------------------------------------------


def _column(table: str, field: str) -> Any:
    for model in SYNCED_MODELS:
        if model.__tablename__ == table:  # type: ignore[attr-defined]
            return model.__table__.columns.get(field)  # type: ignore[attr-defined]
    return None


def field_kind(table: str, field: str) -> tuple[bool, bool]:
    """(multi-line text, free text) for a column."""
    column = _column(table, field)
    if column is None or isinstance(column.type, Enum) or column.foreign_keys:
        return False, False
    type_ = column.type
    is_text = isinstance(type_, Text)
    is_string = getattr(type_, "python_type", None) is str if not isinstance(type_, (Date, DateTime)) else False
    return is_text, is_text or bool(is_string)


def value_text(table: str, field: str, value: Any) -> str:
    """The French display of a stored value (codes by their label, booleans as Oui/Non)."""
    if value is None or value == "":
        return tr(CONTEXT, "(vide)")
    column = _column(table, field)
    type_ = column.type if column is not None else None
    if isinstance(type_, Enum) and type_.enum_class is not None:
        try:
            return label(type_.enum_class(value))  # type: ignore[arg-type]
        except ValueError:
            return str(value)
    if isinstance(type_, Boolean):
        return tr(CONTEXT, "Oui") if value in (1, True, "1") else tr(CONTEXT, "Non")
    return str(value)


def _name(session: Session, model: Any, hex_id: str | None) -> str:
    if not hex_id:
        return ""
    try:
        found = session.get(model, uuid.UUID(hex_id))
    except ValueError:
        return ""
    if found is None:
        return ""
    return str(getattr(found, "short_name", None) or found.name)


def record_label(session: Session, table: str, row_id: str) -> str:
    """A project's title, a person's name, or « <kind> – <project title> »."""
    kind = tr(CONTEXT, TABLE_LABELS.get(table, table))
    if table in _NAMED:
        found = session.execute(text(f'SELECT "{_NAMED[table]}" FROM "{table}" WHERE id = :id'), {"id": row_id}).first()
        return str(found[0]) if found else kind
    if table == "person":
        found = session.execute(text("SELECT first_name, last_name FROM person WHERE id = :id"), {"id": row_id}).first()
        return f"{found[0]} {found[1]}" if found else kind
    column = _column(table, "project_id")
    if column is not None:
        found = session.execute(text(f'SELECT p.title FROM "{table}" t JOIN project p ON p.id = t.project_id '
                                     "WHERE t.id = :id"), {"id": row_id}).first()
        if found:
            return f"{kind} – {found[0]}"
    return kind


def _my_sites(session: Session) -> set[str]:
    return {r[0] for r in session.execute(text("SELECT site_id FROM sync_site WHERE retired = 0"))}


def _version(session: Session, table: str, leaf: api.ConflictLeaf, sites: set[str], me: str | None) -> VersionItem:
    mine = leaf.site in sites or (me is not None and leaf.author == me)
    author = _name(session, Advisor, leaf.author or (me if leaf.site in sites else None))
    return VersionItem(leaf.field, leaf.value, value_text(table, leaf.field, leaf.value), mine, author,
                       _name(session, Structure, leaf.structure), leaf.at, leaf.winner)


def load_conflicts(session: Session, advisor_id: uuid.UUID | None = None) -> list[ConflictItem]:
    """Every open conflict of this copy, ready to show."""
    mine = _my_sites(session)
    me = advisor_id.hex if advisor_id is not None else None
    items = []
    for row in api.list_conflicts(session):
        versions = tuple(_version(session, row.table, leaf, mine, me) for leaf in row.leaves)
        multi, free = field_kind(row.table, row.field) if row.kind != DELETE else (False, False)
        items.append(ConflictItem(row.id, row.kind, row.table, row.row_id, row.field,
                                  record_label(session, row.table, row.row_id), max(v.at for v in versions),
                                  versions, multi, free))
    logger.debug("%d open conflicts", len(items))
    return items


# ---- Table model ---------------------------------------------------------------------------------


def field_label(item: ConflictItem) -> str:
    return tr(CONTEXT, FIELD_LABELS.get(item.field, item.field))


def kind_label(item: ConflictItem) -> str:
    return tr(CONTEXT, "suppression") if item.kind == DELETE else tr(CONTEXT, "valeur")


def local_date_time(moment: dt.datetime) -> str:
    return date_time(moment.astimezone() if moment.tzinfo else moment)


class ConflictsTableModel(RowsTableModel[ConflictItem]):
    CONTEXT: ClassVar[str] = CONTEXT
    COLUMNS: ClassVar[list[Column[ConflictItem]]] = [
        Column(QT_TRANSLATE_NOOP("ConflictsTableModel", "Fiche"), lambda r: r.record,
               sort=lambda r: r.record.casefold()),
        Column(QT_TRANSLATE_NOOP("ConflictsTableModel", "Champ"), field_label),
        Column(QT_TRANSLATE_NOOP("ConflictsTableModel", "Nature"), kind_label),
        Column(QT_TRANSLATE_NOOP("ConflictsTableModel", "Depuis"), lambda r: local_date_time(r.since),
               sort=lambda r: r.since),
    ]
