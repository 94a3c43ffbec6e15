"""What the user is looking at (a frozen `Selection`) and what a view draws (a `Picture`).

Every view is a pure function `render_<view>(trace, selection) -> Picture`, shared by the
Qt panels (which show `picture.rgb`) and the headless `swin-gui snapshot` command, so an
exported PNG is exactly the picture on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


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


@dataclass(frozen=True)
class Picture:
    """A rendered view: the RGB image plus the raw array it shows (for NPY export).

    `scale` is pixels of `rgb` per unit of the view's natural grid (e.g. image pixels or
    matrix cells) so panels can map mouse positions back; `levels`/`units`/`colormap`
    describe the colour bar; `notes` are one-line captions shown under the picture.
    """

    rgb: np.ndarray  # H, W, 3 uint8
    data: np.ndarray  # the numbers behind the picture
    title: str = ""
    units: str = ""
    levels: tuple[float, float] | None = None
    colormap: str | None = None
    scale: float = 1.0
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        assert self.rgb.dtype == np.uint8 and self.rgb.ndim == 3 and self.rgb.shape[2] == 3


def view_shift(block, selection: Selection) -> int:
    """The shift to draw for `block`: as computed, or forced by the shift toggle.

    Forcing the shift on still obeys the rule that a window covering the whole grid
    has no shift."""
    if selection.shift_view is None:
        return block.shift
    if not selection.shift_view or min(block.resolution) <= block.window:
        return 0
    return block.window // 2
