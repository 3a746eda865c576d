"""The input widgets of the form dialogs: French dates, times and amounts, coded and id choices, communes.

Dates and times are plain line edits (« 12/03/2026 », « 14:30 » or « 14h30 »), parsed by the domain's
validators, rather than ``QDateTimeEdit``: an advisor types the date in one go without stepping
through sections, can leave an optional date empty, and gets the domain's own French message when
it is wrong. Up/Down move a date by a day (PageUp/PageDown by a month).

Each widget's ``parse()`` returns the typed value or raises the domain's ``ValidationError``; the
form (``form.py``) shows that message under the field and keeps Save disabled.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Generic, TypeVar

from dateutil.relativedelta import relativedelta
from PySide6.QtCore import QCoreApplication, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QCompleter, QLineEdit, QWidget

from ess_accompagnement.domain import validation
from ess_accompagnement.domain.codes import Coded
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.queries.communes import CommuneRow, find_communes, get_commune
from ess_accompagnement.domain.text import fold
from ess_accompagnement.ui.labels import capitalised

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Coded)
NO_DATA = ""
"""The user data of « none » items. Never leave an item's data unset: PySide6 6.12 on Python 3.11 returns
None for an unset QVariant without counting the reference, and the interpreter aborts at exit
(« none_dealloc ») once enough reads have happened."""
_TIME = re.compile(r"^\s*(\d{1,2})\s*(?:[:hH.]\s*(\d{2})?)?\s*$")
_COMPACT_TIME = re.compile(r"^\s*(\d{2})(\d{2})\s*$")
COMMUNE_DEBOUNCE_MS = 120


def _tr(text: str) -> str:
    return QCoreApplication.translate("Fields", text)


# ---- Dates, times, amounts ----------------------------------------------------------------------


class DateEdit(QLineEdit):
    """A French date typed as « 12/03/2026 » (also 12.03.2026, 12-03-2026); empty means no date."""

    def __init__(self, parent: QWidget | None = None, *, field: str = "date") -> None:
        super().__init__(parent, placeholderText=_tr("JJ/MM/AAAA"), maxLength=10)
        self._field = field
        self.setToolTip(_tr("Date au format JJ/MM/AAAA. Flèches haut et bas : jour suivant ou précédent."))
        self.editingFinished.connect(self._normalise)

    def parse(self) -> dt.date | None:
        text = self.text().strip()
        return validation.french_date(text, self._field) if text else None

    def set_date(self, value: dt.date | None) -> None:
        self.setText(value.strftime("%d/%m/%Y") if value else "")

    def _normalise(self) -> None:
        try:
            self.set_date(self.parse())
        except ValidationError:
            pass

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {Qt.Key.Key_Up: relativedelta(days=1), Qt.Key.Key_Down: relativedelta(days=-1),
                 Qt.Key.Key_PageUp: relativedelta(months=1), Qt.Key.Key_PageDown: relativedelta(months=-1)}
        step = steps.get(Qt.Key(event.key()))
        if step is None:
            super().keyPressEvent(event)
            return
        try:
            current = self.parse()
        except ValidationError:
            return
        if current is not None:
            self.set_date(current + step)


class TimeEdit(QLineEdit):
    """A time of day typed as « 14:30 », « 14h30 », « 14h » or « 1430 »."""

    def __init__(self, parent: QWidget | None = None, *, field: str = "time") -> None:
        super().__init__(parent, placeholderText=_tr("HH:MM"), maxLength=5)
        self._field = field
        self.editingFinished.connect(self._normalise)

    def parse(self) -> dt.time:
        text = self.text()
        match = _TIME.match(text) or _COMPACT_TIME.match(text)
        if match:
            hour, minute = int(match.group(1)), int(match.group(2) or 0)
            if hour < 24 and minute < 60:
                return dt.time(hour, minute)
        message = _tr("Heure « {0} » : format attendu HH:MM (ex. 14:30).").format(text.strip())
        raise ValidationError(message, field=self._field)

    def set_time(self, value: dt.time) -> None:
        self.setText(value.strftime("%H:%M"))

    def _normalise(self) -> None:
        try:
            self.set_time(self.parse())
        except ValidationError:
            pass


class AmountEdit(QLineEdit):
    """An amount in euros typed the French way: « 15 000,50 », « 15000,5 » (pasted « 15000.50 » too)."""

    def __init__(self, parent: QWidget | None = None, *, field: str = "amount") -> None:
        super().__init__(parent, placeholderText=_tr("ex. 15 000,50"))
        self._field = field
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.editingFinished.connect(self._normalise)

    def parse(self) -> Decimal | None:
        text = self.text().strip()
        return validation.amount(text, self._field) if text else None

    def set_amount(self, value: Decimal | None) -> None:
        self.setText(validation.format_amount(value).removesuffix("\u00a0€") if value is not None else "")

    def _normalise(self) -> None:
        try:
            self.set_amount(self.parse())
        except ValidationError:
            pass


# ---- Choices ------------------------------------------------------------------------------------


class CodedCombo(QComboBox, Generic[E]):
    """A choice among the members of a coded enum, shown by their French label."""

    def __init__(self, enum_cls: type[E], parent: QWidget | None = None, *, none_label: str | None = None,
                 members: Iterable[E] | None = None) -> None:
        super().__init__(parent)
        self._enum = enum_cls
        self.set_members(members if members is not None else list(enum_cls), none_label=none_label)

    def set_members(self, members: Iterable[E], *, none_label: str | None = None) -> None:
        current = self.value() if self.count() else None
        self.blockSignals(True)
        self.clear()
        if none_label is not None:
            self.addItem(none_label, NO_DATA)
        for member in members:
            self.addItem(capitalised(member), member.value)
        self.blockSignals(False)
        self.set_value(current)
        self.currentIndexChanged.emit(self.currentIndex())

    def value(self) -> E | None:
        data = self.currentData() if self.currentIndex() >= 0 else NO_DATA
        return self._enum(data) if data else None

    def set_value(self, member: E | None) -> None:
        if member is None:
            index = self.findData(NO_DATA)
        else:
            index = self.findData(member.value)
        if index >= 0:
            self.setCurrentIndex(index)


class IdCombo(QComboBox):
    """A choice among rows named by id (structures, dispositifs, advisors), optionally grouped under
    disabled headers (« Suggérées pour cette phase », « Toutes les structures »)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = QStandardItemModel(self)
        self.setModel(self._model)

    def set_groups(self, groups: Sequence[tuple[str | None, Sequence[tuple[str, uuid.UUID | None]]]]) -> None:
        """Replace the choices: each group has an optional header and its ``(label, id)`` items."""
        current = self.value()
        self.blockSignals(True)
        self._model.clear()
        for header, items in groups:
            if header is not None and items:
                item = QStandardItem(header)
                item.setData(NO_DATA, Qt.ItemDataRole.UserRole)
                item.setEnabled(False)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                self._model.appendRow(item)
            for label, id_ in items:
                choice = QStandardItem(f"   {label}" if header is not None else label)
                choice.setData(id_ if id_ is not None else NO_DATA, Qt.ItemDataRole.UserRole)
                self._model.appendRow(choice)
        self.blockSignals(False)
        if not self.set_value(current):
            self._select_first()
        self.currentIndexChanged.emit(self.currentIndex())

    def set_choices(self, items: Sequence[tuple[str, uuid.UUID | None]]) -> None:
        self.set_groups([(None, items)])

    def value(self) -> uuid.UUID | None:
        if self.currentIndex() < 0:
            return None
        data = self.currentData(Qt.ItemDataRole.UserRole)
        return data if isinstance(data, uuid.UUID) else None

    def set_value(self, id_: uuid.UUID | None) -> bool:
        for row in range(self._model.rowCount()):
            item = self._model.item(row)
            if item.isEnabled() and item.data(Qt.ItemDataRole.UserRole) == (id_ if id_ is not None else NO_DATA):
                self.setCurrentIndex(row)
                return True
        return False

    def _select_first(self) -> None:
        for row in range(self._model.rowCount()):
            if self._model.item(row).isEnabled():
                self.setCurrentIndex(row)
                return


