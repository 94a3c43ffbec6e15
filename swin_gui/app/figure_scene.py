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
shows them again instead of rebuilding them (hidden means fully transparent, `hide`: an
invisible item would lose its cached picture); a panel lets them go when the trace
changes (`forget_spare`: they hold the old trace's arrays). A view draws only the plots near what
it shows (`draw(visible=…)`); the others are laid out (hits, hover and layout are whole)
and built by `fill` when a scroll, zoom or resize brings them near; a file gets them all.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen, QPixmapCache
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
)

from ..render import figure as F
from ..render import layout as L
from .figure_cache import ArrayCache, layer_key
from .figure_label import Label, color


@dataclass
class SceneInfo:
    """What the scene was built from: the layout (points) and the pixel scale."""

    figure: F.Figure
    layout: L.FigureLayout
    px_per_pt: float
    theme: str


# The items' device caches live in Qt's QPixmapCache, 10 MB by default: at 1366×768 a 12 MP
# photo's grid frames (a picture, its regions, window lines: ~0.7 MB each), the attention
# tiles and the spare groups evicted each other, and an evicted item paints from scratch.
PIXMAP_CACHE_KB = 64 * 1024
SPARE_GROUPS = 64  # item groups no longer drawn, kept hidden to come back without a rebuild
SPARE_BYTES = 8 * 2**20  # ... holding at most this much in pictures and layer arrays (per scene)


