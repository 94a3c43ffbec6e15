"""The window-grid panel: the image with the current block's windows in image pixels.
Hovering shows token → window in the status bar and tells other panels; a click selects
the token; tokens hovered in other panels (e.g. a mask cell's query and key) are outlined.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QPainter

from ...render.grid import GridLayout, grid_layout, render_grid
from ...render.selection import Picture, Selection, view_shift
from ..state import Hover
from .base import Panel

GRID_TOOLTIP = (
    "The windows of the current block drawn in image pixels (side = M × patch × 2^stage); "
    "on SW-MSA blocks they start s = M/2 tokens in and the 9 tinted regions show which "
    "tokens the cyclic roll puts into one window; hatched = padding."
)


class SmoothWhenShrunk(QObject):
    """Filters the picture only while it is drawn smaller than 1:1, so captions stay
    legible in a small panel and tokens stay crisp when zoomed in. A QObject child of the
    canvas, so its slot is disconnected when the canvas goes. (A candidate for base.py.)"""

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        canvas.view.sigTransformChanged.connect(self.on_view_changed)
        canvas.view.sigResized.connect(self.on_view_changed)

    def on_view_changed(self, *_) -> None:
        sx, sy = self.canvas.view.viewPixelSize()  # picture pixels per screen pixel
        smooth = bool(max(float(sx), float(sy)) > 1.0)
        hint = QPainter.RenderHint.SmoothPixmapTransform
        if bool(self.canvas.renderHints() & hint) != smooth:
            self.canvas.setRenderHint(hint, smooth)
            self.canvas.viewport().update()


class GridPanel(Panel):
    """Window partition over the image; hover/click map back to stage tokens."""

    title = "Window grid"
    view_name = "grid"

    def __init__(self, session, parent=None) -> None:
        self.layout_info: GridLayout | None = None
        self._last_hover: tuple | None = None
        super().__init__(session, parent)
        self.canvas.setToolTip(GRID_TOOLTIP)
        self._smoothing = SmoothWhenShrunk(self.canvas)
        self.refresh()

    # ---- rendering ------------------------------------------------------------------------
    def render(self, trace, selection: Selection) -> Picture:
        self.layout_info = grid_layout(trace, selection)
        self.canvas.set_highlight([])  # hover outlines belong to the previous picture
        return render_grid(trace, selection)

    def depends_on(self, new: Selection, old: Selection) -> bool:
        keys = ("stage", "block", "token", "window", "shift_view")
        return any(getattr(new, k) != getattr(old, k) for k in keys)

    # ---- mouse ------------------------------------------------------------------------------
    def _token_under(self, x: float, y: float) -> tuple[int, int] | None:
        if self.layout_info is None or x < 0 or y < 0:
            return None
        return self.layout_info.token_at(x, y)

    def _on_canvas_hovered(self, x: float, y: float) -> None:
        token = self._token_under(x, y)
        sel = self.session.selection
        key = None if token is None else (sel.stage, sel.block, sel.shift_view, token)
        if key == self._last_hover:
            return
        self._last_hover = key
        if token is None:
            self.session.set_hover(None)
            return
        self.session.message.emit(self._describe(*token))
        self.session.set_hover(Hover(sel.stage, (token,), "grid"))

    def _describe(self, r: int, c: int) -> str:
        """'token (r, c) → window w, pos (i, j)' for the status bar."""
        block = self.session.current_block()
        shift = view_shift(block, self.session.selection)
        w, p = block.locate(r, c, shift=shift)
        i, j = divmod(p, block.window)
        H, W = block.resolution
        text = f"token ({r}, {c}) → window {w}, pos ({i}, {j})"
        return text if r < H and c < W else f"padding {text} (zeros, cropped after attention)"

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        token = self._token_under(x, y)
        block = self.session.current_block()
        if token is None or block is None:
            return
        H, W = block.resolution
        if token[0] < H and token[1] < W:
            self.session.select(token=token)

    # ---- hover from other panels ---------------------------------------------------------
    def _on_hover_changed(self, hover: Hover | None) -> None:
        trace, lay = self.session.trace, self.layout_info
        if hover is None or hover.source == "grid" or trace is None or lay is None:
            self.canvas.set_highlight([])
            return
        if hover.stage >= len(trace.stages):
            return
        t = trace.token_pixels(hover.stage) * lay.scale
        self.canvas.set_highlight([lay.token_rect(r, c, t) for r, c in hover.tokens], width=3)
