"""The one backend that draws a `Figure` (render/figure.py): a QGraphicsScene of picture
items (float heatmaps coloured through pyqtgraph's 256-entry LUT rule, then drawn like RGB
pictures), one path item per overlay layer and text items whose size is fixed in points.
The panels show this scene and `figure_file.write_figure` renders the very same scene to
PNG, SVG or PDF, so a file holds exactly the figure the panel draws.

Scene coordinates are pixels: figure points × `px_per_pt` (the screen's logical DPI / 72,
or the export scale). A redraw keeps the items of every layer it drew last time with the
same content at the same place (`layer_key`: the image under the grid, the static frame of
a view, a colour bar's ramp), so a token change rebuilds only what changed. The groups of
items the last figures drew and this one does not are kept hidden (up to `SPARE_GROUPS`
and `SPARE_BYTES`), so stepping back to a block, or between blocks that share a frame,
shows them again instead of rebuilding them; a panel lets them go when the trace changes
(`forget_spare`: they hold the old trace's arrays). A view draws only the plots near what
it shows (`draw(visible=…)`); the others are laid out (hits, hover and layout are whole)
and built by `fill` when a scroll, zoom or resize brings them near; a file gets them all.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
)

from ..render import figure as F
from ..render import layout as L
from .figure_cache import ArrayCache

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


@dataclass
class SceneInfo:
    """What the scene was built from: the layout (points) and the pixel scale."""

    figure: F.Figure
    layout: L.FigureLayout
    px_per_pt: float
    theme: str


SPARE_GROUPS = 64  # item groups no longer drawn, kept hidden to come back without a rebuild
SPARE_BYTES = 8 * 2**20  # ... holding at most this much in pictures and layer arrays (per scene)


class FigureScene(QGraphicsScene):
    """A figure laid out at a width (and height) in points and drawn as scene items."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)  # rebuilt often
        self.info: SceneInfo | None = None
        self.labels: list[Label] = []
        self.highlight = QGraphicsPathItem()
        self.highlight.setZValue(100)
        self.addItem(self.highlight)
        self._drawn: dict[tuple, tuple[object, list[QGraphicsItem]]] = {}
        self._unbuilt: list[L.Placement] = []  # laid out, not drawn: outside the view
        self._sink: list[QGraphicsItem] = []
        self._keys: dict[int, tuple[object, tuple]] = {}  # id(layer) -> (layer, its key)
        self._old_keys: dict[int, tuple[object, tuple]] = {}
        self._spare: OrderedDict[tuple, tuple[object, list[QGraphicsItem]]] = OrderedDict()
        self._spare_bytes: dict[tuple, int] = {}
        self.pixmaps = ArrayCache()  # RGB(A) arrays -> QPixmap
        self.colored = ArrayCache()  # float heatmaps -> (RGBA, masked picture), per colouring

    def draw(
        self,
        figure: F.Figure,
        width_pt: float,
        height_pt: float | None,
        px_per_pt: float,
        theme: str = "dark",
        heading: bool = False,
        visible: QRectF | None = None,
    ) -> SceneInfo:
        """Lay out and draw `figure`; `heading` draws its title above the plots (files).
        With `visible` (scene pixels: what a view shows) the plots outside it are laid out
        but not built until `fill` is asked for a rectangle they meet (a file gets all)."""
        top = L.HEADING_PT * 2.0 if heading and figure.title else 0.0
        lay = L.layout(figure, width_pt, height_pt, top)
        self.info = SceneInfo(figure, lay, px_per_pt, theme)
        self.setBackgroundBrush(color("bg", theme))
        old, self._drawn = self._drawn, {}
        self._old_keys, self._keys = self._keys, {}
        if top:
            x = y = px_per_pt * F.GAP_PT / 2
            self.build(
                ("heading", figure.title, x, y, px_per_pt, theme),
                None,
                old,
                lambda: self.add_label(
                    x, y, figure.title, size_pt=L.HEADING_PT, anchor="lt", bold=True
                ),
            )
        self._unbuilt = list(lay.placements)
        self._build_plots(visible, old)
        for key, group in old.items():  # what this figure no longer draws: hidden, kept
            for item in group[1]:
                item.setVisible(False)
            self._spare[key], self._spare_bytes[key] = group, _held_bytes(group)
        while len(self._spare) > SPARE_GROUPS or sum(self._spare_bytes.values()) > SPARE_BYTES:
            key, (_, items) = self._spare.popitem(last=False)
            del self._spare_bytes[key]
            self._remove(items)
        w, h = lay.size
        if top:
            w = max(w, F.text_width_pt(figure.title, L.HEADING_PT) + F.GAP_PT)
        self.setSceneRect(QRectF(0, 0, w * px_per_pt, h * px_per_pt))
        self.set_highlight([])
        return self.info

    def fill(self, visible: QRectF) -> None:
        """Build the plots laid out last time that meet `visible` and are not built yet."""
        if self._unbuilt:
            self._build_plots(visible, {})

    def _build_plots(self, visible: QRectF | None, old: dict) -> None:
        from .figure_plot import PlotDrawer

        px, unbuilt = self.info.px_per_pt, []
        for placement in self._unbuilt:
            x, y, w, h = placement.outer
            if visible is None or visible.intersects(QRectF(x * px, y * px, w * px, h * px)):
                PlotDrawer(self, placement).draw(old)
            else:
                unbuilt.append(placement)
        self._unbuilt = unbuilt
        self.labels = [
            i for _, items in self._drawn.values() for i in items if isinstance(i, Label)
        ]

    @property
    def complete(self) -> bool:
        """Whether every plot of the figure is built (not only those a view showed)."""
        return not self._unbuilt

    def build(self, key: tuple, owner: object, old: dict, make) -> None:
        """Reuse the items drawn under `key` last time, else collect what `make()` adds.
        `owner` (the layer object) is kept so that the ids in its key (of the big arrays
        it holds) cannot be reused meanwhile."""
        if key in old:
            self._drawn[key] = old.pop(key)
            return
        spare = self._spare.pop(key, None)
        if spare is not None:
            del self._spare_bytes[key]
            for item in spare[1]:
                item.setVisible(True)
            self._drawn[key] = spare
            return
        self._sink = []
        make()
        self._drawn[key] = (owner, self._sink)
        self._sink = []

    def forget_spare(self) -> None:
        """Remove the hidden item groups (and let go of the arrays their layers hold)."""
        for _, items in self._spare.values():
            self._remove(items)
        self._spare.clear()
        self._spare_bytes.clear()

    def _remove(self, items: list[QGraphicsItem]) -> None:
        for item in items:
            self.removeItem(item)

    def layer_key(self, layer) -> tuple:
        """`layer_key(layer)`, remembered for the layer objects drawn last time (a view's
        cached static layers come back in every figure)."""
        known = self._old_keys.get(id(layer))
        key = known[1] if known is not None and known[0] is layer else layer_key(layer)
        self._keys[id(layer)] = (layer, key)
        return key

    # ---- helpers the plot drawer uses ---------------------------------------------------
    def px(self, v: float) -> float:
        return v * self.info.px_per_pt

    def qcolor(self, name: str | None) -> QColor:
        return color(name, self.info.theme)

    def add_item(self, item: QGraphicsItem, z: float) -> QGraphicsItem:
        item.setZValue(z)
        self.addItem(item)
        self._sink.append(item)
        return item

    def add_label(
        self,
        x: float,
        y: float,
        t: F.Text | str,
        *,
        size_pt: float = F.TICK_PT,
        anchor: str = "cc",
        color_name: str = "fg",
        z: float = 20,
        bold: bool = False,
    ) -> Label:
        """A label at figure-pixel (x, y)."""
        box = None
        if isinstance(t, F.Text):
            text, size_pt, anchor, color_name = t.text, t.size_pt, t.anchor, t.color
            box, bold = (None if t.box is None else self.qcolor(t.box)), t.bold
        else:
            text = t
        item = Label(text, self.px(size_pt), self.qcolor(color_name), anchor, box, bold)
        item.setPos(x, y)
        return self.add_item(item, z)

    def add_path(
        self,
        path: QPainterPath,
        edge: str | None,
        fill: str | None,
        width_pt: float = 1.0,
        dash: bool = False,
        z: float = 10,
    ) -> QGraphicsPathItem:
        item = QGraphicsPathItem(path)
        if edge is None:
            item.setPen(Qt.PenStyle.NoPen)
        else:
            pen = QPen(self.qcolor(edge), max(1.0, self.px(width_pt)))
            if dash:
                pen.setStyle(Qt.PenStyle.DashLine)
            item.setPen(pen)
        if fill:
            item.setBrush(self.qcolor(fill))
        return self.add_item(item, z)

    def set_highlight(
        self,
        rects: list[tuple[str, float, float, float, float]],
        color_name: str = "hover",
        width_pt: float = 1.5,
    ) -> None:
        """Outline rectangles given as (plot key, x, y, w, h) in that plot's data units."""
        from .figure_plot import data_rect

        path = QPainterPath()
        if self.info is not None:
            for key, x, y, w, h in rects:
                try:
                    pl = self.info.layout.of(key)
                except KeyError:
                    continue
                path.addRect(data_rect(self, pl, (x, y, w, h)))
            self.highlight.setPen(QPen(self.qcolor(color_name), max(1.0, self.px(width_pt))))
        self.highlight.setPath(path)


