"""The attention-mask panel: the selected window's N x N additive shift mask and the
thumbnails of every window's mask. Hovering a cell highlights its query and key tokens in
the other views; clicking a thumbnail selects that window, clicking a cell its query token.
"""

from __future__ import annotations

from ...model.geometry import MASK_VALUE
from ...render.mask import mask_layout, render_mask
from ...render.selection import Picture, Selection, view_shift
from ..state import Hover
from .base import Panel, Rect

MASK_TOOLTIP = (
    "The additive mask of one window: −100 where query and key come from different "
    "shift regions (the softmax then gives them ≈0 weight), 0 elsewhere; one mask for all "
    "heads; padding tokens are not what it masks."
)


class MaskPanel(Panel):
    """Mask matrix + thumbnails; maps cells and thumbnails back via `MaskLayout`."""

    title = "Attention mask"
    view_name = "mask"
    watches = ("stage", "block", "window", "shift_view")
    canvas_tooltip = MASK_TOOLTIP

    def __init__(self, session, parent=None) -> None:
        super().__init__(session, parent)
        self.refresh()

    # ---- rendering ------------------------------------------------------------------------
    def render(self, trace, selection: Selection) -> Picture:
        self.layout_info = mask_layout(trace, selection)
        self.canvas.set_highlight([])  # hover outlines belong to the previous picture
        return render_mask(trace, selection)

    def _window_tokens(self):
        block = self.session.current_block()
        sel = self.session.selection
        shift = view_shift(block, sel)
        nW = self.layout_info.grid[0] * self.layout_info.grid[1]
        return block, block.window_tokens(max(0, min(nW - 1, sel.window)), shift)

    # ---- mouse ------------------------------------------------------------------------------
    def _on_canvas_hovered(self, x: float, y: float) -> None:
        lay = self.layout_info
        cell = None if lay is None or x < 0 else lay.cell_at(x, y)
        thumb = None if lay is None or x < 0 or cell else lay.thumb_at(x, y)
        key = (self.session.selection, cell, thumb)
        if key == self._last_hover:
            return
        self._last_hover = key
        if cell is not None:
            self._hover_cell(*cell)
        elif thumb is not None:
            self.canvas.set_highlight([lay.thumb_rect(thumb)])
            self.session.message.emit(f"window {thumb}: click to select it")
        else:
            self.canvas.set_highlight([])
            self.session.set_hover(None)

    def _hover_cell(self, i: int, j: int) -> None:
        """Status text and a hover of the cell's query and key tokens."""
        block, tokens = self._window_tokens()
        q, k = (int(tokens[i][0]), int(tokens[i][1])), (int(tokens[j][0]), int(tokens[j][1]))
        masked = self.picture is not None and self.picture.data[i, j] < MASK_VALUE / 2
        H, W = block.resolution

        def name(rc: tuple[int, int]) -> str:
            return f"({rc[0]}, {rc[1]})" + ("" if rc[0] < H and rc[1] < W else " padding")

        verdict = "masked (−100)" if masked else "attend (0)"
        self.session.message.emit(f"query {name(q)} ↔ key {name(k)}: {verdict}")
        self.canvas.set_highlight([self.layout_info.cell_rect(i, j)])
        self.session.set_hover(Hover(self.session.selection.stage, (q, k), "mask"))

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        lay = self.layout_info
        if lay is None or self.session.trace is None:
            return
        thumb = lay.thumb_at(x, y)
        if thumb is not None:
            self.session.select(window=thumb)
            return
        cell = lay.cell_at(x, y)
        if cell is not None:
            _, tokens = self._window_tokens()
            self._select_token(tuple(int(v) for v in tokens[cell[0]]))

    # ---- hover from other panels ---------------------------------------------------------
    def hover_rects(self, hover: Hover) -> list[Rect] | None:
        """A token hovered elsewhere: its query row and key column if it is in the selected
        window (this panel's own hover keeps its cell outline)."""
        lay = self.layout_info
        if hover.source == self.view_name:
            return None
        if lay is None or hover.stage != self.session.selection.stage:
            return []
        _, tokens = self._window_tokens()
        index = {(int(r), int(c)): n for n, (r, c) in enumerate(tokens)}
        side = lay.tokens * lay.cell
        x0, y0 = lay.matrix
        rects = []
        for rc in hover.tokens:
            n = index.get(tuple(rc))
            if n is not None:
                rects += [
                    (x0, y0 + n * lay.cell, side, lay.cell),
                    (x0 + n * lay.cell, y0, lay.cell, side),
                ]
        return rects
