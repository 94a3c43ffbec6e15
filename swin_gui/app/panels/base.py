"""Shared panel plumbing: an image canvas (pyqtgraph) that shows a `Picture`, maps mouse
positions back to picture pixels, draws hover highlights as one path item, and a `Panel`
base that re-renders on session changes and exports PNG + NPY.

Colour bars, legends and labels are part of the rendered picture itself (so an exported
PNG carries them); the canvas adds only zoom/pan and transient hover highlights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QLabel, QVBoxLayout, QWidget

from ...render.selection import Picture, Selection
from ..state import Hover, Session

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


class ImageCanvas(pg.GraphicsLayoutWidget):
    """A zoomable view of an RGB picture. Emits `hovered(x, y)` / `clicked(x, y)` in picture
    pixels (x = column, y = row; (-1, -1) when the mouse leaves the picture)."""

    hovered = Signal(float, float)
    clicked = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("#202124")
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.highlight = QGraphicsPathItem()
        self.highlight.setZValue(10)
        self.view.addItem(self.highlight)
        self._shape: tuple[int, int] | None = None
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    def show_rgb(self, rgb: np.ndarray) -> None:
        self.image.setImage(np.ascontiguousarray(rgb), autoLevels=False, levels=(0, 255))
        if self._shape != rgb.shape[:2]:
            self._shape = rgb.shape[:2]
            self.view.autoRange(padding=0.01)

    def set_highlight(
        self,
        rects: list[tuple[float, float, float, float]],
        color: str = "#ffeb3b",
        width: float = 2.0,
    ) -> None:
        """Outline rectangles (x, y, w, h in picture pixels) with one path item."""
        path = QPainterPath()
        for x, y, w, h in rects:
            path.addRect(QRectF(x, y, w, h))
        pen = QPen(QColor(color), width)
        pen.setCosmetic(True)
        self.highlight.setPen(pen)
        self.highlight.setPath(path)

    def _to_pixel(self, pos: QPointF) -> tuple[float, float] | None:
        if self._shape is None or not self.view.sceneBoundingRect().contains(pos):
            return None
        p = self.view.mapSceneToView(pos)
        h, w = self._shape
        if 0 <= p.x() < w and 0 <= p.y() < h:
            return p.x(), p.y()
        return None

    def _on_mouse_moved(self, pos: QPointF) -> None:
        xy = self._to_pixel(pos)
        self.hovered.emit(*(xy or (-1.0, -1.0)))

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        xy = self._to_pixel(event.scenePos())
        if xy is not None:
            self.clicked.emit(*xy)


class Panel(QWidget):
    """Base panel: a title, an `ImageCanvas`, a caption. Subclasses implement `render`
    (call a `swin_gui.render` function) and may override the mouse handlers."""

    title = "Panel"
    view_name = "panel"  # used for export file names and `snapshot --view`
    lazy = False  # the main window sets True: hidden (tabbed-away) panels render when shown

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.picture: Picture | None = None
        self._stale = False
        self.heading = QLabel(f"<b>{self.title}</b>")
        self.canvas = ImageCanvas(self)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for w in (self.heading, self.canvas, self.caption):
            layout.addWidget(w)
        layout.setStretch(1, 1)
        session.traceChanged.connect(self._on_trace_changed)
        session.selectionChanged.connect(self._on_selection_changed)
        session.hoverChanged.connect(self._on_hover_changed)
        self.canvas.hovered.connect(self._on_canvas_hovered)
        self.canvas.clicked.connect(self._on_canvas_clicked)

    # ---- to implement ----------------------------------------------------------------------
    def render(self, trace, selection: Selection) -> Picture:
        raise NotImplementedError

    def depends_on(self, new: Selection, old: Selection) -> bool:
        """Whether a selection change alters this panel's picture (default: always)."""
        return True

    def _on_canvas_hovered(self, x: float, y: float) -> None:
        """Picture pixel under the mouse; (-1, -1) on leave."""

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        """A left click on the picture."""

    def _on_hover_changed(self, hover: Hover | None) -> None:
        """Another panel hovers tokens; draw them with `canvas.set_highlight`."""

    # ---- plumbing -----------------------------------------------------------------------------
    def refresh(self) -> None:
        trace = self.session.trace
        self._stale = False
        if trace is None:
            return
        pic = self.render(trace, self.session.selection)
        self.picture = pic
        self.canvas.show_rgb(pic.rgb)
        self.heading.setText(f"<b>{pic.title or self.title}</b>")
        self.caption.setText(" · ".join(pic.notes))

    def _request_refresh(self) -> None:
        """Re-render now, or — for a `lazy` panel hidden behind a tab — when next shown."""
        if self.lazy and not self.isVisible():
            self._stale = True
        else:
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _on_trace_changed(self, trace) -> None:
        self._request_refresh()

    def _on_selection_changed(self, new: Selection, old: Selection) -> None:
        if self.depends_on(new, old):
            self._request_refresh()

    def export(self, base: str | Path, overwrite: bool = False) -> tuple[Path, Path]:
        """Write `<base>.png` (the picture, no UI chrome) and `<base>.npy` (its data)."""
        from ...export import save_npy, save_png

        if self._stale:
            self.refresh()
        if self.picture is None:
            raise ValueError("nothing to export yet: open an image first")
        base = Path(base)
        png, npy = base.with_suffix(".png"), base.with_suffix(".npy")
        save_png(self.picture.rgb, png, overwrite=overwrite)
        save_npy(self.picture.data, npy, overwrite=overwrite)
        return png, npy
