"""The attention-mask view: the N x N additive shift mask of the selected window (0 =
attend, -100 = masked because query and key came from different shift regions), drawn
cell by cell with masked cells dark and crossed, plus thumbnails of every window's mask.

An unshifted block (W-MSA, or the shift rule switched off) has no mask: the view draws an
all-zero matrix and says so. `mask_layout` gives panels the geometry to map pixels back.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..model.geometry import MASK_VALUE, shift_mask
from ..trace import BlockTrace, Trace
from .cache import TraceCache
from .draw import FOREGROUND, canvas, draw_rect, upscale
from .grid import SELECTED, mode_label
from .selection import Picture, Selection, view_shift
from .text import Label, draw_labels, text_strip

MARGIN, AXIS_LEFT, HEADER, AXIS_TOP, LEGEND, CAPTION, GAP = 8, 44, 24, 34, 30, 22, 6
ATTEND: tuple[int, int, int] = (226, 230, 236)
ATTEND_EDGE: tuple[int, int, int] = (196, 201, 210)
MASKED: tuple[int, int, int] = (52, 22, 30)
MASKED_CROSS: tuple[int, int, int] = (230, 80, 80)
GROUP_LINE: tuple[int, int, int] = (60, 110, 200)
MIN_CELL = 6


@dataclass(frozen=True)
class MaskLayout:
    """Where the matrix, the legend swatches and each thumbnail lie (picture pixels)."""

    cell: int  # pixels per matrix cell
    tokens: int  # N = M * M
    window: int  # M
    matrix: tuple[int, int]  # (x, y) of cell (0, 0)
    swatches: tuple[tuple[int, int], tuple[int, int]]  # (x, y) of the "attend"/"masked" swatch
    thumbs: tuple[int, int]  # (x, y) of the first thumbnail
    thumb: int  # thumbnail side in pixels
    grid: tuple[int, int]  # windows per column, per row (nWh, nWw)
    size: tuple[int, int]  # picture height, width

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(query i, key j) of the matrix cell under a pixel, or None."""
        i, j = int((y - self.matrix[1]) // self.cell), int((x - self.matrix[0]) // self.cell)
        if y >= self.matrix[1] and x >= self.matrix[0] and i < self.tokens and j < self.tokens:
            return i, j
        return None

    def cell_rect(self, i: int, j: int) -> tuple[int, int, int, int]:
        return self.matrix[0] + j * self.cell, self.matrix[1] + i * self.cell, self.cell, self.cell

    def thumb_rect(self, w: int) -> tuple[int, int, int, int]:
        wr, wc = divmod(w, self.grid[1])
        pitch = self.thumb + GAP
        return self.thumbs[0] + wc * pitch, self.thumbs[1] + wr * pitch, self.thumb, self.thumb

    def thumb_at(self, x: float, y: float) -> int | None:
        """Window index of the thumbnail under a pixel (gaps included), or None."""
        pitch = self.thumb + GAP
        wr, wc = int((y - self.thumbs[1]) // pitch), int((x - self.thumbs[0]) // pitch)
        if y >= self.thumbs[1] and x >= self.thumbs[0] and wr < self.grid[0] and wc < self.grid[1]:
            return wr * self.grid[1] + wc
        return None


def swatch_side(cell: int) -> int:
    """Legend swatch side: 2 x 2 cells of the matrix's own pattern, or one big cell."""
    return 2 * cell if cell <= 12 else cell


def mask_layout(trace: Trace, sel: Selection) -> MaskLayout:
    block = trace.block(sel.stage, sel.block)
    N, M = block.tokens_per_window, block.window
    nWh, nWw = block.window_grid
    cell = int(np.clip(round(392 / N), MIN_CELL, 40))
    x0, y0 = MARGIN + AXIS_LEFT, MARGIN + HEADER + AXIS_TOP
    side = N * cell
    legend_y = y0 + side + 10
    thumb = _thumb_side(N, nWw, max(side + AXIS_LEFT, 420))
    thumbs = (x0, legend_y + max(LEGEND, swatch_side(cell) + 10) + CAPTION)
    height = thumbs[1] + nWh * (thumb + GAP) + MARGIN
    width = max(x0 + side + 150, thumbs[0] + nWw * (thumb + GAP), 600) + MARGIN
    swatches = ((x0, legend_y), (x0 + 170, legend_y))
    return MaskLayout(cell, N, M, (x0, y0), swatches, thumbs, thumb, (nWh, nWw), (height, width))


def _thumb_side(N: int, per_row: int, avail: int) -> int:
    """An integer number of pixels per mask cell when it fits (no aliasing), else smaller."""
    k = (avail - (per_row - 1) * GAP) // (per_row * N)
    if k >= 1:
        return int(max(min(k, 2) * N, 24))
    if per_row * (N + GAP) <= 760:
        return N
    return max(8, (760 - (per_row - 1) * GAP) // per_row)


# ---- the mask itself -------------------------------------------------------------------------
def block_masks(block: BlockTrace, shift: int) -> np.ndarray:
    """(nW, N, N) additive mask of every window for the viewed shift (zeros when s = 0).

    The block's own mask when the view shift is the one it computed with; the shift mask
    the toggle would add otherwise."""
    nWh, nWw = block.window_grid
    N = block.tokens_per_window
    if shift == 0:
        return np.zeros((nWh * nWw, N, N), np.float32)
    if shift == block.shift and block.mask is not None:
        return block.mask
    return _forced_mask(*block.padded, block.window, shift)


@lru_cache(maxsize=16)
def _forced_mask(Hp: int, Wp: int, M: int, s: int) -> np.ndarray:
    return shift_mask(Hp, Wp, M, s).numpy()  # nW, N, N


@lru_cache(maxsize=8)
def cell_pattern(masked: bool, cell: int) -> np.ndarray:
    """(cell, cell, 3) pixels of one matrix cell: light for 0, dark with ╳ for -100.
    The legend uses the same pattern, so a cell can be compared with its swatch."""
    tile = np.empty((cell, cell, 3), np.uint8)
    tile[:] = MASKED if masked else ATTEND
    if masked:
        d = np.arange(1, cell - 1)
        tile[d, d] = MASKED_CROSS
        tile[d, cell - 1 - d] = MASKED_CROSS
    else:
        tile[-1, :] = ATTEND_EDGE
        tile[:, -1] = ATTEND_EDGE
    return tile


@lru_cache(maxsize=8)
def _tiled(masked: bool, cell: int, n: int) -> np.ndarray:
    return np.tile(cell_pattern(masked, cell), (n, n, 1))  # n*cell, n*cell, 3


def matrix_rgb(mask: np.ndarray, cell: int, M: int) -> np.ndarray:
    """The (N*cell)^2 picture of one window's mask, with a line every M cells."""
    N = mask.shape[0]
    where = upscale(mask < MASK_VALUE / 2, cell)[..., None]  # N*cell, N*cell, 1
    rgb = np.where(where, _tiled(True, cell, N), _tiled(False, cell, N))
    for k in range(M, N, M):
        rgb[k * cell] = GROUP_LINE
        rgb[:, k * cell] = GROUP_LINE
    return rgb


def _thumbnail(mask: np.ndarray, side: int) -> np.ndarray:
    idx = np.arange(side) * mask.shape[0] // side
    small = mask[np.ix_(idx, idx)] < MASK_VALUE / 2  # side, side
    out = np.empty((side, side, 3), np.uint8)
    out[:] = ATTEND
    out[small] = MASKED
    return out


# ---- the static frame: axes, legend, thumbnails (cached per trace/block/shift) ------------------
_FRAME_CACHE = TraceCache(traces=2, entries=16)


def _frame_labels(lay: MaskLayout, nW: int) -> list[Label]:
    x0, y0 = lay.matrix
    side, M = lay.tokens * lay.cell, lay.window
    out: list[Label] = [
        ((x0, y0 - AXIS_TOP), "key token j (in the window) →", FOREGROUND, 12, None)
    ]
    for k in range(0, lay.tokens, M):
        c = k * lay.cell + lay.cell // 2
        out.append(((x0 + c - 4, y0 - 16), str(k), FOREGROUND, 10, None))
        out.append(((x0 - 24, y0 + c - 6), f"{k:>3}", FOREGROUND, 10, None))
    (ax, ay), (mx, my) = lay.swatches
    side_w = swatch_side(lay.cell)
    out.append(((ax + side_w + 8, ay + 2), "0 = attend", FOREGROUND, 12, None))
    out.append(((mx + side_w + 8, my + 2), "−100 = masked (different shift regions)",
                FOREGROUND, 12, None))  # fmt: skip
    cap = "the only window" if nW == 1 else f"all {nW} windows, row-major as in the image"
    cap += " (click to select)" if nW > 1 else ""
    out.append(((lay.thumbs[0], lay.thumbs[1] - CAPTION + 2), cap, FOREGROUND, 12, None))
    out.append(((x0 + side + 10, y0), f"blue lines every M={M}", GROUP_LINE, 11, None))
    out.append(((x0 + side + 10, y0 + 14), "cells: one window row", GROUP_LINE, 11, None))
    return out


def _frame(trace: Trace, sel: Selection, lay: MaskLayout, shift: int) -> np.ndarray:
    return _FRAME_CACHE.get(
        trace, (sel.stage, sel.block, shift), lambda: _make_frame(trace, sel, lay, shift)
    )


def _make_frame(trace: Trace, sel: Selection, lay: MaskLayout, shift: int) -> np.ndarray:
    masks = block_masks(trace.block(sel.stage, sel.block), shift)
    rgb = canvas(*lay.size)
    for w, m in enumerate(masks):
        x, y, t, _ = lay.thumb_rect(w)
        rgb[y : y + t, x : x + t] = _thumbnail(m, t)
    for (x, y), masked in zip(lay.swatches, (False, True), strict=True):
        n = swatch_side(lay.cell) // lay.cell
        rgb[y : y + n * lay.cell, x : x + n * lay.cell] = _tiled(masked, lay.cell, n)
    rot = np.rot90(text_strip("query token i (in the window) →", 12), -1)  # reads downwards
    h = min(rot.shape[0], lay.tokens * lay.cell)
    rgb[lay.matrix[1] : lay.matrix[1] + h, MARGIN : MARGIN + rot.shape[1]] = rot[:h]
    return draw_labels(rgb, _frame_labels(lay, len(masks)))


# ---- the view -----------------------------------------------------------------------------------
def render_mask(trace: Trace, sel: Selection) -> Picture:
    """The selected window's N x N additive mask, its legend, and every window's mask."""
    block = trace.block(sel.stage, sel.block)
    shift = view_shift(block, sel)
    lay = mask_layout(trace, sel)
    nW = lay.grid[0] * lay.grid[1]
    w = max(0, min(nW - 1, sel.window))
    mask = np.asarray(block_masks(block, shift)[w], np.float32)  # N, N
    rgb = _frame(trace, sel, lay, shift).copy()
    x0, y0 = lay.matrix
    side = lay.tokens * lay.cell
    rgb[y0 : y0 + side, x0 : x0 + side] = matrix_rgb(mask, lay.cell, lay.window)
    x, y, t, _ = lay.thumb_rect(w)
    draw_rect(rgb, x - 3, y - 3, t + 6, t + 6, SELECTED, width=2)
    header = _header(trace, block, shift, w, mask)
    strip = draw_labels(rgb[MARGIN : MARGIN + HEADER].copy(), [header])
    rgb[MARGIN : MARGIN + HEADER] = strip
    return Picture(
        rgb=rgb,
        data=mask,
        title=f"Attention mask · stage {block.stage} · block {block.index} · "
        f"{mode_label(trace, block, shift)} · window {w} of {nW} · M={block.window} · s={shift}",
        units="additive logit (0 or −100)",
        scale=float(lay.cell),
        notes=_notes(block, shift, w, mask),
    )


def _header(trace: Trace, block: BlockTrace, shift: int, w: int, mask: np.ndarray) -> Label:
    if shift == 0:
        if block.nominal_shift == 0:
            text = "W-MSA: no mask, every token in the window attends to every other"
        elif block.shift == 0:
            H, W = block.resolution
            M = trace.config.window_size
            text = f"shift off ({H}×{W} ≤ M={M}): no mask, every token attends to every other"
        else:
            text = "shift toggled off: no mask, every token attends to every other"
        return (AXIS_LEFT, 2), text, (255, 214, 0), 13, None
    n = int((mask < MASK_VALUE / 2).sum())
    text = f"window {w}: {n} of {mask.size} query/key pairs masked (−100 before softmax)"
    if n == 0:
        text = f"window {w} lies inside one shift region: nothing masked"
    return (AXIS_LEFT, 2), text, FOREGROUND, 13, None


def _notes(block: BlockTrace, shift: int, w: int, mask: np.ndarray) -> tuple[str, ...]:
    H, W = block.resolution
    tokens = block.window_tokens(w, shift)
    padding = int(((tokens[:, 0] >= H) | (tokens[:, 1] >= W)).sum())
    notes = ["one mask per window, shared by every head; added to q·kᵀ·scale + bias"]
    if shift == 0:
        notes.insert(0, "no mask: the partition is not shifted, so no window mixes regions")
    elif not (n := int((mask < MASK_VALUE / 2).sum())):
        notes.insert(0, f"window {w} lies in one shift region: nothing masked")
    else:
        notes.insert(0, f"{n} of {mask.size} pairs masked: query and key came from different "
                     "image regions and meet only through the cyclic roll")  # fmt: skip
    if padding:
        notes.append(f"{padding} padding tokens in this window: zeros, not masked, cropped after")
    return tuple(notes)
