"""Shared panel plumbing: an image canvas (pyqtgraph) that shows a `Picture` (smoothed only
while drawn smaller than 1:1), maps mouse positions back to picture pixels and draws hover
highlights as one path item; a `Panel` base that re-renders on the session changes it
watches, sends and outlines hovers, selects tokens and exports PNG + NPY; and
`TokenGridPanel`, the hover/click behaviour of the views drawn on a token grid.

Colour bars, legends and labels are part of the rendered picture itself (so an exported
PNG carries them); the canvas adds only zoom/pan and transient hover highlights.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QLabel, QVBoxLayout, QWidget

from ...render.selection import Picture, Selection
from ..state import Hover, Session

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
Rect = tuple[float, float, float, float]  # x, y, w, h in picture pixels


class ImageCanvas(pg.GraphicsLayoutWidget):
    """A zoomable view of an RGB picture. Emits `hovered(x, y)` / `clicked(x, y)` in picture
    pixels (x = column, y = row; (-1, -1) when the mouse leaves the picture). The picture
    is filtered only while drawn smaller than 1:1, so captions stay legible in a small
    panel and tokens stay crisp when zoomed in."""

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
        self.view.sigTransformChanged.connect(self._on_view_changed)
        self.view.sigResized.connect(self._on_view_changed)

    def show_rgb(self, rgb: np.ndarray) -> None:
        self.image.setImage(
            np.ascontiguousarray(rgb), autoLevels=False, levels=None
        )  # uint8: no rescale
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

    def _on_view_changed(self, *_) -> None:
        sx, sy = self.view.viewPixelSize()  # picture pixels per screen pixel
        smooth = bool(max(float(sx), float(sy)) > 1.0)
        hint = QPainter.RenderHint.SmoothPixmapTransform
        if bool(self.renderHints() & hint) != smooth:
            self.setRenderHint(hint, smooth)
            self.viewport().update()

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
    (call a `swin_gui.render` function), name the `Selection` fields their picture
    `watches`, and may override the mouse handlers and `hover_rects`."""

    title = "Panel"
    view_name = "panel"  # used for export file names, `snapshot --view` and `Hover.source`
    lazy = False  # the main window sets True: hidden (tabbed-away) panels render when shown
    watches: tuple[str, ...] | None = None  # Selection fields the picture depends on; None: all
    tooltip = ""  # of the whole panel
    canvas_tooltip = ""  # of the picture: what the mouse does there
    hover_width = 2.0  # pen width of the outlines of tokens hovered elsewhere

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.picture: Picture | None = None
        self.layout_info = None  # the render module's layout of the picture, for hit tests
        self._last_hover: Hashable = ()  # what the mouse was last over (see `_hover`)
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
        if self.tooltip:
            self.setToolTip(self.tooltip)
        if self.canvas_tooltip:
            self.canvas.setToolTip(self.canvas_tooltip)
        session.traceChanged.connect(self._on_trace_changed)
        session.selectionChanged.connect(self._on_selection_changed)
        session.hoverChanged.connect(self._on_hover_changed)
        self.canvas.hovered.connect(self._on_canvas_hovered)
        self.canvas.clicked.connect(self._on_canvas_clicked)

    # ---- to implement ----------------------------------------------------------------------
    def render(self, trace, selection: Selection) -> Picture:
        raise NotImplementedError

    def depends_on(self, new: Selection, old: Selection) -> bool:
        """Whether a selection change alters this panel's picture: a change of one of the
        fields it `watches` (every change when it names none)."""
        if self.watches is None:
            return True
        return any(getattr(new, k) != getattr(old, k) for k in self.watches)

    def _on_canvas_hovered(self, x: float, y: float) -> None:
        """Picture pixel under the mouse; (-1, -1) on leave."""

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        """A left click on the picture."""

    def hover_rects(self, hover: Hover) -> list[Rect] | None:
        """Outlines for tokens hovered in a panel: [] clears, None keeps what is drawn."""
        return None

    def _on_hover_changed(self, hover: Hover | None) -> None:
        """Draw `hover_rects` with `canvas.set_highlight`; cleared when the hover ends."""
        rects = [] if hover is None else self.hover_rects(hover)
        if rects is not None:
            self.canvas.set_highlight(rects, width=self.hover_width)

    # ---- helpers for the mouse handlers ----------------------------------------------------------
    def _hover(
        self,
        tokens: tuple,
        key: Hashable = None,
        message: Callable[[], str] | None = None,
        stage: int | None = None,
    ) -> None:
        """Tell every panel which tokens the mouse is over (a `Hover` from this view on the
        current stage; None for no tokens), once per change of `key` (default: the tokens),
        after the status-bar `message` if one is given."""
        key = tokens if key is None else key
        if key == self._last_hover:
            return
        self._last_hover = key
        if message is not None and tokens:
            self.session.message.emit(message())
        stage = self.session.selection.stage if stage is None else stage
        self.session.set_hover(Hover(stage, tokens, self.view_name) if tokens else None)

    def _select_token(self, token: tuple[int, int] | None) -> None:
        """Select `token` when it is on the current block's grid (not padding)."""
        block = self.session.current_block()
        if token is None or block is None:
            return
        if token[0] < block.resolution[0] and token[1] < block.resolution[1]:
            self.session.select(token=token)

    def _select_key(self, keys: np.ndarray, padding: np.ndarray, j: int) -> None:
        """Follow a matrix column to key token j of the window (`keys` (N, 2) stage-grid
        positions, `padding` (N,) flags); a padding key is not on the image: say so."""
        if padding[j]:
            self.session.message.emit(f"key {j} is a padding token: it is not on the image")
            return
        self.session.select(token=(int(keys[j][0]), int(keys[j][1])))

    # ---- plumbing -----------------------------------------------------------------------------
    def refresh(self) -> None:
        trace = self.session.trace
        self._stale = False
        if trace is None:
            return
        pic = self.render(trace, self.session.selection)
        self.picture = pic
        self.canvas.show_rgb(pic.rgb)
        set_stable_text(self.heading, f"<b>{pic.title or self.title}</b>")
        set_stable_text(self.caption, " · ".join(pic.notes))

    def _request_refresh(self) -> None:
        """Re-render now, or — for a `lazy` panel not on screen (a tabbed-away dock keeps
        `isVisible()` but has an empty visible region) — when it is next exposed."""
        if self.lazy and (not self.isVisible() or self.visibleRegion().isEmpty()):
            self._stale = True
        else:
            self.refresh()

    def set_exposed(self, exposed: bool) -> None:
        """Connected to the dock's `visibilityChanged`: render what was deferred."""
        if exposed and self._stale:
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.set_exposed(True)

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


