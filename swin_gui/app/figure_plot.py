"""Drawing one placed `Plot` into a `FigureScene`: its layers, title, frame, ticks and
colour bar. The scene imports this module, so here it is typed by its Qt base class (the two
never import each other). Every layer's items are built under a key of the layer's identity
and place, so the scene can keep what did not change from one draw to the next.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPainterPath, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem, QGraphicsScene

from ..render import figure as F
from ..render import layout as L
from ..render.colormap import NAN_COLOR, colormap_lut
from .figure_cache import ArrayCache

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


def data_rect(scene: QGraphicsScene, pl: L.Placement, r) -> QRectF:
    """A rectangle (x, y, w, h) in a plot's data units, in scene pixels."""
    x, y, w, h = r
    ax, ay = pl.to_fig(x, y)
    bx, by = pl.to_fig(x + w, y + h)
    px = scene.px
    return QRectF(
        QPointF(px(min(ax, bx)), px(min(ay, by))), QPointF(px(max(ax, bx)), px(max(ay, by)))
    )


class PlotDrawer:
    """Draws one placed plot into the scene."""

    def __init__(self, scene: QGraphicsScene, placement: L.Placement) -> None:
        self.s, self.pl, self.p = scene, placement, placement.plot
        self.box = tuple(scene.px(v) for v in placement.box)

    def points(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, 2) data points -> scene pixel x and y arrays (the placement is affine)."""
        (x0, x1), (y0, y1) = self.p.xlim, self.p.ylim
        bx, by, bw, bh = self.box
        fx = bx + (xy[:, 0] - x0) / (x1 - x0) * bw
        fy = (xy[:, 1] - y0) / (y1 - y0)
        fy = by + (1 - fy if self.p.y_up else fy) * bh
        return fx, fy

    def point(self, x: float, y: float) -> tuple[float, float]:
        fx, fy = self.pl.to_fig(x, y)  # the placement's own mapping, in points
        return self.s.px(fx), self.s.px(fy)

    def corners(self, rects: np.ndarray) -> np.ndarray:
        """(n, 4) data rects (x, y, w, h) -> (n, 4) scene pixels (left, top, right, bottom),
        all at once (`data_rect` is the same for one rectangle)."""
        r = np.asarray(rects, np.float64).reshape(-1, 4)
        if len(r) <= 4:  # a token's or a window's box: numpy's per-call cost is the most of it
            return np.array([self._corners(*row) for row in r.tolist()]).reshape(-1, 4)
        fx, fy = self.points(np.concatenate([r[:, :2], r[:, :2] + r[:, 2:]]))
        n = len(r)
        return np.stack(
            [
                np.minimum(fx[:n], fx[n:]),
                np.minimum(fy[:n], fy[n:]),
                np.maximum(fx[:n], fx[n:]),
                np.maximum(fy[:n], fy[n:]),
            ],
            axis=1,
        )

    def _corners(self, x: float, y: float, w: float, h: float) -> tuple[float, ...]:
        (ax, ay), (cx, cy) = self.point(x, y), self.point(x + w, y + h)
        return min(ax, cx), min(ay, cy), max(ax, cx), max(ay, cy)

    def rects_path(self, rects: np.ndarray) -> QPainterPath:
        """(n, 4) data rects (x, y, w, h) as one path of scene-pixel rectangles."""
        path = QPainterPath()
        for x0, y0, x1, y1 in self.corners(rects).tolist():
            path.addRect(x0, y0, x1 - x0, y1 - y0)
        return path

    def draw(self, old: dict) -> None:
        s, p = self.s, self.p
        base = (self.box, s.info.px_per_pt, s.info.theme, p.xlim, p.ylim, p.y_up)
        for z, layer in enumerate(p.layers):
            key = ("layer", s.layer_key(layer), z, *base)
            s.build(key, layer, old, lambda layer=layer, z=z: self.layer(layer, 1 + z * 0.01))
        # the plot's chrome, in pieces that change independently (a new title or colour
        # scale for each token must not rebuild the ticks)
        s.build(("title", p.title, *base), None, old, self.title)
        s.build(("frame", p.frame, *base), None, old, self.frame)
        s.build(("ticks", p.xticks, p.yticks, p.xlabel, p.ylabel, *base), None, old, self.ticks)
        if p.colorbar is not None:  # the ramp stays when only the levels change
            cb = p.colorbar
            s.build(("colorbar", cb.cmap, cb.unit, *base), None, old, self.colorbar)
            s.build(("colorbar-ticks", cb.levels, cb.ticks, *base), None, old, self.colorbar_ticks)

    def title(self) -> None:
        if self.p.title:
            bx, by = self.box[:2]
            self.s.add_label(bx, by - self.s.px(3), self.p.title, size_pt=F.TITLE_PT, anchor="lb")

    def frame(self) -> None:
        if self.p.frame:
            bx, by, bw, bh = self.box
            path = QPainterPath()
            pad = self.s.px(3)
            path.addRect(QRectF(bx - pad, by - pad, bw + 2 * pad, bh + 2 * pad))
            self.s.add_path(path, self.p.frame, None, 2.0, z=30)

    def layer(self, layer, z: float) -> None:
        s = self.s
        if isinstance(layer, F.Heatmap):
            self.heatmap(layer, z)
        elif isinstance(layer, F.Lines):
            seg = np.asarray(layer.segments, np.float64).reshape(-1, 2)
            if len(seg):
                fx, fy = self.points(seg)
                xy = np.stack([fx, fy], axis=1).reshape(-1, 4)  # x0, y0, x1, y1
                pen = QPen(s.qcolor(layer.color), max(1.0, s.px(layer.width_pt)))
                if layer.dash:
                    pen.setStyle(Qt.PenStyle.DashLine)
                halo = None
                if layer.halo is not None:
                    halo = QPen(s.qcolor(layer.halo), s.px(layer.width_pt + F.HALO_PT))
                s.add_item(Segments(xy, pen, halo), 5 + z)
        elif isinstance(layer, F.Rects):
            path = self.rects_path(layer.rects)
            if layer.halo is not None:
                s.add_path(path, layer.halo, None, layer.width_pt + F.HALO_PT, z=5 + z - 0.001)
            s.add_path(path, layer.edge, layer.fill, layer.width_pt, layer.dash, z=5 + z)
        elif isinstance(layer, F.Polygons):
            path = QPainterPath()
            for poly in layer.polygons:
                fx, fy = self.points(np.asarray(poly, np.float64).reshape(-1, 2))
                if len(fx):
                    path.moveTo(fx[0], fy[0])
                    for x, y in zip(fx[1:], fy[1:], strict=True):
                        path.lineTo(x, y)
                    path.closeSubpath()
            s.add_path(path, layer.edge, layer.fill, layer.width_pt, z=5 + z)
        elif isinstance(layer, F.Hatch):
            self.hatch(layer, z)
        elif isinstance(layer, F.Text):
            x, y = self.point(layer.x, layer.y)
            s.add_label(x, y, layer, z=20 + z)

    def heatmap(self, h: F.Heatmap, z: float) -> None:
        x0, y0, x1, y1 = h.extent
        rect = data_rect(self.s, self.pl, (x0, y0, x1 - x0, y1 - y0))
        if h.is_rgb:
            item = self.picture(h.data, rect, h.smooth)
        else:
            data = np.ascontiguousarray(h.data, np.float32)
            how = (h.cmap, None if h.levels is None else tuple(h.levels))
            rgba, under = PRECOLORED.peek(data, how) or self.s.colored.get(
                data, how, lambda: _colouring(data, h.cmap, h.levels)
            )
            if under is not None:  # masked / non-finite cells: the "masked" colour underneath
                self.s.add_item(self.picture(under, rect, False), z - 0.001)
            item = self.picture(rgba, rect, h.smooth)
        item.setOpacity(h.opacity)
        self.s.add_item(item, z)

    def picture(self, rgb: np.ndarray, rect: QRectF, smooth: bool) -> QGraphicsPixmapItem:
        """An RGB(A) uint8 array stretched over `rect` (its pixmap cached per array)."""
        pixmap = self.s.pixmaps.get(rgb, (), lambda: _pixmap(rgb))
        item = QGraphicsPixmapItem(pixmap)
        item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        if smooth:
            item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        sx, sy = rect.width() / max(1, pixmap.width()), rect.height() / max(1, pixmap.height())
        item.setTransform(QTransform.fromScale(sx, sy))
        item.setPos(rect.topLeft())
        if pixmap.width() * pixmap.height() > 4096:  # repaint a big picture as a blit
            item.setCacheMode(QGraphicsPixmapItem.CacheMode.DeviceCoordinateCache)
        return item

    def hatch(self, h: F.Hatch, z: float) -> None:
        s = self.s
        step = s.px(5.0)
        lines = []
        for x0, y0, x1, y1 in self.corners(h.rects).tolist():
            c = np.arange(x0 + y0 + step, x1 + y1, step)  # lines x + y = c, clipped
            lines.append(
                np.stack(
                    [
                        np.maximum(x0, c - y1),
                        np.minimum(y1, c - x0),
                        np.minimum(x1, c - y0),
                        np.maximum(y0, c - x1),
                    ],
                    1,
                )
            )
            lines.append(
                np.array([[x0, y0, x1, y0], [x1, y0, x1, y1], [x1, y1, x0, y1], [x0, y1, x0, y0]])
            )
        if lines:
            pen = QPen(s.qcolor(h.color), max(1.0, s.px(0.8)))
            s.add_item(Segments(np.concatenate(lines), pen), 5 + z)

    def ticks(self) -> None:
        s, p = self.s, self.p
        bx, by, bw, bh = self.box
        tick = s.px(3)
        marks = QPainterPath()
        for v, text in p.xticks:
            x, _ = self.point(v, p.ylim[0])
            marks.moveTo(x, by + bh)
            marks.lineTo(x, by + bh + tick)
            s.add_label(x, by + bh + tick, text, anchor="ct", color_name="muted")
        for v, text in p.yticks:
            _, y = self.point(p.xlim[0], v)
            marks.moveTo(bx, y)
            marks.lineTo(bx - tick, y)
            s.add_label(bx - tick - 1, y, text, anchor="rc", color_name="muted")
        if p.xticks or p.yticks:
            s.add_path(marks, "muted", None, 0.8)
        if p.xlabel:
            y = by + bh + (s.px(F.TICK_PT * 1.6) if p.xticks else s.px(2))
            s.add_label(bx + bw / 2, y, p.xlabel, anchor="ct", color_name="muted")
        if p.ylabel:
            left = max((F.text_width_pt(t, F.TICK_PT) for _, t in p.yticks), default=0.0)
            x = bx - s.px(left + (4 if p.yticks else 0) + 2)
            s.add_label(x, by + bh / 2, p.ylabel, anchor="rc", color_name="muted")

    def colorbar(self) -> None:
        """The colour bar's ramp, frame and unit (its ticks: `colorbar_ticks`)."""
        s, cb = self.s, self.p.colorbar
        bx, by, bw, bh = self.box
        x = bx + bw + s.px(8)
        w = s.px(F.COLORBAR_PT)
        ramp = _ramp(cb.cmap)
        s.add_item(self.picture(ramp, QRectF(x, by, w, bh), True), 1)
        frame = QPainterPath()
        frame.addRect(QRectF(x, by, w, bh))
        s.add_path(frame, "muted", None, 0.8)
        s.add_label(x, by + bh + s.px(2), cb.unit, anchor="lt", color_name="muted")

    def colorbar_ticks(self) -> None:
        s, cb = self.s, self.p.colorbar
        bx, by, bw, bh = self.box
        x = bx + bw + s.px(8)
        w = s.px(F.COLORBAR_PT)
        marks = QPainterPath()
        lo, hi = cb.levels
        for v in cb.tick_values():
            f = 0.0 if hi == lo else (v - lo) / (hi - lo)
            y = by + bh * (1 - min(max(f, 0.0), 1.0))
            marks.moveTo(x + w, y)
            marks.lineTo(x + w + s.px(3), y)
            s.add_label(x + w + s.px(4), y, F.format_tick(v), anchor="lc", color_name="muted")
        s.add_path(marks, "muted", None, 0.8)


