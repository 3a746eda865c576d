"""Every dialog of ``ui/dialogs/``: each input has an accessible name, Tab visits inputs in form order, and
no two visible labels or buttons claim the same Alt letter.

The dialogs are discovered by importing every module of the package, so a new dialog is walked
without touching this test. Each is built on the demo database with the ids its constructor asks for
(and, for optional ids, once more with them: a dialog in edit mode shows other fields).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import uuid
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select

import ess_accompagnement.ui.dialogs as dialogs_package
from ess_accompagnement.domain.entities import Appointment, Financing, Person, Project, ProjectMember, Referral
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.dialogs.form import FormDialog

INPUTS = (QLineEdit, QComboBox, QSpinBox, QAbstractSpinBox, QDateEdit, QTextEdit, QPlainTextEdit, QCheckBox,
          QAbstractButton, QAbstractItemView)


def dialog_classes() -> list[type[QDialog]]:
    found: dict[str, type[QDialog]] = {}
    for info in pkgutil.iter_modules(dialogs_package.__path__):
        module = importlib.import_module(f"{dialogs_package.__name__}.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, QDialog) and cls.__module__ == module.__name__ and cls is not FormDialog:
                found[name] = cls
    return [found[name] for name in sorted(found)]


def _ids(ctx: AppContext) -> dict[str, uuid.UUID]:
    """An id of the demo database for each id parameter the constructors take."""
    with ctx.db.read() as session:
        def first(query: object) -> uuid.UUID:
            return session.scalars(query).first()  # type: ignore[call-overload,no-any-return]
        project_id = first(select(Project.id).where(Project.lead_structure_id == ctx.structure_id))
        return {
            "project_id": project_id,
            "appointment_id": first(select(Appointment.id).where(Appointment.owner_structure_id == ctx.structure_id)),
            "referral_id": first(select(Referral.id).where(Referral.from_structure_id == ctx.structure_id)),
            "financing_id": first(select(Financing.id).join(Project, Project.id == Financing.project_id)
                                  .where(Project.lead_structure_id == ctx.structure_id,
                                         Financing.deleted_at.is_(None))),
            # a member of that project, so the member dialogs are walked filled in
            "person_id": first(select(Person.id).join(ProjectMember, ProjectMember.person_id == Person.id)
                               .where(ProjectMember.project_id == project_id, ProjectMember.deleted_at.is_(None))),
        }


def variants(cls: type[QDialog], ids: dict[str, uuid.UUID]) -> Iterator[dict[str, uuid.UUID]]:
    """The keyword arguments to build ``cls`` with: required ids only, then every known id."""
    parameters = inspect.signature(cls.__init__).parameters
    required = {name: ids[name] for name, p in parameters.items() if name in ids and p.default is inspect.Parameter.empty}
    yield required
    optional = {name: ids[name] for name, p in parameters.items() if name in ids and name not in required}
    if optional:
        yield {**required, **next(iter([{k: v} for k, v in optional.items()]))}


def _inputs(widget: QWidget) -> list[QWidget]:
    """``widget`` and its descendants that take input, in creation order (inner parts of a spin box or combo
    box are the box's own business)."""
    found = [widget] if isinstance(widget, INPUTS) else []
    for child in widget.findChildren(QWidget):
        if isinstance(child, INPUTS) and not isinstance(child.parentWidget(), QAbstractSpinBox | QComboBox):
            found.append(child)
    return found


def _reachable(dialog: QDialog, widget: QWidget) -> bool:
    return widget.isVisibleTo(dialog) and widget.isEnabled() and bool(widget.focusPolicy().value & 0x1)


def form_order(dialog: QDialog) -> list[QWidget]:
    """The inputs of the dialog's form layouts, column by column (left first), row by row."""
    def origin(form: QFormLayout) -> tuple[int, int]:
        parent = form.parentWidget()
        point = parent.mapTo(dialog, form.geometry().topLeft()) if parent is not dialog else form.geometry().topLeft()
        return point.x() // 50, point.y()

    ordered: list[QWidget] = []
    for form in sorted(dialog.findChildren(QFormLayout), key=origin):
        for row in range(form.rowCount()):
            for role in (QFormLayout.ItemRole.FieldRole, QFormLayout.ItemRole.SpanningRole):
                item = form.itemAt(row, role)
                if item is not None and item.widget() is not None:
                    ordered += [w for w in _inputs(item.widget()) if w not in ordered]
    return [w for w in ordered if _reachable(dialog, w)]


def focus_chain(dialog: QDialog) -> list[QWidget]:
    chain: list[QWidget] = []
    widget = dialog.nextInFocusChain()
    while widget is not dialog and widget not in chain:
        chain.append(widget)
        widget = widget.nextInFocusChain()
    return chain


def test_every_dialog_module_is_discovered() -> None:
    names = {cls.__name__ for cls in dialog_classes()}
    assert {"ProjectDialog", "PersonDialog", "AppointmentDialog", "ReferralDialog", "ReferralAnswerDialog",
            "PhaseChangeDialog", "FinancingDialog", "FinancingFollowUpDialog", "NoteDialog", "ProjectStatusDialog", "AddMemberDialog",
            "MemberRoleDialog", "RemoveMemberDialog"} <= names


@pytest.mark.parametrize("cls", dialog_classes(), ids=lambda cls: cls.__name__)
def test_inputs_are_named_and_tab_follows_the_form(qtbot: QtBot, ui_ctx: AppContext, cls: type[QDialog]) -> None:
    ids = _ids(ui_ctx)
    for kwargs in variants(cls, ids):
        # GIVEN the dialog, built and loaded on the demo database
        dialog = cls(ui_ctx, **kwargs)
        qtbot.addWidget(dialog)
        dialog.show()
        assert ui_ctx.tasks.wait_idle()
        QApplication.processEvents()
        # THEN every visible input has an accessible name
        unnamed = [f"{type(w).__name__} {w.objectName()!r}" for w in _inputs(dialog) if w.isVisibleTo(dialog)
                   and not isinstance(w.parentWidget(), QDialogButtonBox | QAbstractItemView)
                   and not QAccessible.queryAccessibleInterface(w).text(QAccessible.Text.Name)]
        assert unnamed == [], f"{cls.__name__}({', '.join(kwargs)}): inputs without an accessible name"
        # AND Tab visits the form's inputs in the form's order
        expected = form_order(dialog)
        visited = [w for w in focus_chain(dialog) if w in expected]
        assert [w.accessibleName() for w in visited] == [w.accessibleName() for w in expected]
        dialog.close()


def alt_letter(text: str) -> str | None:
    """The letter Alt+letter reaches in a Qt text (« Ré&sumé » → « s »; « && » is a plain ampersand)."""
    index = text.replace("&&", "\0\0").find("&")
    return text[index + 1].lower() if 0 <= index < len(text) - 1 else None


def alt_letters(dialog: QDialog) -> dict[str, list[str]]:
    """Each Alt letter of the dialog's visible labels (with a buddy) and buttons, with the texts claiming it."""
    claimed: dict[str, list[str]] = {}
    texts = [w.text() for w in dialog.findChildren(QLabel) if w.buddy() is not None and w.isVisibleTo(dialog)]
    texts += [w.text() for w in dialog.findChildren(QAbstractButton) if w.isVisibleTo(dialog)]
    for text in texts:
        letter = alt_letter(text)
        if letter is not None:
            claimed.setdefault(letter, []).append(text)
    return claimed


@pytest.mark.parametrize("cls", dialog_classes(), ids=lambda cls: cls.__name__)
def test_each_alt_letter_reaches_one_field_or_button(qtbot: QtBot, ui_ctx: AppContext, cls: type[QDialog]) -> None:
    # An Alt letter claimed twice only moves the focus between the two, and a button sharing it is never
    # pressed (« &Enregistrer » and « Emplois maintenus (&ETP) » made Alt+E save nothing).
    for kwargs in variants(cls, _ids(ui_ctx)):
        dialog = cls(ui_ctx, **kwargs)
        qtbot.addWidget(dialog)
        dialog.show()
        assert ui_ctx.tasks.wait_idle()
        QApplication.processEvents()
        letters = alt_letters(dialog)
        assert letters, f"{cls.__name__}: no Alt letter at all"
        shared = {letter: texts for letter, texts in letters.items() if len(texts) > 1}
        assert shared == {}, f"{cls.__name__}({', '.join(kwargs)}): Alt letters claimed twice: {shared}"
        dialog.close()