# ---- Communes -----------------------------------------------------------------------------------


class CommuneEdit(QLineEdit):
    """A commune typed by name or postal code, completed from the commune reference as you type.

    Typing a whole name (« Tours ») or a postal code with one commune is enough; otherwise pick a
    line of the completion list. ``parse()`` gives the INSEE code (None when empty).
    """

    # ---- Signals

    sig_changed = Signal()
    """The text changed, or the communes matching it arrived: the form revalidates."""

    def __init__(self, ctx: object, parent: QWidget | None = None, *, field: str = "commune") -> None:
        super().__init__(parent, placeholderText=_tr("Nom ou code postal"))
        self._ctx = ctx
        self._field = field
        self._rows: dict[str, CommuneRow] = {}
        self._pending = 0
        self._model = QStringListModel(self)
        completer = QCompleter(self._model, self)
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompleter(completer)
        self._timer = QTimer(self, singleShot=True, interval=COMMUNE_DEBOUNCE_MS)
        self._timer.timeout.connect(self._look_up)
        self.textEdited.connect(lambda _text: self._timer.start())
        self.textChanged.connect(lambda _text: self.sig_changed.emit())

    @property
    def busy(self) -> bool:
        return self._pending > 0 or self._timer.isActive()

    def parse(self) -> str | None:
        text = " ".join(self.text().split())
        if not text:
            return None
        row = self._match(text)
        if row is not None:
            return row.code
        if self.busy:
            raise ValidationError(_tr("Commune : recherche en cours…"), field=self._field)
        raise ValidationError(
            _tr("Commune : choisissez une commune de la liste (tapez le début du nom ou le code postal)."),
            field=self._field)

    def set_commune(self, code: str | None) -> None:
        """Show the commune with this INSEE code (looked up on the worker)."""
        if code is None:
            self.setText("")
            return
        self._query(lambda session: [row] if (row := get_commune(session, code)) else [], select_single=True)

    def _match(self, text: str) -> CommuneRow | None:
        if text in self._rows:
            return self._rows[text]
        wanted = fold(text)
        rows = list(self._rows.values())
        named = [row for row in rows if fold(row.name) == wanted]
        if named:
            return named[0]  # the current, most populous commune of that name (the query's order)
        if len(rows) == 1 and (text in rows[0].postal_codes or text.upper() == rows[0].code):
            return rows[0]
        return None

    def _look_up(self) -> None:
        typed = self.text().strip()
        if len(typed) < 2:
            return
        self._query(lambda session: find_communes(session, typed, limit=15), select_single=False)

    def _query(self, fn: object, *, select_single: bool) -> None:
        from ess_accompagnement.ui.dialogs.form import run_query

        self._pending += 1
        run_query(self, self._ctx, fn, lambda rows: self._arrived(rows, select_single))

    def _arrived(self, rows: list[CommuneRow], select_single: bool) -> None:
        self._pending -= 1
        labels = []
        for row in rows:
            label = row.label if row.label not in labels else f"{row.label} – {row.code}"
            labels.append(label)
            self._rows[label] = row
        self._model.setStringList(labels)
        if select_single and labels:
            self.setText(labels[0])
        elif self.hasFocus() and labels and self._match(self.text().strip()) is None:
            self.completer().complete()
        self.sig_changed.emit()


