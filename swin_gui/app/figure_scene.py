"""The one backend that draws a `Figure` (render/figure.py): a QGraphicsScene of pyqtgraph
`ImageItem`s (levels + LUT), one path item per overlay layer and text items whose size is
fixed in points. The panels show this scene; `write_figure` renders the very same scene
offscreen to PNG (any scale), SVG (QSvgGenerator: text stays `<text>`) or PDF (QPdfWriter:
text stays text). So a file holds exactly the figure the panel draws.

Scene coordinates are pixels: figure points × `px_per_pt` (the screen's logical DPI / 72,
or the export scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene

from ..render import figure as F
from ..render.colormap import NAN_COLOR, colormap_lut

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

THEMES: dict[str, dict[str, str]] = {
    "dark": {
        "fg": "#e8eaed", "muted": "#9aa0a6", "bg": "#202124", "panel": "#2a2b2e",
        "selected": "#ffd600", "hover": "#00e5ff", "grid": "#ffffff", "masked": "#5f6368",
    },
    "light": {
        "fg": "#202124", "muted": "#5f6368", "bg": "#ffffff", "panel": "#f1f3f4",
        "selected": "#e37400", "hover": "#0097a7", "grid": "#ffffff", "masked": "#bdbdbd",
    },
}  # fmt: skip
FONT_FAMILY = "DejaVu Sans"


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


def font(size_px: float, bold: bool = False) -> QFont:
    f = QFont(FONT_FAMILY)
    f.setPixelSize(max(1, round(size_px)))
    f.setBold(bold)
    return f


class Label(QGraphicsItem):
    """Text anchored at its position, `size_px` high whatever the zoom (it ignores the
    view's transformations), with an optional filled box behind it."""

    def __init__(self, text: str, size_px: float, fg: QColor, anchor: str = "cc",
                 box: QColor | None = None, bold: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.text, self.fg, self.box = text, fg, box
        self.qfont = font(size_px, bold)
        m = QFontMetricsF(self.qfont)
        w, h = m.horizontalAdvance(text), m.height()
        fx = {"l": 0.0, "c": 0.5, "r": 1.0}[anchor[0]]
        fy = {"t": 0.0, "c": 0.5, "b": 1.0}[anchor[1]]
        pad = 2.0 if box is not None else 0.0
        self.rect = QRectF(-fx * w - pad, -fy * h - pad, w + 2 * pad, h + 2 * pad)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)

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
    layout: F.FigureLayout
    px_per_pt: float
    theme: str


class FigureScene(QGraphicsScene):
    """A figure laid out at a width (and height) in points and drawn as scene items."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.info: SceneInfo | None = None
        self.labels: list[Label] = []
        self.highlight = QGraphicsPathItem()
        self.highlight.setZValue(100)
        self.addItem(self.highlight)

    def draw(self, figure: F.Figure, width_pt: float, height_pt: float | None,
             px_per_pt: float, theme: str = "dark") -> SceneInfo:  # fmt: skip
        for item in self.items():
            if item is not self.highlight and item.parentItem() is None:
                self.removeItem(item)
        self.labels = []
        lay = F.layout(figure, width_pt, height_pt)
        self.info = SceneInfo(figure, lay, px_per_pt, theme)
        self.setBackgroundBrush(color("bg", theme))
        for p in lay.placements:
            _Plot(self, p).draw()
        w, h = lay.size
        self.setSceneRect(QRectF(0, 0, w * px_per_pt, h * px_per_pt))
        self.set_highlight([])
        return self.info

    # ---- helpers the plot drawer uses ---------------------------------------------------
    def px(self, v: float) -> float:
        return v * self.info.px_per_pt

    def qcolor(self, name: str | None) -> QColor:
        return color(name, self.info.theme)

    def add_label(self, x: float, y: float, t: F.Text | str, *, size_pt: float = F.TICK_PT,
                  anchor: str = "cc", color_name: str = "fg", z: float = 20) -> Label:  # fmt: skip
        """A label at figure-pixel (x, y)."""
        if isinstance(t, F.Text):
            text, size_pt, anchor, color_name = t.text, t.size_pt, t.anchor, t.color
            box, bold = (None if t.box is None else self.qcolor(t.box)), t.bold
        else:
            text, box, bold = t, None, False
        item = Label(text, self.px(size_pt), self.qcolor(color_name), anchor, box, bold)
        item.setPos(x, y)
        item.setZValue(z)
        self.addItem(item)
        self.labels.append(item)
        return item

    def add_path(self, path: QPainterPath, edge: str | None, fill: str | None,
                 width_pt: float = 1.0, dash: bool = False, z: float = 10) -> QGraphicsPathItem:  # fmt: skip
        item = QGraphicsPathItem(path)
        if edge is None:
            item.setPen(Qt.PenStyle.NoPen)
        else:
            pen = QPen(self.qcolor(edge), max(1.0, self.px(width_pt)))
            pen.setCosmetic(False)
            if dash:
                pen.setStyle(Qt.PenStyle.DashLine)
            item.setPen(pen)
        item.setBrush(QBrush(self.qcolor(fill)) if fill else Qt.BrushStyle.NoBrush)
        item.setZValue(z)
        self.addItem(item)
        return item

    def set_highlight(self, rects: list[tuple[str, float, float, float, float]],
                      color_name: str = "hover", width_pt: float = 1.5) -> None:  # fmt: skip
        """Outline rectangles given as (plot key, x, y, w, h) in that plot's data units."""
        path = QPainterPath()
        if self.info is not None:
            for key, x, y, w, h in rects:
                try:
                    pl = self.info.layout.of(key)
                except KeyError:
                    continue
                path.addRect(_data_rect(self, pl, (x, y, w, h)))
            pen = QPen(self.qcolor(color_name), max(1.0, self.px(width_pt)))
            self.highlight.setPen(pen)
        self.highlight.setPath(path)


def _data_rect(scene: FigureScene, pl: F.Placement, r) -> QRectF:
    x, y, w, h = r
    ax, ay = pl.to_fig(x, y)
    bx, by = pl.to_fig(x + w, y + h)
    px = scene.px
    return QRectF(QPointF(px(min(ax, bx)), px(min(ay, by))), QPointF(px(max(ax, bx)), px(max(ay, by))))


class _Plot:
    """Draws one placed plot into the scene."""

    def __init__(self, scene: FigureScene, placement: F.Placement) -> None:
        self.s, self.pl, self.p = scene, placement, placement.plot

    def point(self, x: float, y: float) -> tuple[float, float]:
        fx, fy = self.pl.to_fig(x, y)
        return self.s.px(fx), self.s.px(fy)

    def draw(self) -> None:
        s, p = self.s, self.p
        bx, by, bw, bh = (s.px(v) for v in self.pl.box)
        clip = QPainterPath()
        clip.addRect(QRectF(bx, by, bw, bh))
        for z, layer in enumerate(p.layers):
            self.layer(layer, 1 + z * 0.01)
        if p.title:
            s.add_label(bx, by - s.px(3), p.title, size_pt=F.TITLE_PT, anchor="lb")
        if p.frame:
            path = QPainterPath()
            pad = s.px(3)
            path.addRect(QRectF(bx - pad, by - pad, bw + 2 * pad, bh + 2 * pad))
            s.add_path(path, p.frame, None, 2.0, z=30)
        self.ticks()
        if p.colorbar is not None:
            self.colorbar(p.colorbar)

    def layer(self, layer, z: float) -> None:
        s = self.s
        if isinstance(layer, F.Heatmap):
            self.heatmap(layer, z)
        elif isinstance(layer, F.Lines):
            seg = np.asarray(layer.segments, np.float64).reshape(-1, 2, 2)
            if len(seg):
                path = _pairs_path(seg, self)
                s.add_path(path, layer.color, None, layer.width_pt, layer.dash, z=5 + z)
        elif isinstance(layer, F.Rects):
            path = QPainterPath()
            for r in np.asarray(layer.rects).reshape(-1, 4):
                path.addRect(_data_rect(s, self.pl, r))
            s.add_path(path, layer.edge, layer.fill, layer.width_pt, layer.dash, z=5 + z)
        elif isinstance(layer, F.Polygons):
            path = QPainterPath()
            for poly in layer.polygons:
                pts = [QPointF(*self.point(x, y)) for x, y in np.asarray(poly)]
                if pts:
                    path.moveTo(pts[0])
                    for q in pts[1:]:
                        path.lineTo(q)
                    path.closeSubpath()
            s.add_path(path, layer.edge, layer.fill, layer.width_pt, z=5 + z)
        elif isinstance(layer, F.Hatch):
            self.hatch(layer, z)
        elif isinstance(layer, F.Text):
            x, y = self.point(layer.x, layer.y)
            s.add_label(x, y, layer, z=20 + z)

    def heatmap(self, h: F.Heatmap, z: float) -> None:
        s = self.s
        rect = _data_rect(s, self.pl, (h.extent[0], h.extent[1],
                                       h.extent[2] - h.extent[0], h.extent[3] - h.extent[1]))  # fmt: skip
        item = pg.ImageItem(axisOrder="row-major")
        if h.is_rgb:
            item.setImage(np.ascontiguousarray(h.data), autoLevels=False, levels=None)
        else:
            data = np.ascontiguousarray(h.data, np.float32)
            bad = ~np.isfinite(data)
            if bad.any():  # masked / non-finite cells: the "masked" colour underneath
                under = np.zeros((*data.shape, 4), np.uint8)
                under[bad] = (*NAN_COLOR, 255)
                back = pg.ImageItem(under, axisOrder="row-major")
                back.setRect(rect)
                back.setZValue(z - 0.001)
                s.addItem(back)
            lo, hi = h.levels if h.levels is not None else _finite_range(data)
            item.setImage(data, autoLevels=False, levels=(lo, hi if hi > lo else lo + 1))
            item.setLookupTable(colormap_lut(h.cmap or "viridis"))
        item.setRect(rect)
        item.setOpacity(h.opacity)
        item.setZValue(z)
        s.addItem(item)

    def hatch(self, h: F.Hatch, z: float) -> None:
        s = self.s
        path = QPainterPath()
        step = s.px(5.0)
        for r in np.asarray(h.rects).reshape(-1, 4):
            q = _data_rect(s, self.pl, r)
            x0, y0, x1, y1 = q.left(), q.top(), q.right(), q.bottom()
            c = x0 + y0 + step
            while c < x1 + y1:  # lines x + y = c clipped to the rectangle
                ax, ay = max(x0, c - y1), min(y1, c - x0)
                bx, by = min(x1, c - y0), max(y0, c - x1)
                path.moveTo(ax, ay)
                path.lineTo(bx, by)
                c += step
            path.addRect(q)
        s.add_path(path, h.color, None, 0.8, z=5 + z)

    def ticks(self) -> None:
        s, p = self.s, self.p
        bx, by, bw, bh = (s.px(v) for v in self.pl.box)
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

    def colorbar(self, cb: F.ColorBar) -> None:
        s = self.s
        bx, by, bw, bh = (s.px(v) for v in self.pl.box)
        x = bx + bw + s.px(8)
        w = s.px(F.COLORBAR_PT)
        ramp = np.linspace(1.0, 0.0, 256, dtype=np.float32)[:, None]
        item = pg.ImageItem(axisOrder="row-major")
        item.setImage(ramp, autoLevels=False, levels=(0.0, 1.0))
        item.setLookupTable(colormap_lut(cb.cmap))
        item.setRect(QRectF(x, by, w, bh))
        s.addItem(item)
        frame = QPainterPath()
        frame.addRect(QRectF(x, by, w, bh))
        lo, hi = cb.levels
        for v in cb.tick_values():
            f = 0.0 if hi == lo else (v - lo) / (hi - lo)
            y = by + bh * (1 - min(max(f, 0.0), 1.0))
            frame.moveTo(x + w, y)
            frame.lineTo(x + w + s.px(3), y)
            s.add_label(x + w + s.px(4), y, F.format_tick(v), anchor="lc", color_name="muted")
        s.add_path(frame, "muted", None, 0.8)
        s.add_label(x, by + bh + s.px(2), cb.unit, anchor="lt", color_name="muted")


def _pairs_path(seg: np.ndarray, plot: _Plot) -> QPainterPath:
    pts = seg.reshape(-1, 2)
    fx, fy = np.empty(len(pts)), np.empty(len(pts))
    for i, (x, y) in enumerate(pts):
        fx[i], fy[i] = plot.point(x, y)
    return pg.arrayToQPath(fx, fy, connect="pairs")


def _finite_range(a: np.ndarray) -> tuple[float, float]:
    f = a[np.isfinite(a)]
    return (float(f.min()), float(f.max())) if f.size else (0.0, 1.0)


# ---- files -------------------------------------------------------------------------------
FORMATS = ("png", "svg", "pdf")
FILE_WIDTH_PT = 720.0  # a figure written without a panel is laid out this wide (10 in)


def scene_bytes(scene: FigureScene, fmt: str) -> bytes:
    """The scene painted into a PNG (its pixel size), an SVG or a PDF (1 px = 1 pt)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter
    from PySide6.QtSvg import QSvgGenerator

    rect = scene.sceneRect()
    target = QRectF(0, 0, rect.width(), rect.height())
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if fmt == "png":
        size = QSize(int(np.ceil(rect.width())), int(np.ceil(rect.height())))
        image = QImage(size, QImage.Format.Format_RGB32)
        image.fill(scene.backgroundBrush().color())
        with _painter(image) as p:
            scene.render(p, QRectF(image.rect()), rect)
        image.save(buf, "PNG")
    elif fmt == "svg":
        gen = QSvgGenerator()
        gen.setOutputDevice(buf)
        gen.setSize(QSize(int(rect.width()), int(rect.height())))
        gen.setViewBox(target)
        gen.setResolution(72)
        gen.setTitle(scene.info.figure.title)
        with _painter(gen) as p:
            p.fillRect(target, scene.backgroundBrush())
            scene.render(p, target, rect)
    elif fmt == "pdf":
        writer = QPdfWriter(buf)
        writer.setResolution(72)
        page = QPageSize(QSizeF(rect.width(), rect.height()), QPageSize.Unit.Point, "figure")
        writer.setPageLayout(QPageLayout(page, QPageLayout.Orientation.Portrait, QMarginsF()))
        writer.setTitle(scene.info.figure.title)
        with _painter(writer) as p:
            p.fillRect(target, scene.backgroundBrush())
            scene.render(p, target, rect)
        del writer
    else:
        raise ValueError(f"unknown figure format {fmt!r}; choose png, svg or pdf")
    buf.close()
    return bytes(data.data())


class _painter:
    def __init__(self, device) -> None:
        self.p = QPainter()
        if not self.p.begin(device):
            raise OSError("could not start drawing the figure (is the folder writable?)")
        self.p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)

    def __enter__(self) -> QPainter:
        return self.p

    def __exit__(self, *exc) -> None:
        self.p.end()


def figure_scene(figure: F.Figure, scale: float = 1.0, theme: str = "dark",
                 width_pt: float = FILE_WIDTH_PT, height_pt: float | None = None,
                 fmt: str = "png") -> FigureScene:  # fmt: skip
    """A scene for a file: PNG at `scale` × 96 dpi, vector formats at 1 px = 1 pt."""
    scene = FigureScene()
    px_per_pt = scale * 96 / 72 if fmt == "png" else 1.0
    scene.draw(figure, width_pt, height_pt, px_per_pt, theme)
    return scene


def figure_format(path: str | Path) -> str:
    """png, svg or pdf from the file name; a one-line ValueError for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot write {Path(path).name}: figures are .png, .svg or .pdf (not .{suffix or '?'})"
        )
    return suffix


def write_figure(figure: F.Figure, path: str | Path, *, scale: float = 1.0,
                 theme: str = "dark", width_pt: float = FILE_WIDTH_PT,
                 height_pt: float | None = None, overwrite: bool = False) -> Path:  # fmt: skip
    """Write a figure as PNG (at `scale` x 96 dpi), SVG or PDF, chosen by the suffix;
    atomically, refusing an existing file unless `overwrite`."""
    from ..export import atomic_write

    fmt = figure_format(path)
    if not 0.25 <= scale <= 8:
        raise ValueError(f"scale {scale} out of range: use 1-4 (at most 8)")
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; choose light or dark")
    ensure_app()
    data = scene_bytes(figure_scene(figure, scale, theme, width_pt, height_pt, fmt), fmt)
    return atomic_write(path, lambda f: f.write(data), overwrite)


def ensure_app():
    """A QApplication for drawing offscreen (the CLI has none): the offscreen platform
    unless a display was asked for."""
    import os

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["swin-gui"])
    return app
