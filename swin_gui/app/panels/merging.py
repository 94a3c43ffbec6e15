"""The Patch merging panel: how the 2×2 neighbours of stage s-1 become one token of stage s
around the selected token, with the channel (C → 4C → 2C) and resolution change
(`render.merging.render_merging`); for stage 0 it shows the patch embedding instead.

Mouse: click the image crop to select the stage-s token under the mouse.
"""

from __future__ import annotations

from ...render.merging import merging_hit, render_merging
from ...render.selection import Picture, Selection
from .base import Panel

TOOLTIP = (
    "Patch merging concatenates each 2×2 group of neighbouring tokens (4C channels), "
    "then LayerNorm + Linear (v1; v2: Linear, then LayerNorm) give 2C: half the "
    "resolution, twice the channels."
)


class MergingPanel(Panel):
    """Patch merging into the current stage (`view_name` "merging")."""

    title = "Patch merging"
    view_name = "merging"
    watches = ("stage", "token", "colormap")
    tooltip = TOOLTIP
    canvas_tooltip = "Click a token in the image crop to select it."

    def render(self, trace, selection: Selection) -> Picture:
        return render_merging(trace, selection)

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        trace = self.session.trace
        token = None if trace is None else merging_hit(trace, self.session.selection, x, y)
        if token is not None:
            self.session.select(token=token)
