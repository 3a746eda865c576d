"""The week grid of the agenda: days in columns, half-hour slots from 8:00 to 19:00 in rows.

Painted by hand (QPainter): public holidays hatched with their name, today tinted, permanence
sessions as teal bands, appointments as cards coloured by status, side by side when they overlap.
Keyboard: the arrow keys move a slot cursor, Enter opens the appointment under it or asks for a new
one at that time; the mouse does the same with a double-click.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ess_accompagnement.domain.codes import AppointmentStatus
from ess_accompagnement.domain.queries.agenda import AgendaAppointment, AgendaWeek, PermanenceSession
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.ui.labels import capitalised
from ess_accompagnement.ui.widgets.french import clock, day_header

FIRST_HOUR, LAST_HOUR = 8, 19
SLOTS = (LAST_HOUR - FIRST_HOUR) * 2
HEADER_H, TIME_W = 46, 56
STATUS_COLOURS: dict[AppointmentStatus, tuple[str, str]] = {  # fill, border
    AppointmentStatus.PLANIFIE: ("#DCE9F8", "#2F6FB2"),
    AppointmentStatus.REALISE: ("#E1F3E6", "#2E8B57"),
    AppointmentStatus.ANNULE: ("#F2F4F7", "#98A2B3"),
    AppointmentStatus.ABSENT: ("#FDEBD8", "#C7661C"),
}
PERMANENCE = ("#E0F2F1", "#0E7C86")
HOLIDAY = QColor("#B42318")


@dataclass(frozen=True)
class Placed:
    """An appointment and the rectangle it is drawn in."""

    item: AgendaAppointment
    rect: QRect


def lanes(items: list[AgendaAppointment]) -> list[tuple[AgendaAppointment, int, int]]:
    """Each appointment with its lane and the number of lanes of its overlapping cluster."""
    placed: list[tuple[AgendaAppointment, int, int]] = []
    cluster: list[tuple[AgendaAppointment, int]] = []
    cluster_end: dt.datetime | None = None

    def close() -> None:
        width = max((lane for _item, lane in cluster), default=-1) + 1
        placed.extend((item, lane, width) for item, lane in cluster)

    for item in sorted(items, key=lambda a: (a.starts_at, a.ends_at)):
        if cluster_end is not None and item.starts_at >= cluster_end:
            close()
            cluster, cluster_end = [], None
        busy = {lane for other, lane in cluster if other.ends_at > item.starts_at}
        lane = next(n for n in range(len(cluster) + 1) if n not in busy)
        cluster.append((item, lane))
        cluster_end = max(cluster_end, item.ends_at) if cluster_end else item.ends_at
    close()
    return placed


class AgendaGrid(QWidget):
    # ---- Signals

    sig_open_appointment = Signal(object)
    """Open this appointment (its ``AgendaAppointment``)."""
    sig_create_at = Signal(object)
    """Create an appointment starting at this aware ``datetime`` (Europe/Paris)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, focusPolicy=Qt.FocusPolicy.StrongFocus, mouseTracking=True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(self.tr("Semaine de l'agenda"))
        self.week: AgendaWeek | None = None
        self.today: dt.date | None = None
        self.cursor_day, self.cursor_slot = 0, 2
        self._placed: list[Placed] = []

    # ---- Public API

    def set_week(self, week: AgendaWeek, today: dt.date) -> None:
        self.week, self.today = week, today
        if week.monday <= today <= week.monday + dt.timedelta(days=6):
            self.cursor_day = min(today.weekday(), self.day_count - 1)
        self.cursor_day = min(self.cursor_day, self.day_count - 1)
        self._announce()
        self.update()

    @property
    def days(self) -> tuple[dt.date, ...]:
        return self.week.days[:self.day_count] if self.week else ()

    @property
    def day_count(self) -> int:
        """Monday to Saturday, and Sunday when it is today or something happens on it."""
        if self.week is None:
            return 6
        sunday = self.week.days[6]
        busy = sunday == self.today or any(a.starts_at.date() == sunday for a in self.week.appointments) or any(
            p.starts_at.date() == sunday for p in self.week.permanences)
        return 7 if busy else 6

    def cursor_time(self) -> dt.datetime:
        day = self.days[self.cursor_day] if self.week else dt.date.today()
        minutes = FIRST_HOUR * 60 + self.cursor_slot * 30
        return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=PARIS)

    def appointment_at_cursor(self) -> AgendaAppointment | None:
        moment = self.cursor_time()
        end = moment + dt.timedelta(minutes=30)
        for item in self.week.appointments if self.week else ():
            if item.starts_at < end and item.ends_at > moment:
                return item
        return None

    def activate(self) -> None:
        """Enter: open the appointment under the cursor, or create one at its time."""
        item = self.appointment_at_cursor()
        if item is not None:
            self.sig_open_appointment.emit(item)
        else:
            self.sig_create_at.emit(self.cursor_time())

    # ---- Geometry

    def _column_width(self) -> float:
        return (self.width() - TIME_W) / max(1, self.day_count)

    def _slot_height(self) -> float:
        return (self.height() - HEADER_H) / SLOTS

    def _y_of(self, moment: dt.datetime) -> float:
        minutes = moment.hour * 60 + moment.minute - FIRST_HOUR * 60
        minutes = max(0, min(SLOTS * 30, minutes))
        return HEADER_H + minutes / 30 * self._slot_height()

    def _slot_rect(self, day: int, slot: int) -> QRect:
        w, h = self._column_width(), self._slot_height()
        return QRect(int(TIME_W + day * w), int(HEADER_H + slot * h), int(w), int(h))

    def _slot_at(self, point: QPoint) -> tuple[int, int] | None:
        if point.x() < TIME_W or point.y() < HEADER_H:
            return None
        day = int((point.x() - TIME_W) / self._column_width())
        slot = int((point.y() - HEADER_H) / self._slot_height())
        return (day, slot) if 0 <= day < self.day_count and 0 <= slot < SLOTS else None

    def _item_at(self, point: QPoint) -> AgendaAppointment | None:
        for placed in reversed(self._placed):
            if placed.rect.contains(point):
                return placed.item
        return None

    # ---- Qt overrides

    def sizeHint(self) -> QSize:
        return QSize(900, HEADER_H + SLOTS * 28)

    def minimumSizeHint(self) -> QSize:
        return QSize(500, HEADER_H + SLOTS * 16)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        self._paint_columns(painter)
        self._paint_lines(painter)
        self._paint_permanences(painter)
        self._paint_appointments(painter)
        self._paint_cursor(painter)
        painter.end()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        moves = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        key = Qt.Key(event.key())
        if key in moves and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            dx, dy = moves[key]
            self.cursor_day = max(0, min(self.day_count - 1, self.cursor_day + dx))
            self.cursor_slot = max(0, min(SLOTS - 1, self.cursor_slot + dy))
            self._announce()
            self.update()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activate()
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        slot = self._slot_at(event.position().toPoint())
        if slot is not None:
            self.cursor_day, self.cursor_slot = slot
            self._announce()
            self.update()
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        item = self._item_at(point)
        if item is not None:
            self.sig_open_appointment.emit(item)
            return
        slot = self._slot_at(point)
        if slot is not None:
            self.cursor_day, self.cursor_slot = slot
            self.sig_create_at.emit(self.cursor_time())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        item = self._item_at(event.position().toPoint())
        if item is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self._tooltip(item), self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)

    # ---- Painting

    def _paint_columns(self, painter: QPainter) -> None:
        w = self._column_width()
        bold = QFont(self.font())
        bold.setBold(True)
        for index, day in enumerate(self.days):
            rect = QRectF(TIME_W + index * w, 0, w, self.height())
            holiday = self.week.holidays.get(day) if self.week else None
            if holiday:
                painter.fillRect(rect.adjusted(0, HEADER_H, 0, 0), QBrush(QColor("#F4E3E1"), Qt.BrushStyle.BDiagPattern))
            elif day == self.today:
                painter.fillRect(rect, QColor("#F0F6FF"))
            elif day.weekday() >= 5:
                painter.fillRect(rect, QColor("#FAFAFB"))
            painter.setFont(bold)
            painter.setPen(QColor("#1D2939") if day != self.today else QColor("#175CD3"))
            painter.drawText(QRectF(rect.x(), 4, w, 20), Qt.AlignmentFlag.AlignCenter, day_header(day))
            if holiday:
                painter.setFont(self.font())
                painter.setPen(HOLIDAY)
                painter.drawText(QRectF(rect.x(), 23, w, 18), Qt.AlignmentFlag.AlignCenter,
                                 self.tr("Férié : {name}").format(name=holiday))
        painter.setFont(self.font())

    def _paint_lines(self, painter: QPainter) -> None:
        h = self._slot_height()
        painter.setPen(QPen(QColor("#D0D5DD"), 1))
        painter.drawLine(0, HEADER_H, self.width(), HEADER_H)
        for slot in range(SLOTS + 1):
            y = int(HEADER_H + slot * h)
            full = slot % 2 == 0
            painter.setPen(QPen(QColor("#E4E7EC") if full else QColor("#F2F4F7"), 1))
            painter.drawLine(TIME_W if not full else TIME_W - 6, y, self.width(), y)
            if full and slot < SLOTS:
                painter.setPen(QColor("#667085"))
                painter.drawText(QRect(0, y - 1, TIME_W - 10, int(h)), Qt.AlignmentFlag.AlignRight,
                                 f"{FIRST_HOUR + slot // 2:02d}:00")
        w = self._column_width()
        painter.setPen(QPen(QColor("#D0D5DD"), 1))
        for index in range(self.day_count + 1):
            x = int(TIME_W + index * w)
            painter.drawLine(x, 0, x, self.height())

    def _paint_permanences(self, painter: QPainter) -> None:
        w = self._column_width()
        small = QFont(self.font())
        small.setPointSizeF(small.pointSizeF() * 0.9)
        painter.setFont(small)
        for session in self.week.permanences if self.week else ():
            index = self._day_index(session.starts_at.date())
            if index is None:
                continue
            rect = QRectF(TIME_W + index * w + 1, self._y_of(session.starts_at), w - 2,
                          self._y_of(session.ends_at) - self._y_of(session.starts_at))
            painter.fillRect(rect, QColor(PERMANENCE[0]))
            painter.fillRect(QRectF(rect.x(), rect.y(), 4, rect.height()), QColor(PERMANENCE[1]))
            painter.setPen(QColor(PERMANENCE[1]))
            text = self._permanence_text(session)
            painter.drawText(rect.adjusted(8, 2, -4, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                             QFontMetrics(small).elidedText(text, Qt.TextElideMode.ElideRight, int(rect.width() - 12)))
        painter.setFont(self.font())

    def _permanence_text(self, session: PermanenceSession) -> str:
        return self.tr("{start}–{end} {name}").format(start=clock(session.starts_at), end=clock(session.ends_at),
                                                      name=session.name)

    def _paint_appointments(self, painter: QPainter) -> None:
        self._placed = []
        w = self._column_width()
        for index, day in enumerate(self.days):
            for item, lane, width in lanes(list(self.week.on(day)) if self.week else []):
                lane_w = (w - 22) / width
                top, bottom = self._y_of(item.starts_at), self._y_of(item.ends_at)
                rect = QRectF(TIME_W + index * w + 18 + lane * lane_w, top + 1, lane_w - 2, max(bottom - top - 2, 14))
                self._placed.append(Placed(item, rect.toRect()))
                self._paint_card(painter, item, rect)

    def _paint_card(self, painter: QPainter, item: AgendaAppointment, rect: QRectF) -> None:
        fill, border = STATUS_COLOURS[item.status]
        painter.setPen(QPen(QColor(border), 1))
        painter.setBrush(QColor(fill))
        painter.drawRoundedRect(rect, 4, 4)
        painter.fillRect(QRectF(rect.x(), rect.y(), 3, rect.height()), QColor(border))
        font = QFont(self.font())
        font.setStrikeOut(item.status is AppointmentStatus.ANNULE)
        metrics = QFontMetrics(font)
        inner = rect.adjusted(7, 2, -3, -2)
        lines = [f"{clock(item.starts_at)} {item.project_title}",
                 " · ".join(p for p in (capitalised(item.mode), item.place, None if item.mine else item.advisor) if p)]
        painter.setPen(QColor("#101828"))
        y = inner.y()
        for number, line in enumerate(lines):
            if y + metrics.height() > inner.bottom() + 2 and number:
                break
            font.setBold(number == 0)
            painter.setFont(font)
            painter.drawText(QRectF(inner.x(), y, inner.width(), metrics.height()), Qt.AlignmentFlag.AlignLeft,
                             QFontMetrics(font).elidedText(line, Qt.TextElideMode.ElideRight, int(inner.width())))
            y += metrics.height()
        painter.setFont(self.font())

    def _paint_cursor(self, painter: QPainter) -> None:
        if not self.week:
            return
        colour = QColor("#175CD3") if self.hasFocus() else QColor("#98A2B3")
        painter.setPen(QPen(colour, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self._slot_rect(self.cursor_day, self.cursor_slot).adjusted(1, 1, -1, -1))

    # ---- Helpers

    def _day_index(self, day: dt.date) -> int | None:
        return self.days.index(day) if day in self.days else None

    def _tooltip(self, item: AgendaAppointment) -> str:
        return self.tr("{start}–{end} · {title}\n{mode} · {status}{place}{advisor}").format(
            start=clock(item.starts_at), end=clock(item.ends_at), title=item.project_title,
            mode=capitalised(item.mode), status=capitalised(item.status),
            place=f"\n{item.place}" if item.place else "", advisor=f"\n{item.advisor}" if item.advisor else "")

    def _announce(self) -> None:
        """Describe the cursor's slot for screen readers."""
        item = self.appointment_at_cursor() if self.week else None
        moment = self.cursor_time() if self.week else None
        text = "" if moment is None else f"{day_header(moment.date())} {clock(moment)}"
        if item is not None:
            text += f" – {item.project_title}"
        self.setAccessibleDescription(text)
