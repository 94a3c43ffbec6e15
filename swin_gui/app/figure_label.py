"""The text and colours of a figure scene: the themes' colour roles, fonts by pixel size and
`Label`, a text item whose size is fixed in pixels whatever the zoom (figure_scene.py
draws with them; figure_file.py reads the themes' backgrounds).
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QGraphicsItem

THEMES: dict[str, dict[str, str]] = {
    "dark": {
        "fg": "#e8eaed",
        "muted": "#9aa0a6",
        "bg": "#202124",
        "panel": "#2a2b2e",
        "selected": "#ffd600",
        "selected-fill": "#ffd60080",  # the selected token, over a picture
        "selected-band": "#ffd60030",  # the selected block's band on a chart
        "hover": "#00e5ff",
        "grid": "#ffffff",
        "masked": "#5f6368",
    },
    "light": {
        "fg": "#202124",
        "muted": "#5f6368",
        "bg": "#ffffff",
        "panel": "#f1f3f4",
        "selected": "#e37400",
        "selected-fill": "#e3740080",
        "selected-band": "#e3740030",
        "hover": "#0097a7",
        "grid": "#ffffff",
        "masked": "#bdbdbd",
    },
}
FONT_FAMILY = "DejaVu Sans"


@lru_cache(maxsize=512)
def color(name: str | None, theme: str) -> QColor:
    """A theme role ("fg", "selected", …) or "#rrggbb[aa]" as a QColor."""
    if name is None:
        return QColor(0, 0, 0, 0)
    name = THEMES[theme].get(name, name)
    if len(name) == 9:  # #rrggbbaa
        c = QColor(name[:7])
        c.setAlpha(int(name[7:], 16))
        return c
    return QColor(name)


@lru_cache(maxsize=64)
def font_metrics(size_px: int, bold: bool = False) -> tuple[QFont, QFontMetricsF]:
    f = QFont(FONT_FAMILY)
    f.setPixelSize(max(1, size_px))
    f.setBold(bold)
    return f, QFontMetricsF(f)


@lru_cache(maxsize=8192)
def text_size(text: str, size_px: int, bold: bool) -> tuple[float, float]:
    _, m = font_metrics(size_px, bold)
    return m.horizontalAdvance(text), m.height()


class Label(QGraphicsItem):
    """Text anchored at its position, `size_px` high whatever the zoom (it ignores the
    view's transformations), with an optional filled box behind it."""

    def __init__(
        self,
        text: str,
        size_px: float,
        fg: QColor,
        anchor: str = "cc",
        box: QColor | None = None,
        bold: bool = False,
    ) -> None:
        super().__init__()
        self.text, self.fg, self.box = text, fg, box
        px = max(1, round(size_px))
        self.qfont = font_metrics(px, bold)[0]
        w, h = text_size(text, px, bold)
        fx = {"l": 0.0, "c": 0.5, "r": 1.0}[anchor[0]]
        fy = {"t": 0.0, "c": 0.5, "b": 1.0}[anchor[1]]
        pad = 2.0 if box is not None else 0.0
        self.rect = QRectF(-fx * w - pad, -fy * h - pad, w + 2 * pad, h + 2 * pad)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        # kept labels (ticks, legends) repaint as a blit; a file export paints them anew
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    @property
    def pixel_size(self) -> int:
        return self.qfont.pixelSize()

    def boundingRect(self) -> QRectF:
        return self.rect

    def paint(self, painter: QPainter, *_) -> None:
        if self.box is not None:
            painter.fillRect(self.rect, self.box)
        painter.setFont(self.qfont)
        painter.setPen(self.fg)
        painter.drawText(self.rect, Qt.AlignmentFlag.AlignCenter, self.text)
