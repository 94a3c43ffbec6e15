"""Helpers several views share (numpy only): the region palette, what attention a view
shows and why a block has no shift, and window geometry after the cyclic roll in the
image's own (un-rolled) coordinates.
"""

from __future__ import annotations

import numpy as np

from ..analysis.regions import shift_region_labels
from ..i18n import tr
from ..trace import BlockTrace, Trace
from . import figure as F
from .selection import Selection

# Nine distinct region colours (Tableau 10 minus grey), shared by the grid, shift and mask.
REGION_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
)


def crosshair(token: tuple[int, int], tp: float) -> F.Lines:
    """A cross on the centre of a stage token (`tp` input pixels a token), in the
    selection colour with a dark halo, so it reads on any picture."""
    cy, cx = (token[0] + 0.5) * tp, (token[1] + 0.5) * tp
    arm = max(tp, 6.0)
    seg = [((cx - arm, cy), (cx + arm, cy)), ((cx, cy - arm), (cx, cy + arm))]
    return F.Lines(np.asarray(seg, np.float32), "selected", 1.5, halo="#000000")


def mode_label(trace: Trace, block: BlockTrace, shift: int) -> str:
    """Which attention the view shows: W-MSA, SW-MSA, or why an SW-MSA block has no shift."""
    M = trace.config.window_size
    H, W = block.resolution
    if shift > 0:
        return "SW-MSA" if block.shift > 0 else tr("Common", "W-MSA block, shift forced on")
    if block.nominal_shift == 0:
        return "W-MSA"
    if block.shift == 0:
        return tr("Common", "SW-MSA, shift off: grid {H}×{W} ≤ M={M}", H=H, W=W, M=M)
    return tr("Common", "SW-MSA, shift toggled off")


def no_shift_reason(trace: Trace, block: BlockTrace, shift: int) -> str | None:
    """A one-line reason when the view has no shift (None when it has one)."""
    if shift > 0:
        return None
    if block.nominal_shift == 0:
        return tr("Common", "no shift: W-MSA")
    H, W = block.resolution
    if block.shift == 0:
        return tr("Common", "shift off: grid {H}×{W} ≤ M={M}", H=H, W=W, M=trace.config.window_size)
    return tr("Common", "shift toggled off (S): regular W-MSA windows")


def original_regions(block: BlockTrace, shift: int) -> np.ndarray:
    """(Hp, Wp) shift-region label of each token at its ORIGINAL (un-rolled) position:
    label(r, c) = regions[(r - s) % Hp, (c - s) % Wp]."""
    Hp, Wp = block.padded
    rolled = shift_region_labels(Hp, Wp, block.window, shift)
    return np.roll(rolled, (shift, shift), axis=(0, 1))


def ring_spans(start: int, length: int, total: int) -> list[tuple[int, int]]:
    """[start, start+length) on a ring of `total`, split where it wraps."""
    end = start + length
    return [(start, end)] if end <= total else [(start, total), (0, end - total)]


def window_pieces(block: BlockTrace, window: int, shift: int) -> list[tuple[int, int, int, int]]:
    """(r0, c0, r1, c1) token rectangles covered by a window in ORIGINAL coordinates:
    one piece, or up to four when the rolled window wraps around the border."""
    Hp, Wp = block.padded
    M = block.window
    wr, wc = divmod(window, Wp // M)
    rows = ring_spans(wr * M + shift, M, Hp)
    cols = ring_spans(wc * M + shift, M, Wp)
    return [(r0, c0, r1, c1) for r0, r1 in rows for c0, c1 in cols]


def selected_window(block: BlockTrace, sel: Selection, shift: int) -> int:
    """The window to outline: the selected token's, else the selected index (clamped)."""
    if sel.token is not None:
        H, W = block.resolution
        r, c = min(sel.token[0], H - 1), min(sel.token[1], W - 1)
        return block.locate(r, c, shift=shift)[0]
    return block.clamp_window(sel.window)


def region_boxes(labels: np.ndarray) -> dict[int, tuple[int, int, int, int]]:
    """Bounding box (r0, c0, r1, c1) of each label present in a grid."""
    boxes = {}
    for k in np.unique(labels):
        rows = np.flatnonzero((labels == k).any(axis=1))
        cols = np.flatnonzero((labels == k).any(axis=0))
        boxes[int(k)] = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    return boxes


def finite_levels(a: np.ndarray, lo: float | None = None) -> tuple[float, float]:
    """(min, max) over the finite values (lo fixes the bottom); (0, 1) when there are none;
    never an empty range."""
    f = np.asarray(a)[np.isfinite(a)]
    if not f.size:
        return (0.0, 1.0)
    a0 = float(f.min()) if lo is None else lo
    a1 = float(f.max())
    return (a0, a1 if a1 > a0 else a0 + 1.0)