class TokenGridPanel(Panel):
    """A view drawn on a token grid whose `layout_info` has `token_at(x, y)`: hovering
    names the token in the status bar (`describe`) and hovers it everywhere; a click
    selects it (padding tokens are not selectable)."""

    def describe(self, r: int, c: int) -> str:
        """Status-bar text for token (r, c) of the padded grid."""
        return f"token ({r}, {c})"

    def _token_under(self, x: float, y: float) -> tuple[int, int] | None:
        if self.layout_info is None or x < 0 or y < 0:
            return None
        return self.layout_info.token_at(x, y)

    def _on_canvas_hovered(self, x: float, y: float) -> None:
        token = self._token_under(x, y)
        sel = self.session.selection
        key = () if token is None else (sel.stage, sel.block, sel.shift_view, token)
        tokens = () if token is None else (token,)
        self._hover(tokens, key, lambda: self.describe(*token))

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        self._select_token(self._token_under(x, y))


def set_stable_text(label: QLabel, text: str) -> None:
    """Set a label that changes with the selection without re-laying out its window: only
    when the text differs, and its size only grows (height for a word-wrapped label, width
    otherwise). A caption one line shorter for the next token would otherwise resize, and
    repaint twice, the picture above it; a shorter breadcrumb would re-lay out the toolbar."""
    if label.text() == text:
        return
    label.setText(text)
    if not label.isVisible():  # not laid out yet: its width means nothing
        return
    if label.wordWrap():
        label.setMinimumHeight(max(label.minimumHeight(), label.heightForWidth(label.width())))
    else:
        label.setMinimumWidth(max(label.minimumWidth(), label.sizeHint().width()))
