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

from ...analysis.attention import default_token
from ...i18n import tr
from ...render import figure as F
from ...render.selection import Selection
from ..state import BACKGROUND_BYTES, Pending, attention_bytes
from .base import Panel

BACKGROUND_MACS = 3 * 10**8  # a block's attention costing more multiply-adds: off-thread
ROW_BACKGROUND_MACS = 3 * 10**7  # the same for a row of windows (a token change may need one)


def window_work(trace, stage: int, block: int, row: int | None) -> tuple[int, int]:
    """(bytes, multiply-adds) of what showing one window's attention computes when it is
    not held: the whole block (`row` None), else one row of windows
    (`BlockTrace.window_attention`). The multiply-adds are q, k, v for every padded token
    (3·C² each) and its N scores (N·C); Swin-T's stage 3 at 1536² is ~4·10⁹ for the whole
    block (0.2 s on the GUI thread although its 11 MB of attention are small)."""
    bt = trace.block(stage, block)
    Hp, Wp = bt.padded
    C = trace.stages[stage].dim
    nbytes, tokens = attention_bytes(trace, stage, block), Hp * Wp
    if row is not None:
        rows = bt.window_grid[0]
        nbytes, tokens = nbytes // rows, tokens // rows
    return nbytes, tokens * (3 * C * C + bt.tokens_per_window * C)


class AttentionPanel(Panel):
    """Per-head attention (`view_name` "attention")."""

    view_name = "attention"
    watches = ("stage", "block", "head", "token", "colormap", "shift_view")
    prefetch = True  # a block visited before (its attention held) is built while idle

    def tooltip_text(self) -> str:
        return tr(
            "Attention",
            "Where the selected token looks: its softmax attention over its window for every head "
            "and the mean (each tile is the window, keys in window layout, the image underneath), "
            "the window's N×N attention matrix and the attention on the image. Click a tile to "
            "select its head and key; click a matrix cell to follow the attention to its key.",
        )

    def background_work(self, trace, selection: Selection) -> Pending | None:
        """The selected window's attention, when it is costly to compute (a big block's
        row of windows, or a small block with wide channels), off the GUI thread. A small
        block is computed whole, once (one job whatever the token); a huge one a row of
        windows at a time, each row its own job."""
        s, b = selection.stage, selection.block
        bt = trace.block(s, b)
        token = default_token(bt) if selection.token is None else selection.token
        window = bt.locate(*token)[0]
        if bt.window_computed(window):  # held, or an eager trace (then no source)
            return None
        row = bt.source.window_row(bt, window)
        nbytes, macs = window_work(trace, s, b, row)
        if nbytes < BACKGROUND_BYTES and macs < (
            BACKGROUND_MACS if row is None else ROW_BACKGROUND_MACS
        ):
            return None
        text = tr("Main", "computing attention… (stage {s} · block {b})", s=s, b=b)
        key = ("attn", id(trace), s, b, row)
        return Pending(key, lambda: bt.window_attention(window), text, "attention")

    def can_prepare(self, trace, selection: Selection) -> bool:
        """Only a window whose attention is held: idle time computes nothing ahead (it
        would also push the block shown out of the attention cache)."""
        bt = trace.block(selection.stage, selection.block)
        token = default_token(bt) if selection.token is None else selection.token
        return bt.window_computed(bt.locate(*token)[0])

    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        if hit.kind == "key" and not tokens:
            return tr("Attention", "padding key (not on the image)")
        return super().describe_tokens(hit, tokens)