class FigureScene(QGraphicsScene):
    """A figure laid out at a width (and height) in points and drawn as scene items."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)  # rebuilt often
        self.info: SceneInfo | None = None
        self.highlight = QGraphicsPathItem()
        self.highlight.setZValue(100)
        self.addItem(self.highlight)
        self._drawn: dict[tuple, tuple[object, list[QGraphicsItem]]] = {}
        self._unbuilt: list[L.Placement] = []  # laid out, not drawn: outside the view
        self._preparing = False  # `prepare`: building hidden groups for a later figure
        self._sink: list[QGraphicsItem] = []
        self._keys: dict[int, tuple[object, tuple]] = {}  # id(layer) -> (layer, its key)
        self._old_keys: dict[int, tuple[object, tuple]] = {}
        self._spare: OrderedDict[tuple, tuple[object, list[QGraphicsItem]]] = OrderedDict()
        self._holds: dict[tuple, dict[tuple, int]] = {}  # group key -> `_holdings`
        self._spare_sum = 0  # the spare groups' holdings summed (shared ones more than once)
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
        floor: QRectF | None = None,
    ) -> SceneInfo:
        """Lay out and draw `figure`; `heading` draws its title above the plots (files).
        With `visible` (scene pixels: what a view shows) the plots outside it are laid out
        but not built until `fill` is asked for a rectangle they meet (a file gets all).
        The scene rectangle is at least `floor` (set once: a smaller one in between
        re-ranged the view's scroll bars, repainting them and losing their position)."""
        top = L.HEADING_PT * 2.0 if heading and figure.title else 0.0
        lay = L.layout(figure, width_pt, height_pt, top)
        self.info = SceneInfo(figure, lay, px_per_pt, theme)
        background = QBrush(color("bg", theme))
        if self.backgroundBrush() != background:  # setting it repaints the views whole
            self.setBackgroundBrush(background)
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
            self._keep_hidden(key, group)
        self._trim_spare()
        w, h = lay.size
        if top:
            w = max(w, F.text_width_pt(figure.title, L.HEADING_PT) + F.GAP_PT)
        rect = QRectF(0, 0, w * px_per_pt, h * px_per_pt)
        self.setSceneRect(rect if floor is None else rect.united(floor))
        self.set_highlight([])
        return self.info

    def prepare(
        self, figure: F.Figure, width_pt: float, height_pt: float | None, visible: QRectF | None
    ) -> list[QGraphicsItem]:
        """Build what `figure` would add to the one shown (its plots that meet `visible`),
        hidden, as spare groups: drawing it later shows them instead of building them (a
        panel prepares the neighbouring steps' figures while the GUI is idle). Returns the
        items built (still in the scene)."""
        if self.info is None:
            return []
        shown, lay = self.info, L.layout(figure, width_pt, height_pt, 0.0)
        self.info = SceneInfo(figure, lay, shown.px_per_pt, shown.theme)
        self._preparing, unbuilt = True, self._unbuilt
        before = set(self._spare)
        try:
            self._unbuilt = list(lay.placements)
            self._build_plots(visible, {})
        finally:
            self.info, self._preparing, self._unbuilt = shown, False, unbuilt
        self._trim_spare()
        return [i for key, (_, items) in self._spare.items() if key not in before for i in items]

    def _keep_hidden(self, key: tuple, group: tuple[object, list[QGraphicsItem]]) -> None:
        hide(group[1])
        self._spare[key] = group
        self._spare_sum += sum(self._held(key, group).values())

    def _held(self, key: tuple, group: tuple[object, list[QGraphicsItem]]) -> dict[tuple, int]:
        held = self._holds.get(key)
        if held is None:
            held = self._holds[key] = _holdings(group)
        return held

    def _trim_spare(self) -> None:
        """The oldest spare groups go, down to `SPARE_GROUPS` and to `SPARE_BYTES` of
        pictures and arrays that only spare groups hold (a photo's picture under every
        stage's grid is shared with the figure shown: it costs the spare nothing)."""
        while len(self._spare) > SPARE_GROUPS:
            self._drop_spare(next(iter(self._spare)))
        if self._spare_sum <= SPARE_BYTES:
            return  # even counting what groups share more than once
        shown = {h for k, g in self._drawn.items() for h in self._held(k, g)}
        holders: dict[tuple, int] = {}  # what only spare groups hold -> how many of them
        size: dict[tuple, int] = {}
        for k, g in self._spare.items():
            for h, n in self._held(k, g).items():
                if h not in shown:
                    holders[h] = holders.get(h, 0) + 1
                    size[h] = n
        total = sum(size.values())
        for key in list(self._spare):  # oldest first: drop those that cost, until within
            if total <= SPARE_BYTES:
                return
            own = [h for h in self._held(key, self._spare[key]) if h in holders]
            if not own:
                continue
            for h in own:
                holders[h] -= 1
                if holders[h] == 0:
                    total -= size[h]
            self._drop_spare(key)

    def _drop_spare(self, key: tuple) -> None:
        group = self._spare.pop(key)
        self._spare_sum -= sum(self._held(key, group).values())
        self._holds.pop(key, None)
        self._remove(group[1])

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

    @property
    def labels(self) -> list[Label]:
        """The text items of the figure shown (legibility checks read their sizes)."""
        return [i for _, items in self._drawn.values() for i in items if isinstance(i, Label)]

    @property
    def complete(self) -> bool:
        """Whether every plot of the figure is built (not only those a view showed)."""
        return not self._unbuilt

    def build(self, key: tuple, owner: object, old: dict, make) -> None:
        """Reuse the items drawn under `key` last time, else collect what `make()` adds.
        `owner` (the layer object) is kept so that the ids in its key (of the big arrays
        it holds) cannot be reused meanwhile. While preparing: only what neither the
        figure shown nor the spare groups hold, made hidden into the spare groups."""
        if self._preparing:
            if key not in self._drawn and key not in self._spare:
                self._sink = []
                make()
                self._keep_hidden(key, (owner, self._sink))
                self._sink = []
            return
        if key in old:
            self._drawn[key] = old.pop(key)
            return
        spare = self._spare.pop(key, None)
        if spare is not None:
            self._spare_sum -= sum(self._held(key, spare).values())
            show(spare[1])
            self._drawn[key] = spare
            return
        self._sink = []
        make()
        self._drawn[key] = (owner, self._sink)
        self._sink = []

    def forget_spare(self) -> None:
        """Remove the hidden item groups (and let go of the arrays their layers hold)."""
        for key in list(self._spare):
            self._drop_spare(key)

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


_OPACITY = 0  # QGraphicsItem.data key: the opacity a hidden item shows at


def hide(items: list[QGraphicsItem]) -> None:
    """Take items off the picture, keeping their device caches: `setVisible(False)` purges
    an item's cache, so a group shown again (a block visited before, a frame prepared while
    idle) painted from scratch — 3–8 ms for a 12 MP photo's grid frame. A fully transparent
    item is skipped by the paint, its cache kept."""
    for item in items:
        if item.opacity() > 0:
            item.setData(_OPACITY, item.opacity())
            item.setOpacity(0.0)


def show(items: list[QGraphicsItem]) -> None:
    for item in items:
        item.setOpacity(item.data(_OPACITY) or 1.0)


def shown(item: QGraphicsItem) -> bool:
    """Whether an item is part of the picture (not hidden by `hide`)."""
    return item.isVisible() and item.opacity() > 0


def _holdings(group: tuple[object, list[QGraphicsItem]]) -> dict[tuple, int]:
    """What a group of items keeps alive, by identity: its layer's array and its
    pictures (bytes each; groups may share them)."""
    owner, items = group
    held = {}
    data = getattr(owner, "data", None)
    if isinstance(data, np.ndarray):
        held[("array", id(data))] = data.nbytes
    for item in items:
        if isinstance(item, QGraphicsPixmapItem):
            pixmap = item.pixmap()
            held[("pixmap", pixmap.cacheKey())] = pixmap.width() * pixmap.height() * 4
    return held
