"""The timeline list: one entry per event, a coloured marker per kind on a vertical rail."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ess_accompagnement.ui.models.timeline_model import EntryRole, KindRole, WhenRole, kind_label

KIND_COLOURS: dict[str, QColor] = {
    "phase": QColor("#7B4FA0"),
    "appointment": QColor("#2F6FB2"),
    "referral": QColor("#C7661C"),
    "financing": QColor("#2E8B57"),
    "note": QColor("#6B7280"),
}
RAIL_X = 18
PAD = 6


class TimelineDelegate(QStyledItemDelegate):
    """Date and kind on a first line, title in bold, detail and structure in grey."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        line = QFontMetrics(option.font).height()
        has_detail = bool(index.data(EntryRole).detail)
        return QSize(200, PAD * 2 + line * (3 if has_detail else 2) + 2)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) \
            -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(option.rect, option.palette.highlight().color().lighter(175))
        colour = KIND_COLOURS.get(index.data(KindRole), QColor("#6B7280"))
        self._rail(painter, option.rect, colour, index.row() == 0, index.row() == index.model().rowCount() - 1)
        self._texts(painter, option, index, colour)
        painter.restore()

    def _rail(self, painter: QPainter, rect: QRect, colour: QColor, first: bool, last: bool) -> None:
        painter.setPen(QPen(QColor("#D0D5DD"), 2))
        top = rect.top() + PAD + 8 if first else rect.top()
        bottom = rect.top() + PAD + 8 if last else rect.bottom()
        painter.drawLine(rect.left() + RAIL_X, top, rect.left() + RAIL_X, bottom)
        painter.setPen(QPen(QColor("white"), 2))
        painter.setBrush(colour)
        painter.drawEllipse(QRectF(rect.left() + RAIL_X - 6, rect.top() + PAD + 2, 12, 12))

    def _texts(self, painter: QPainter, option: QStyleOptionViewItem, index: Any, colour: QColor) -> None:
        entry = index.data(EntryRole)
        metrics = QFontMetrics(option.font)
        line = metrics.height()
        left = option.rect.left() + RAIL_X + 16
        width = option.rect.right() - left - PAD
        top = option.rect.top() + PAD
        small = QFont(option.font)
        small.setBold(True)
        painter.setFont(small)
        painter.setPen(colour)
        kind = kind_label(index.data(KindRole)).upper()
        painter.drawText(QRect(left, top, width, line), Qt.AlignmentFlag.AlignLeft, kind)
        kind_width = QFontMetrics(small).horizontalAdvance(kind) + 10
        painter.setFont(option.font)
        painter.setPen(QColor("#475467"))
        when = index.data(WhenRole)
        painter.drawText(QRect(left + kind_width, top, width - kind_width, line), Qt.AlignmentFlag.AlignLeft, when)
        room = width - kind_width - metrics.horizontalAdvance(when) - 16
        if entry.structure and room > 40:
            painter.drawText(QRect(left, top, width, line), Qt.AlignmentFlag.AlignRight,
                             metrics.elidedText(entry.structure, Qt.TextElideMode.ElideRight, room))
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(option.palette.text().color())
        painter.drawText(QRect(left, top + line, width, line), Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(bold).elidedText(entry.title, Qt.TextElideMode.ElideRight, width))
        if entry.detail:
            painter.setFont(option.font)
            painter.setPen(QColor("#667085"))
            detail = " ".join(entry.detail.split())
            painter.drawText(QRect(left, top + 2 * line, width, line), Qt.AlignmentFlag.AlignLeft,
                             metrics.elidedText(detail, Qt.TextElideMode.ElideRight, width))


class TimelineView(QListView):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setItemDelegate(TimelineDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setUniformItemSizes(False)
        self.setSpacing(0)