def _held_bytes(group: tuple[object, list[QGraphicsItem]]) -> int:
    """About what a hidden group keeps alive: its pictures and its layer's array."""
    owner, items = group
    data = getattr(owner, "data", None)
    held = data.nbytes if isinstance(data, np.ndarray) else 0
    for item in items:
        if isinstance(item, QGraphicsPixmapItem):
            held += item.pixmap().width() * item.pixmap().height() * 4
    return held


SMALL_BYTES = 4096  # arrays up to this size (boxes, lines) are keyed by content, others by id


def _value_key(v):
    if isinstance(v, np.ndarray):
        if v.nbytes <= SMALL_BYTES:
            return (v.shape, v.dtype.str, v.tobytes())
        return ("id", id(v))  # the layer (kept with its items) holds it: the id stays unique
    if isinstance(v, (tuple, list)):
        return tuple(_value_key(x) for x in v)
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return v


def layer_key(layer) -> tuple:
    """What a layer draws, as a hashable key: its type and fields, small arrays by their
    bytes, big ones (pictures, kept in per-trace caches) by identity. A layer rebuilt with
    the same content (a token change rebuilds the figure) keeps the items drawn for it."""
    return (type(layer).__name__, *(_value_key(getattr(layer, f)) for f in _fields(layer)))


def _fields(layer) -> tuple[str, ...]:
    cls = type(layer)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}
