"""The Bias panel: the relative position bias of the selected block, one (2M−1)² table per
head plus the mean, its N×N expansion and (v2) the logit scale per head (`figure_bias`).

Mouse, all written to the session:
- click a head's table: select that head (the mean table selects None); click a τ bar: its
  head;
- click an expansion cell (i, j): select the window's key token j (generic `keys` payload);
- hover a table cell (Δrow, Δcol): the status bar reads "bias logit 0.12 · offset …" and
  the selected token and the key at that offset from it are outlined in other panels;
  hover an expansion cell: its query and key tokens.
"""

from __future__ import annotations

from ...analysis.attention import default_token
from ...i18n import tr
from ...render import figure as F
from .base import Panel


class BiasPanel(Panel):
    """Relative position bias (`view_name` "bias")."""

    view_name = "bias"
    watches = ("stage", "block", "head", "token", "colormap")

    def tooltip_text(self) -> str:
        return tr(
            "Bias",
            "Relative position bias: what each head adds to the logit of a key at offset "
            "(Δrow, Δcol) from the query, learned per offset (v1) or by a small MLP (v2). "
            "Click a head's table to select the head; click an N×N cell to jump to its key token.",
        )

    def __init__(self, session, parent=None) -> None:
        super().__init__(session, parent)
        self.refresh()

    def _offset(self, hit: F.Hit) -> tuple[int, int]:
        """(Δrow, Δcol) of a table cell."""
        m1 = hit.region.payload["offset"]
        return hit.cell[0] - m1, hit.cell[1] - m1

    def _query(self) -> tuple[int, int]:
        block = self.session.current_block()
        token = self.session.selection.token
        return tuple(token) if token is not None else default_token(block)

    def hit_tokens(self, hit: F.Hit) -> tuple[tuple[int, int], ...]:
        if hit.kind == "tau":
            return ()
        if hit.kind != "table":
            return super().hit_tokens(hit)
        (r, c), (dy, dx) = self._query(), self._offset(hit)
        key = (r - dy, c - dx)  # offset = query − key
        H, W = self.session.current_block().resolution
        return ((r, c), key) if 0 <= key[0] < H and 0 <= key[1] < W else ((r, c),)

    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        if hit.kind != "table":
            return "" if hit.kind == "tau" else super().describe_tokens(hit, tokens)
        dy, dx = (str(v).replace("-", "−") for v in self._offset(hit))
        text = tr("Bias", "offset (Δrow, Δcol) = ({dy}, {dx})", dy=dy, dx=dx)
        if len(tokens) == 2:
            (a, b), (c, d) = tokens
            text += " · " + tr("Panel", "query ({a}, {b}) → key ({c}, {d})", a=a, b=b, c=c, d=d)
        return text

    def on_hit_clicked(self, hit: F.Hit | None) -> None:
        if hit is not None and hit.kind == "table":
            self.session.select(**hit.region.payload["select"])
        elif hit is not None and hit.kind == "tau":
            self.session.select(head=hit.cell[1])
        else:
            super().on_hit_clicked(hit)
