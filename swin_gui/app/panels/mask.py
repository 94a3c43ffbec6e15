"""The attention-mask panel: the N x N additive shift mask of the selected token's window and
the mosaic of every window's mask (`render.mask.figure_mask`).

- hover a matrix cell: "additive mask −100 · query (a, b) → key (c, d)" in the status bar,
  and its query and key tokens outlined on the image (the `keys` payload);
- click a matrix cell: select its key token; click a thumbnail: select that window;
- a token hovered elsewhere outlines its query row and key column when it is in the window.
"""

from __future__ import annotations

import numpy as np

from ...i18n import tr
from ...render import figure as F
from ...render.common import selected_window
from ...render.mask import CMAP, LEVELS, block_masks, mosaic, mosaic_cached
from ...render.selection import Selection, view_shift
from ..figure_plot import is_precolored, precolor
from ..state import Hover, Pending
from .base import Panel

MOSAIC_BACKGROUND_BYTES = 4 * 2**20  # a bigger mosaic is built and coloured off-thread (~30 ms)


class MaskPanel(Panel):
    """Mask matrix + mosaic of every window's mask (`view_name` "mask")."""

    view_name = "mask"
    watches = ("stage", "block", "token", "window", "shift_view")

    def tooltip_text(self) -> str:
        return tr(
            "Mask",
            "The additive mask of one window: −100 where query and key come from different shift "
            "regions (the softmax then gives them ≈0 weight), 0 elsewhere; one mask for all heads; "
            "padding tokens are not what it masks. Click a thumbnail to select its window.",
        )

    def depends_on(self, new: Selection, old: Selection) -> bool:
        """Only a change of block, shift view or the window shown redraws: moving the
        token inside its window does not."""
        if not super().depends_on(new, old):
            return False
        trace = self.session.trace
        if trace is None or (new.stage, new.block, new.shift_view) != (
            old.stage,
            old.block,
            old.shift_view,
        ):
            return True
        block = trace.block(new.stage, new.block)
        shift = view_shift(block, new)
        return selected_window(block, new, shift) != selected_window(block, old, shift)

    def background_work(self, trace, selection: Selection) -> Pending | None:
        """A big block's masks (nW, N, N), their mosaic and its colouring are made off the
        GUI thread (at 1536² they took 0.1–0.3 s on it, for every block shown)."""
        block = trace.block(selection.stage, selection.block)
        shift = view_shift(block, selection)
        nWh, nWw = block.window_grid
        if nWh * nWw * block.tokens_per_window**2 * 4 < MOSAIC_BACKGROUND_BYTES:
            return None
        if mosaic_cached(trace, block, shift) and is_precolored(
            mosaic(trace, block, shift).data, CMAP, LEVELS
        ):
            return None

        def work():
            block_masks(block, shift)  # the block's own mask, on demand
            precolor(mosaic(trace, block, shift).data, CMAP, LEVELS)

        s, b = selection.stage, selection.block
        text = tr("Mask", "computing the masks… (stage {s} · block {b})", s=s, b=b)
        return Pending(("mask", id(trace), s, b, shift), work, text, "mask")

    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        if hit.kind == "window":
            w = hit.region.payload["select"]["window"]
            return tr("Mask", "window {w}: click to select it", w=w)
        return super().describe_tokens(hit, tokens)

    def hover_rects(self, hover: Hover) -> list[tuple[str, float, float, float, float]]:
        """Tokens hovered elsewhere: their query row and key column in the matrix."""
        out = super().hover_rects(hover)
        if self.figure is None or hover.stage != self.session.selection.stage:
            return out
        region = self.figure.plot("matrix").hits[0]
        keys = np.asarray(region.payload["keys"])
        n = len(keys)
        for r, c in hover.tokens:
            for k in np.flatnonzero((keys[:, 0] == r) & (keys[:, 1] == c)):
                out += [
                    ("matrix", 0.0, float(k), float(n), 1.0),
                    ("matrix", float(k), 0.0, 1.0, float(n)),
                ]
        return out