class Segments(QGraphicsItem):
    """Many straight lines as one item, painted with one `drawLines` call (stroking them
    as one path was 20× slower for a token grid), over the same lines in the `halo` pen."""

    def __init__(self, xy: np.ndarray, pen: QPen, halo: QPen | None = None) -> None:
        super().__init__()
        self.lines = [QLineF(*row) for row in np.asarray(xy, np.float64).tolist()]
        self.pen, self.halo = pen, halo
        w = max(pen.widthF(), 0.0 if halo is None else halo.widthF())
        lo, hi = xy.reshape(-1, 2).min(0), xy.reshape(-1, 2).max(0)
        self.rect = QRectF(lo[0] - w, lo[1] - w, hi[0] - lo[0] + 2 * w, hi[1] - lo[1] + 2 * w)
        alpha = pen.color().alphaF()
        if alpha < 1.0 and halo is None:
            # translucent lines are stroked as one path (13 ms for a 12 MP photo's 253
            # window lines): drawn opaque into the item's cache, which is blended at the
            # pen's alpha — the same picture (crossings are not blended twice), 30× sooner
            self.pen = QPen(pen)
            opaque = pen.color()
            opaque.setAlphaF(1.0)
            self.pen.setColor(opaque)
            self.setOpacity(alpha)
            self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        elif alpha < 1.0:
            self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # paint once

    def boundingRect(self) -> QRectF:
        return self.rect

    def paint(self, painter, *_) -> None:
        if self.halo is not None:
            painter.setPen(self.halo)
            painter.drawLines(self.lines)
        painter.setPen(self.pen)
        painter.drawLines(self.lines)


