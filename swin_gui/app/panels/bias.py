"""The Bias panel: the relative position bias of the selected block, one (2M-1)² table per
head plus the mean, and its N x N expansion (`render.bias.render_bias`).

Mouse, all written to the session:
- click a head's table (or its title): select that head (the mean table selects None);
- click an expansion cell (i, j): select the window's key token j;
- hover a table cell (Δrow, Δcol): highlight the selected token and the token at that
  offset from it; hover an expansion cell: highlight its query and key tokens.
The picture depends on the token only through the outlined row (its window position).
"""

from __future__ import annotations

from ...analysis.attention import default_token, window_keys
from ...render.attention import Hit
from ...render.bias import bias_hit, bias_layout, render_bias
from ...render.selection import Picture, Selection
from .base import Panel

TOOLTIP = (
    "Relative position bias: what each head adds to the logit of a key at offset "
    "(Δrow, Δcol) from the query, learned per offset (v1) or by a small MLP (v2)."
)
CANVAS_TOOLTIP = (
    "Click a head's table to select the head; hover a table cell to see which key that "
    "offset points to; click an N×N cell to jump to its key token."
)


class BiasPanel(Panel):
    """Relative position bias (`view_name` "bias")."""

    title = "Relative position bias"
    view_name = "bias"
    watches = ("stage", "block", "head", "colormap")
    tooltip = TOOLTIP
    canvas_tooltip = CANVAS_TOOLTIP

    # ---- rendering ---------------------------------------------------------------------------
    def render(self, trace, selection: Selection) -> Picture:
        self.layout_info = bias_layout(trace, selection.stage, selection.block)
        return render_bias(trace, selection)

    def depends_on(self, new: Selection, old: Selection) -> bool:
        if super().depends_on(new, old):
            return True
        return self._row(new) != self._row(old)  # the outlined row: the token's position

    def _row(self, sel: Selection) -> int | None:
        trace = self.session.trace
        if trace is None:
            return None
        bt = trace.block(sel.stage, sel.block)
        return bt.locate(*(sel.token or default_token(bt)))[1]

    # ---- mouse -------------------------------------------------------------------------------
    def hit(self, x: float, y: float) -> Hit | None:
        if self.layout_info is None or self.session.trace is None:
            return None
        return bias_hit(self.layout_info, x, y)

    def _window(self):
        """(block, selected token, (N, 2) keys of its window, (N,) padding flags)."""
        sel = self.session.selection
        bt = self.session.trace.block(sel.stage, sel.block)
        token = sel.token or default_token(bt)
        keys, padding = window_keys(bt, bt.locate(*token)[0])
        return bt, token, keys, padding

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        hit = self.hit(x, y)
        if hit is None:
            return
        if hit.kind in ("title", "table"):
            self.session.select(head=hit.head)
            return
        _, _, keys, padding = self._window()
        self._select_key(keys, padding, hit.cell[1])

    def _hover_tokens(self, hit: Hit | None) -> tuple:
        if hit is None or hit.kind == "title":
            return ()
        bt, token, keys, _ = self._window()
        if hit.kind == "matrix":
            i, j = hit.cell
            return tuple(int(v) for v in keys[i]), tuple(int(v) for v in keys[j])
        dy, dx = hit.cell  # offset = query - key
        key = (token[0] - dy, token[1] - dx)
        H, W = bt.resolution
        return (tuple(token), key) if 0 <= key[0] < H and 0 <= key[1] < W else (tuple(token),)

    def _on_canvas_hovered(self, x: float, y: float) -> None:
        self._hover(self._hover_tokens(self.hit(x, y) if x >= 0 else None))
