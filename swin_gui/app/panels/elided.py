"""`ElidedLabel`: a line (or a few lines) of text that elides instead of asking its window
for more room, and `_wrap_elided`, its wrapping. A panel's heading and caption change on
every token, so both are cheap: the label paints itself (no re-layout) and the wrapping
measures a few prefixes, remembered per font (`_text_advance`).
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget


class ElidedLabel(QWidget):
    """A line (or `lines` lines) of text of fixed height that never asks for more width:
    the text is elided to fit and the whole of it is the tooltip. It paints the text
    itself, so a change repaints this label alone — a QLabel would ask its window to
    re-lay out, and repaint, on every token."""

    def __init__(self, lines: int = 1, bold: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full = ""
        self._shown = ""
        self._font_key: tuple | None = None  # (QFont.key(), DPI), reset on a font change
        if bold:
            f = self.font()
            f.setBold(True)
            self.setFont(f)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        # it fills its own background (the window colour), so a new text repaints this
        # label only, not the dock and panel behind it (0.5 ms a token change)
        self.setAutoFillBackground(True)
        self.set_lines(lines)

    def set_lines(self, lines: int) -> None:
        self.lines = lines
        self.setFixedHeight(QFontMetrics(self.font()).lineSpacing() * lines + 2)
        self._elide()

    def sizeHint(self) -> QSize:  # never wider for a longer text
        return QSize(60, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(20, self.height())

    def text(self) -> str:
        """What is shown (elided)."""
        return self._shown

    def set_full_text(self, text: str) -> None:
        if text == self.full:
            return
        self.full = text
        self._elide()

    def toolTip(self) -> str:  # the whole text (Qt's own tooltip is never set)
        return self.full

    def event(self, event) -> bool:
        """The tooltip is the whole text, shown when asked for (setting it on every token
        change cost 0.1 ms a label)."""
        if event.type() == QEvent.Type.ToolTip:
            if self.full:
                QToolTip.showText(event.globalPos(), self.full, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._font_key = None

    def _elide(self) -> None:
        key = self._font_key
        if key is None:
            key = self._font_key = (self.font().key(), self.logicalDpiY())
        m = _METRICS.get(key)
        if m is None:
            m = _METRICS[key] = QFontMetrics(self.font())
        width = max(10, self.width() - 4)
        # wrap (one line: none), then elide what does not fit in `lines` lines
        shown = _wrap_elided(self.full, m, width, self.lines, functools.partial(_text_advance, key))
        if shown != self._shown:
            self._shown = shown
            self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.drawText(self.rect().adjusted(2, 1, -2, -1), flags, self._shown)


def _wrap_elided(text: str, m: QFontMetrics, width: int, lines: int, advance=None) -> str:
    """`text` wrapped at spaces into at most `lines` lines of `width` px, the last one
    elided: each line is the longest prefix, cut at a space (inside a word too long for a
    line: at a character), that fits. The cuts are tried longest first as they always
    were, but by bisection: the advance of a prefix grows with its length, so the first
    that fits is found with a few measurements instead of one per word."""
    advance = advance or m.horizontalAdvance
    out, rest = [], text
    for i in range(lines):
        fits = advance(rest) <= width
        if fits or i == lines - 1:  # (eliding a text that fits costs 4× measuring it)
            out.append(rest if fits else m.elidedText(rest, Qt.TextElideMode.ElideRight, width))
            break
        cuts = _cuts(rest)
        lo, hi = 0, len(cuts) - 1  # the first cut that fits (or the last one, ≤ 1)
        while lo < hi:
            mid = (lo + hi) // 2
            if cuts[mid] <= 1 or advance(rest[: cuts[mid]]) <= width:
                hi = mid
            else:
                lo = mid + 1
        cut = cuts[lo]
        out.append(rest[:cut])
        rest = rest[cut:].lstrip()
    return "\n".join(out)


def _cuts(rest: str) -> list[int]:
    """The prefix lengths a line may be cut at, longest first: the whole text, then before
    each earlier space, then (within the first word) one character shorter each time."""
    cut, cuts = len(rest), [len(rest)]
    while cut > 1:
        cut = rest.rfind(" ", 0, cut - 1) if " " in rest[: cut - 1] else cut - 1
        cuts.append(cut)
    return cuts


@functools.lru_cache(maxsize=4096)
def _text_advance(font: tuple, text: str) -> int:
    """A text's advance in a font (key: `QFont.key()` and the DPI), remembered: a
    caption's lines come back on every token with the same words."""
    return _METRICS[font].horizontalAdvance(text)


_METRICS: dict[tuple, QFontMetrics] = {}  # font key -> its metrics (a few fonts)
