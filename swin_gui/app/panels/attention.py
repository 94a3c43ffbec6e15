"""The Attention panel: per-head attention of the selected token over its window (one tile
per head plus the mean), the window's N x N matrix and the attention on the image
(`render.attention.figure_attention`).

Everything goes through the figure's hit regions (`Panel` base):
- click a tile: select that head (the mean tile: head None) and the key token under the
  cursor (a padding key selects the head only);
- click a matrix cell (i, j): follow the attention to key token j;
- click the "on the image" plot: select that token;
- hover: the probability under the cursor with query and key (matrix) or the token (tiles),
  highlighted on every panel; tokens hovered elsewhere are outlined in every tile.
"""

from __future__ import annotations

from ...i18n import tr
from ...render import figure as F
from ...render.selection import Selection
from ..state import BACKGROUND_BYTES, Pending, attention_bytes
from .base import Panel

BACKGROUND_MACS = 3 * 10**8  # attention costing more multiply-adds is computed off-thread


def attention_macs(trace, stage: int, block: int) -> int:
    """About what a block's on-demand attention costs: q, k, v for every (padded) token
    (3·C² each) and its N scores (N·C): Swin-T's stage 3 at 1536² is ~4·10⁹ (0.2 s on
    the GUI thread although its 11 MB of attention are under `BACKGROUND_BYTES`)."""
    bt = trace.block(stage, block)
    Hp, Wp = bt.padded
    C = trace.stages[stage].dim
    return Hp * Wp * (3 * C * C + bt.tokens_per_window * C)


class AttentionPanel(Panel):
    """Per-head attention (`view_name` "attention")."""

    view_name = "attention"
    watches = ("stage", "block", "head", "token", "colormap", "shift_view")

    def tooltip_text(self) -> str:
        return tr(
            "Attention",
            "Where the selected token looks: its softmax attention over its window for every head "
            "and the mean (each tile is the window, keys in window layout, the image underneath), "
            "the window's N×N attention matrix and the attention on the image. Click a tile to "
            "select its head and key; click a matrix cell to follow the attention to its key.",
        )

    def background_work(self, trace, selection: Selection) -> Pending | None:
        """A big or costly block's attention (and mask) is computed off the GUI thread."""
        s, b = selection.stage, selection.block
        bt = trace.block(s, b)
        if bt.computed("attn") or (
            attention_bytes(trace, s, b) < BACKGROUND_BYTES
            and attention_macs(trace, s, b) < BACKGROUND_MACS
        ):
            return None
        text = tr("Main", "computing attention… (stage {s} · block {b})", s=s, b=b)
        return Pending(("attn", id(trace), s, b), lambda: (bt.attn, bt.mask), text, "attention")

    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        if hit.kind == "key" and not tokens:
            return tr("Attention", "padding key (not on the image)")
        return super().describe_tokens(hit, tokens)