_RAMPS: dict[str, np.ndarray] = {}


def _ramp(cmap: str) -> np.ndarray:
    """A 256×1 RGB picture of a colour map, top = high (kept: its pixmap is cached)."""
    if cmap not in _RAMPS:
        lut = colormap_lut(cmap)
        _RAMPS[cmap] = np.ascontiguousarray(lut[::-1, None, :3].astype(np.uint8))
    return _RAMPS[cmap]


def _pixmap(rgb: np.ndarray) -> QPixmap:
    a = np.ascontiguousarray(rgb)
    h, w = a.shape[:2]
    fmt = QImage.Format.Format_RGBA8888 if a.shape[2] == 4 else QImage.Format.Format_RGB888
    image = QImage(a.data, w, h, a.strides[0], fmt)
    return QPixmap.fromImage(image.copy())


PRECOLORED = ArrayCache(size=4)  # big heatmaps coloured ahead, off the GUI thread


def precolor(data: np.ndarray, cmap: str | None, levels: tuple[float, float] | None) -> None:
    """Colour a big float heatmap now (on a worker thread) as the scene would colour the
    layer `Heatmap(data, …, cmap, levels)`, so that drawing it only wraps the picture.
    `data` must be the very array the layer will hold (float32, C-contiguous)."""
    data = np.ascontiguousarray(data, np.float32)
    how = (cmap, None if levels is None else tuple(levels))
    PRECOLORED.get(data, how, lambda: _colouring(data, cmap, levels))