class ProjectSearchEdit(QLineEdit):
    """A project found by its title, holders or commune (global search), for a dialog opened without one."""

    # ---- Signals

    sig_changed = Signal()
    """The text changed, or the projects matching it arrived."""

    def __init__(self, ctx: object, parent: QWidget | None = None, *, field: str = "projet") -> None:
        super().__init__(parent, placeholderText=_tr("Titre, porteur ou commune du projet"))
        self._ctx = ctx
        self._field = field
        self._hits: dict[str, uuid.UUID] = {}
        self._pending = 0
        self._model = QStringListModel(self)
        completer = QCompleter(self._model, self)
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.setCompleter(completer)
        self._timer = QTimer(self, singleShot=True, interval=COMMUNE_DEBOUNCE_MS)
        self._timer.timeout.connect(self._look_up)
        self.textEdited.connect(lambda _text: self._timer.start())
        self.textChanged.connect(lambda _text: self.sig_changed.emit())

    def parse(self) -> uuid.UUID:
        text = self.text().strip()
        if text in self._hits:
            return self._hits[text]
        matching = [id_ for label, id_ in self._hits.items() if fold(label).startswith(fold(text))] if text else []
        if len(matching) == 1:
            return matching[0]
        if self._pending or self._timer.isActive():
            raise ValidationError(_tr("Projet : recherche en cours…"), field=self._field)
        raise ValidationError(_tr("Projet : choisissez un projet de la liste (tapez le début de son titre)."),
                              field=self._field)

    def _look_up(self) -> None:
        from ess_accompagnement.domain.queries.search import search
        from ess_accompagnement.ui.dialogs.form import run_query

        typed = self.text()
        self._pending += 1
        run_query(self, self._ctx, lambda session: search(session, typed, limit=15, kinds=("project",)), self._arrived)

    def _arrived(self, hits: list) -> None:  # type: ignore[type-arg]
        self._pending -= 1
        self._hits = {f"{hit.title} — {hit.detail}" if hit.detail else hit.title: hit.id for hit in hits}
        self._model.setStringList(list(self._hits))
        if self.hasFocus() and self._hits:
            self.completer().complete()
        self.sig_changed.emit()
