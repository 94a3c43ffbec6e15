"""The Block internals panel: residual-stream and branch norms over every block, the
current block's wiring (v1 pre-norm / v2 res-post-norm, from the loaded model) with its
measured norms, and its per-token output norm (`render.internals.figure_internals`).

Mouse: click a block's column in the chart to select that block (hovering it names the
block and its ‖x_out‖); the per-token heatmap hovers and selects tokens like every grid.
"""

from __future__ import annotations

import weakref

from ...analysis.internals import block_norms
from ...i18n import tr
from ...render import figure as F
from ...render.selection import Selection
from ..state import BACKGROUND_BYTES, Pending
from .base import Panel

# id -> trace whose block norms are computed (a Trace is not hashable)
_NORMS_DONE: dict[int, weakref.ref] = {}


class InternalsPanel(Panel):
    """Block internals (`view_name` "internals")."""

    view_name = "internals"
    watches = ("stage", "block", "token", "colormap")

    def tooltip_text(self) -> str:
        return tr(
            "Internals",
            "How big the residual stream is at each block and how much the attention and MLP "
            "branches add. Swin v1 is pre-norm (x + W-MSA(LN1(x))), v2 res-post-norm "
            "(x + LN1(W-MSA(x))); LayerNorm normalises each token over its channels. "
            "Click a block's column in the chart to select that block.",
        )

    def __init__(self, session, parent=None) -> None:
        super().__init__(session, parent)
        self.refresh()

    def background_work(self, trace, selection: Selection) -> Pending | None:
        """A big image's norms (every block's `mid`, on demand) are computed off-thread."""
        done = _NORMS_DONE.get(id(trace))
        if done is not None and done() is trace:
            return None
        H, W = trace.stages[0].resolution
        if H * W * trace.config.embed_dim * 4 * sum(trace.config.depths) < BACKGROUND_BYTES:
            return None

        def work():
            block_norms(trace)  # cached per trace
            _NORMS_DONE[id(trace)] = weakref.ref(trace)

        text = tr("Main", "computing every block's norms…")
        return Pending(("norms", id(trace)), work, text, "internals")

    def _block(self, hit: F.Hit) -> tuple[int, int]:
        return hit.region.payload["blocks"][hit.cell[1]]

    def hit_tokens(self, hit: F.Hit) -> tuple[tuple[int, int], ...]:
        return () if hit.kind == "blocks" else super().hit_tokens(hit)

    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        if hit.kind == "blocks":
            stage, block = self._block(hit)
            return tr(
                "Internals", "block {stage}.{block} (click to select)", stage=stage, block=block
            )
        return super().describe_tokens(hit, tokens)

    def on_hit_clicked(self, hit: F.Hit | None) -> None:
        if hit is not None and hit.kind == "blocks":
            stage, block = self._block(hit)
            self.session.select(stage=stage, block=block, step="block")
        else:
            super().on_hit_clicked(hit)
