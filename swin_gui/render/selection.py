"""What the user is looking at: the frozen `Selection` every view takes.

Every view is a pure function `figure_<view>(trace, selection) -> Figure` (render/figure.py,
listed in render/registry.py), shared by the Qt panels and the headless `swin-gui snapshot`,
so an exported file is the figure on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Selection:
    """The single selection that drives every view.

    Args:
        step: the navigator step: "embed" | "block" | "merge" (into `stage`) | "norm" | "head".
        stage, block: the current Swin block (0-based; block counts within the stage).
        head: attention head, or None for the mean over heads.
        token: (row, col) on the current stage's token grid, or None.
        window: selected window index on the block's (rolled, padded) grid.
        shift_view: draw the shifted (True) or regular (False) partition; None = as the
            block computed it.
        feature_mode: pyramid mode, "channel" | "norm" | "pca".
        channel: channel index for feature_mode "channel" (None = top channel by energy).
        colormap: colormap name for heatmaps.
    """

    step: str = "block"
    stage: int = 0
    block: int = 0
    head: int | None = None
    token: tuple[int, int] | None = None
    window: int = 0
    shift_view: bool | None = None
    feature_mode: str = "norm"
    channel: int | None = None
    colormap: str = "viridis"

    def with_(self, **changes) -> Selection:
        return replace(self, **changes)


def view_shift(block, selection: Selection) -> int:
    """The shift to draw for `block`: as computed, or forced by the shift toggle.

    Forcing the shift on still obeys the rule that a window covering the whole grid
    has no shift."""
    if selection.shift_view is None:
        return block.shift
    if not selection.shift_view or min(block.resolution) <= block.window:
        return 0
    return block.window // 2
