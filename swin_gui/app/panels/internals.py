"""The Block internals panel: residual-stream and branch norms over every block, the
current block's wiring (v1 pre-norm / v2 res-post-norm, from the loaded model) with its
measured norms, and its per-token output norm (`render.internals.render_internals`).
The chart is shown as the rendered picture, identical to the export.

Mouse: click a block's column in the chart to select that block.
"""

from __future__ import annotations

from ...render.internals import internals_hit, render_internals
from ...render.selection import Picture, Selection
from .base import Panel

TOOLTIP = (
    "How big the residual stream is at each block and how much the attention and MLP "
    "branches add. Swin v1 is pre-norm (x + W-MSA(LN1(x))), v2 res-post-norm "
    "(x + LN1(W-MSA(x))); LayerNorm normalises each token over its channels."
)


class InternalsPanel(Panel):
    """Block internals (`view_name` "internals")."""

    title = "Block internals"
    view_name = "internals"
    watches = ("stage", "block", "token", "colormap")
    tooltip = TOOLTIP
    canvas_tooltip = "Click a block's column in the chart to select that block."

    def render(self, trace, selection: Selection) -> Picture:
        return render_internals(trace, selection)

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        trace = self.session.trace
        hit = None if trace is None else internals_hit(trace, x, y)
        if hit is not None:
            self.session.select(stage=hit[0], block=hit[1], step="block")
