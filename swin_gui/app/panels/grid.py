"""The window-grid panel (centre): the image with the current block's windows in image
pixels. Hovering names token → window in the status bar and tells other panels; a click
selects the token; tokens hovered in other panels (e.g. a mask cell's query and key) are
outlined here.
"""

from __future__ import annotations

from ...i18n import tr
from ...render import figure as F
from ...render.selection import view_shift
from .base import Panel


class GridPanel(Panel):
    """Window partition over the image; hover/click map back to stage tokens."""

    view_name = "grid"
    watches = ("stage", "block", "token", "window", "shift_view")
    prefetch = True  # a new stage's or shift's frame is built while idle, before ←/→ asks

    def tooltip_text(self) -> str:
        return tr(
            "Grid",
            "The windows of the current block drawn in image pixels (side = M × patch × 2^stage); "
            "on SW-MSA blocks they start s = M/2 tokens in and the 9 tinted regions show which "
            "tokens the cyclic roll puts into one window; hatched = padding.",
        )

    def __init__(self, session, parent=None) -> None:
        super().__init__(session, parent)
        self.refresh()

    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        """'token (r, c) → window w, pos (i, j)' (padding says so)."""
        block = self.session.current_block()
        if block is None or not tokens:
            return ""
        (r, c), M = tokens[0], block.window
        w, p = block.locate(r, c, shift=view_shift(block, self.session.selection))
        i, j = p // M, p % M
        H, W = block.resolution
        if r < H and c < W:
            return tr(
                "Grid", "token ({r}, {c}) → window {w}, pos ({i}, {j})", r=r, c=c, w=w, i=i, j=j
            )
        return tr(
            "Grid",
            "padding token ({r}, {c}) → window {w}, pos ({i}, {j}) "
            "(zeros, cropped after attention)",
            r=r,
            c=c,
            w=w,
            i=i,
            j=j,
        )

    def hover_rects(self, hover) -> list[tuple[str, float, float, float, float]]:
        """Tokens hovered elsewhere, of any stage, at their own size in image pixels."""
        trace = self.session.trace
        if trace is None or hover.stage >= len(trace.stages):
            return []
        t = trace.token_pixels(hover.stage)
        return [("image", c * t, r * t, t, t) for r, c in hover.tokens]

    def on_hit_hovered(self, hit: F.Hit | None) -> None:
        super().on_hit_hovered(hit)
        if hit is not None:  # the window is in the description: no "window 5" value text
            self.session.message.emit(self.describe_tokens(hit, self.hit_tokens(hit)))