def is_precolored(data: np.ndarray, cmap: str | None, levels) -> bool:
    how = (cmap, None if levels is None else tuple(levels))
    return PRECOLORED.peek(np.ascontiguousarray(data, np.float32), how) is not None


def _colouring(data: np.ndarray, cmap: str | None, levels) -> tuple:
    """(RGBA picture, the masked colour's picture under its non-finite cells or None)."""
    finite = np.isfinite(data)
    under = None
    if not finite.all():
        under = np.zeros((*data.shape, 4), np.uint8)
        under[~finite] = (*NAN_COLOR, 255)
        finite_or_none = finite
    else:
        finite_or_none = None
    lo, hi = levels if levels is not None else _finite_range(data)
    return _colored(data, cmap, lo, hi, finite_or_none), under


_LUTS: dict[str, np.ndarray] = {}


def _lut_rgba(cmap: str) -> np.ndarray:
    """(257, 4) uint8: the colour map's 256 colours, opaque, then transparent (non-finite)."""
    lut = _LUTS.get(cmap)
    if lut is None:
        lut = np.zeros((257, 4), np.uint8)
        lut[:256, :3] = colormap_lut(cmap)[:, :3]
        lut[:256, 3] = 255
        _LUTS[cmap] = lut
    return lut


def _colored(data, cmap: str | None, lo: float, hi: float, finite=None) -> np.ndarray:
    """(h, w, 4) uint8: `data` through the colour map's 256-entry LUT between the levels
    (pyqtgraph's rule: (v − lo) / (hi − lo) × 255), non-finite cells transparent (`finite`:
    their mask when some are; one pass per step, a token's matrix is coloured each change)."""
    span = hi - lo if hi > lo else 1.0
    t = np.subtract(data, lo, dtype=np.float32)
    t /= span
    t *= 255
    np.clip(t, 0, 255, out=t)
    with np.errstate(invalid="ignore"):  # non-finite cells: replaced just below
        index = t.astype(np.intp)
    if finite is None and not np.isfinite(data).all():
        finite = np.isfinite(data)
    if finite is not None:
        index[~finite] = 256
    return _lut_rgba(cmap or "viridis")[index]


def _finite_range(a: np.ndarray) -> tuple[float, float]:
    f = a[np.isfinite(a)]
    return (float(f.min()), float(f.max())) if f.size else (0.0, 1.0)
