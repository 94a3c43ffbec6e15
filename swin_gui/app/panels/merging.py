"""The Patch merging panel: how the 2×2 neighbours of stage s-1 become one token of stage s
around the selected token, with the channel (C → 4C → 2C) and resolution change
(`render.merging.figure_merging`); for stage 0 it shows the patch embedding instead.

Mouse: a click on the image crop selects the stage-s token under it (generic payload
handling); hovering a vector reads its activation, the neighbour and the channel.
"""

from __future__ import annotations

from ...i18n import tr
from ...render import figure as F
from .base import Panel


class MergingPanel(Panel):
    """Patch merging into the current stage (`view_name` "merging")."""

    view_name = "merging"
    watches = ("stage", "token", "step")

    def tooltip_text(self) -> str:
        return tr(
            "Merging",
            "Patch merging concatenates each 2×2 group of neighbouring tokens (4C channels), "
            "then LayerNorm + Linear (v1; v2: Linear, then LayerNorm) give 2C: half the "
            "resolution, twice the channels.",
        )

    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        pay = hit.region.payload
        if hit.kind == "vector" and "segment" in pay:
            j = hit.cell[1]
            k, channel = divmod(j, pay["segment"])
            name = pay["names"][min(k, len(pay["names"]) - 1)]
            return tr("Merging", "{name} · channel {channel}", name=name, channel=channel)
        return super().describe_tokens(hit, tokens)
