"""The window-grid panel: the image with the current block's windows in image pixels.
Hovering shows token → window in the status bar and tells other panels; a click selects
the token; tokens hovered in other panels (e.g. a mask cell's query and key) are outlined.
"""

from __future__ import annotations

from ...render.grid import grid_layout, render_grid
from ...render.selection import Picture, Selection, view_shift
from ..state import Hover
from .base import Rect, TokenGridPanel

GRID_TOOLTIP = (
    "The windows of the current block drawn in image pixels (side = M × patch × 2^stage); "
    "on SW-MSA blocks they start s = M/2 tokens in and the 9 tinted regions show which "
    "tokens the cyclic roll puts into one window; hatched = padding."
)


class GridPanel(TokenGridPanel):
    """Window partition over the image; hover/click map back to stage tokens."""

    title = "Window grid"
    view_name = "grid"
    watches = ("stage", "block", "token", "window", "shift_view")
    canvas_tooltip = GRID_TOOLTIP
    hover_width = 3.0

    def __init__(self, session, parent=None) -> None:
        super().__init__(session, parent)
        self.refresh()

    def render(self, trace, selection: Selection) -> Picture:
        self.layout_info = grid_layout(trace, selection)
        self.canvas.set_highlight([])  # hover outlines belong to the previous picture
        return render_grid(trace, selection)

    def describe(self, r: int, c: int) -> str:
        """'token (r, c) → window w, pos (i, j)' for the status bar."""
        block = self.session.current_block()
        shift = view_shift(block, self.session.selection)
        w, p = block.locate(r, c, shift=shift)
        i, j = divmod(p, block.window)
        H, W = block.resolution
        text = f"token ({r}, {c}) → window {w}, pos ({i}, {j})"
        return text if r < H and c < W else f"padding {text} (zeros, cropped after attention)"

    def hover_rects(self, hover: Hover) -> list[Rect] | None:
        """Tokens hovered in other panels, at their own stage's token size."""
        trace, lay = self.session.trace, self.layout_info
        if hover.source == self.view_name or trace is None or lay is None:
            return []
        if hover.stage >= len(trace.stages):
            return None
        t = trace.token_pixels(hover.stage) * lay.scale
        return [lay.token_rect(r, c, t) for r, c in hover.tokens]
