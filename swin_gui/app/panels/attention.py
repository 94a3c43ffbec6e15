"""The Attention panel: per-head attention of the selected token over its window, on the
image, plus the window's N x N attention matrix (`render.attention.render_attention`).

Mouse, all written to the session:
- click a tile's title: select that head (the mean tile selects head None);
- click a token inside any tile: select that head and that token;
- click a matrix cell (i, j): select key token j of the window ("follow the attention");
- hover a matrix cell: highlight its query and key tokens everywhere
  (`Hover(stage, (query, key), "attention")`); hover a tile token: highlight that token.
Hovers from other panels are outlined in every tile.
"""

from __future__ import annotations

from ...analysis.attention import query_attention
from ...render.attention import Hit, attention_layout, hit_test, token_rect
from ...render.attention import render_attention as _render
from ...render.selection import Picture, Selection
from ..state import Hover
from .base import Panel, Rect

TOOLTIP = (
    "Where the selected token looks: its softmax attention over its window for every head "
    "and the mean, on the image, and the window's N×N attention matrix below."
)
CANVAS_TOOLTIP = (
    "Click a head's title to select the head; click a token in a tile to select it; click a "
    "matrix cell to jump to its key token; hover a cell to highlight its query and key."
)


class AttentionPanel(Panel):
    """Per-head attention (`view_name` "attention")."""

    title = "Attention"
    view_name = "attention"
    watches = ("stage", "block", "head", "token", "colormap", "shift_view")
    tooltip = TOOLTIP
    canvas_tooltip = CANVAS_TOOLTIP

    # ---- rendering ---------------------------------------------------------------------------
    def render(self, trace, selection: Selection) -> Picture:
        self.layout_info = attention_layout(trace, selection.stage, selection.block)
        return _render(trace, selection)

    # ---- mouse -------------------------------------------------------------------------------
    def hit(self, x: float, y: float) -> Hit | None:
        """What lies under picture pixel (x, y) of the current picture."""
        if self.layout_info is None or self.session.trace is None:
            return None
        return hit_test(self.layout_info, x, y)

    def _query(self):
        sel = self.session.selection
        return query_attention(self.session.trace.block(sel.stage, sel.block), sel.token)

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        hit = self.hit(x, y)
        if hit is None:
            return
        if hit.kind == "title" or (hit.kind == "tile" and hit.token is None):
            self.session.select(head=hit.head)
        elif hit.kind == "tile":
            self.session.select(head=hit.head, token=hit.token)
        elif hit.kind == "matrix":
            q = self._query()
            self._select_key(q.keys, q.padding, hit.cell[1])

    def _on_canvas_hovered(self, x: float, y: float) -> None:
        hit = self.hit(x, y) if x >= 0 else None
        tokens: tuple = ()
        if hit is not None and hit.kind == "matrix":
            q = self._query()
            i, j = hit.cell
            tokens = (tuple(int(v) for v in q.keys[i]), tuple(int(v) for v in q.keys[j]))
        elif hit is not None and hit.kind == "tile" and hit.token is not None:
            tokens = (hit.token,)
        self._hover(tokens)

    def hover_rects(self, hover: Hover) -> list[Rect] | None:
        """Outline hovered tokens (from any panel) in every head tile."""
        info = self.layout_info
        if info is None or hover.stage != info.stage:
            return []
        return [token_rect(info, s, t) for s in info.slots for t in hover.tokens]
