"""`FigureView`: a zoomable view of a `FigureScene`, laid out at the widget's own width so
that the figure's text is drawn at its size in points (≥ 9 pt) on any screen.

- The figure is re-laid out when the widget is resized (tiles wrap, fill plots grow).
- Wheel zooms about the cursor, bounded (never below the size at which the whole figure
  fits, nor above 16×); text keeps its size on screen at any zoom. Double-click, View ›
  Fit and Ctrl+0 reset; a panel keeps its zoom across steps and resets it for a new image.
- The mouse is mapped to the plot and data point under it; `hovered` / `clicked` carry a
  `render.figure.Hit` (or None).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from ..render import figure as F
from .figure_scene import FigureScene, hide, show

MAX_ZOOM = 16.0


class FigureView(QGraphicsView):
    hovered = Signal(object)  # Hit | None
    clicked = Signal(object)  # Hit | None
    # what pyqtgraph items look for on the view that shows them (as on pg.GraphicsView)
    sigDeviceRangeChanged = Signal(object, object)
    sigDeviceTransformChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None, theme: str = "dark") -> None:
        super().__init__(parent)
        self.figure_scene = FigureScene(self)
        self.setScene(self.figure_scene)
        self.theme = theme
        self.figure: F.Figure | None = None
        self._floor: QRectF | None = None  # the least scene extent (see `show_figure`)
        self.zoom = 1.0
        self.setFrameShape(QFrame.Shape.NoFrame)
        # the overlays are axis-aligned: antialiasing would only blur them and cost time
        self.setRenderHints(QPainter.RenderHint.TextAntialiasing)
        self.setOptimizationFlags(
            QGraphicsView.OptimizationFlag.DontSavePainterState
            | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing
        )
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setMouseTracking(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setMinimumSize(160, 120)
        self._relayout = QTimer(self, singleShot=True, interval=40)
        self._relayout.timeout.connect(self._draw)
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.setAutoFillBackground(True)  # opaque: a new range repaints the bar alone,
            bar.parentWidget().setAutoFillBackground(True)  # not the dock and window behind
            bar.valueChanged.connect(self._fill)
            bar.rangeChanged.connect(self._fill)
        self._last_hit: object = ()

    # ---- content -----------------------------------------------------------------------
    @property
    def px_per_pt(self) -> float:
        return self.logicalDpiY() / 72.0

    def show_figure(self, figure: F.Figure, keep_extent: bool = False) -> None:
        """Draw `figure`; `keep_extent` (a placeholder) keeps the scene at least as big as
        the figure before it, so the scroll bars stay: toggling them resized the viewport,
        which re-laid out the panel twice more for every block visited."""
        self._floor = self.figure_scene.sceneRect() if keep_extent else None
        self.figure = figure
        self._draw()

    def _draw(self) -> None:
        if self.figure is None:
            return
        vp = self.viewport()
        ppt = self.px_per_pt
        scene = self.figure_scene
        width, height = vp.width() / ppt, vp.height() / ppt
        scene.draw(self.figure, width, height, ppt, self.theme, False, self.shown(), self._floor)

    def prepare(self, figure: F.Figure) -> None:
        """Build `figure`'s new items hidden, for a later `show_figure` (idle-time work),
        and paint them once, offscreen: their device caches fill as a real paint would
        fill them, so the keypress that shows them blits them (painting a 12 MP photo's
        new frame for the first time, its picture, window lines and labels, took 3–8 ms)."""
        vp, ppt = self.viewport(), self.px_per_pt
        items = self.figure_scene.prepare(figure, vp.width() / ppt, vp.height() / ppt, self.shown())
        if items:
            show(items)
            vp.render(QImage(vp.size(), QImage.Format.Format_ARGB32_Premultiplied))
            hide(items)

    def shown(self) -> QRectF:
        """The scene rectangle the viewport shows, with half a viewport around it (the
        plots outside are built when a scroll, zoom or resize brings them near)."""
        vp = self.viewport().rect()
        rect = self.mapToScene(vp).boundingRect()
        return rect.adjusted(
            -rect.width() / 2, -rect.height() / 2, rect.width() / 2, rect.height() / 2
        )

    def _fill(self, *_) -> None:
        if self.figure is not None and not self.figure_scene.complete:
            self.figure_scene.fill(self.shown())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.figure is not None:
            self._fill()  # what the new size shows now, the re-layout shortly after
            self._relayout.start()

    # ---- zoom --------------------------------------------------------------------------
    def min_zoom(self) -> float:
        rect = self.figure_scene.sceneRect()
        vp = self.viewport()
        if rect.width() <= 0 or rect.height() <= 0:
            return 1.0
        return min(1.0, vp.width() / rect.width(), vp.height() / rect.height())

    def set_zoom(self, zoom: float) -> None:
        zoom = max(self.min_zoom(), min(MAX_ZOOM, zoom))
        if abs(zoom - self.zoom) < 1e-9:
            return
        self.scale(zoom / self.zoom, zoom / self.zoom)
        self.zoom = zoom
        self._fill()

    def fit(self) -> None:
        """Back to the laid-out size (1:1, every label at its point size), top-left."""
        self.resetTransform()
        self.zoom = 1.0
        self.horizontalScrollBar().setValue(0)
        self.verticalScrollBar().setValue(0)
        self._fill()

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom * 1.25**steps)
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:
        self.fit()
        event.accept()

    # ---- mouse -------------------------------------------------------------------------
    def hit_at(self, pos: QPointF) -> F.Hit | None:
        info = self.figure_scene.info
        if info is None:
            return None
        sp = self.mapToScene(pos.toPoint())
        x, y = sp.x() / info.px_per_pt, sp.y() / info.px_per_pt
        placement = info.layout.at(x, y)
        if placement is None:
            return None
        dx, dy = placement.to_data(x, y)
        return info.figure.hit(placement.plot.key, dx, dy)

    def mouseMoveEvent(self, event) -> None:
        super().mouseMoveEvent(event)
        hit = self.hit_at(event.position())
        key = None if hit is None else (hit.plot, id(hit.region), hit.cell)
        if key != self._last_hit:
            self._last_hit = key
            self.hovered.emit(hit)

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        if self._last_hit is not None:
            self._last_hit = None
            self.hovered.emit(None)

    def mousePressEvent(self, event) -> None:
        self._press = event.position()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        press = getattr(self, "_press", None)
        moved = press is not None and (event.position() - press).manhattanLength() > 4
        if event.button() == Qt.MouseButton.LeftButton and not moved:
            self.clicked.emit(self.hit_at(event.position()))
