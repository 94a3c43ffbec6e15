"""The window grid view: the input image with the current block's window partition drawn
over it in image pixels (window side = M x patch x 2**stage), the padded border hatched,
and on SW-MSA the shifted partition with the 9 cyclic-shift regions tinted.

Also the small helpers the shift, mask and attention views share: the region palette, the
label that says which attention the view shows, and window pieces after the roll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..model.geometry import shift_regions
from ..trace import BlockTrace, Trace
from .cache import TraceCache
from .draw import (
    Color,
    canvas,
    draw_hlines,
    draw_rect,
    draw_vlines,
    fill_rect,
    hatch,
    upscale,
)
from .selection import Picture, Selection, view_shift
from .text import Label, draw_labels

# Nine distinct region colours (Tableau 10 minus grey), shared by the grid and shift views.
REGION_COLORS: tuple[Color, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
)
WINDOW_LINE: Color = (255, 255, 255)
SELECTED: Color = (255, 214, 0)
TARGET_WIDTH = 448  # a 224 input is drawn at least this wide
REGION_ALPHA = 100  # of 256: regions 1-8 (the ones the roll moved)
REGION0_ALPHA = 40  # region 0, the bulk that stays in place


# ---- shared helpers ----------------------------------------------------------------------
def mode_label(trace: Trace, block: BlockTrace, shift: int) -> str:
    """Which attention the view shows: W-MSA, SW-MSA, or why an SW-MSA block has no shift."""
    M = trace.config.window_size
    H, W = block.resolution
    if shift > 0:
        return "SW-MSA" if block.shift > 0 else "W-MSA block, shift forced on"
    if block.nominal_shift == 0:
        return "W-MSA"
    if block.shift == 0:
        return f"SW-MSA, shift off: grid {H}×{W} ≤ M={M}"
    return "SW-MSA, shift toggled off"


def no_shift_reason(trace: Trace, block: BlockTrace, shift: int) -> str | None:
    """A one-line reason when the view has no shift (None when it has one)."""
    if shift > 0:
        return None
    if block.nominal_shift == 0:
        return "no shift: W-MSA"
    H, W = block.resolution
    if block.shift == 0:
        return f"shift off: grid {H}×{W} ≤ M={trace.config.window_size}"
    return "shift toggled off (S): regular W-MSA windows"


def original_regions(block: BlockTrace, shift: int) -> np.ndarray:
    """(Hp, Wp) shift-region label of each token at its ORIGINAL (un-rolled) position:
    label(r, c) = regions[(r - s) % Hp, (c - s) % Wp]."""
    Hp, Wp = block.padded
    rolled = shift_regions(Hp, Wp, block.window, shift).numpy()  # Hp, Wp
    return np.roll(rolled, (shift, shift), axis=(0, 1))


def window_index_grid(block: BlockTrace, shift: int) -> np.ndarray:
    """(H, W) int: the window each real token falls in, after the cyclic shift."""
    H, W = block.resolution
    Hp, Wp = block.padded
    M = block.window
    rr = (np.arange(H) - shift) % Hp // M  # H
    cc = (np.arange(W) - shift) % Wp // M  # W
    return (rr[:, None] * (Wp // M) + cc[None, :]).astype(np.int64)


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
    nWh, nWw = block.window_grid
    return max(0, min(nWh * nWw - 1, sel.window))


def region_boxes(labels: np.ndarray) -> dict[int, tuple[int, int, int, int]]:
    """Bounding box (r0, c0, r1, c1) of each label present in a grid."""
    boxes = {}
    for k in np.unique(labels):
        rows = np.flatnonzero((labels == k).any(axis=1))
        cols = np.flatnonzero((labels == k).any(axis=0))
        boxes[int(k)] = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    return boxes


def draw_cross(rgb: np.ndarray, cx: int, cy: int, arm: int, color: Color = SELECTED) -> None:
    """A ✚ marker with a dark outline, in place."""
    for w, col in ((5, (0, 0, 0)), (2, color)):
        fill_rect(rgb, cx - arm, cy - w // 2, 2 * arm + 1, w, col)
        fill_rect(rgb, cx - w // 2, cy - arm, w, 2 * arm + 1, col)


# ---- layout --------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridLayout:
    """Where things lie in the grid picture: the image sits at the top-left corner, drawn
    `scale` screen pixels per input pixel; a stage token is `token_px` pixels wide."""

    scale: int
    token_px: int
    resolution: tuple[int, int]  # H_s, W_s tokens
    padded: tuple[int, int]  # Hp, Wp tokens
    image: tuple[int, int]  # input H, W pixels
    size: tuple[int, int]  # picture height, width

    def token_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, col) of the token under a picture pixel, inside the padded grid, or None."""
        r, c = int(y // self.token_px), int(x // self.token_px)
        if 0 <= r < self.padded[0] and 0 <= c < self.padded[1] and x >= 0 and y >= 0:
            return r, c
        return None

    def token_rect(self, r: int, c: int, token_px: int | None = None) -> tuple[int, ...]:
        """(x, y, w, h) picture pixels of a token (of another stage if `token_px` given)."""
        t = token_px or self.token_px
        return c * t, r * t, t, t


def picture_extent(trace: Trace, stage: int) -> tuple[int, int]:
    """Input-pixel extent of a stage's picture: the image plus the padded token grid."""
    H, W = trace.image.shape[:2]
    tp = trace.token_pixels(stage)
    Hp, Wp = trace.stages[stage].blocks[0].padded
    return max(H, Hp * tp), max(W, Wp * tp)


def grid_layout(trace: Trace, sel: Selection) -> GridLayout:
    block = trace.block(sel.stage, sel.block)
    Hi, Wi = trace.image.shape[:2]
    scale = max(1, math.ceil(TARGET_WIDTH / max(Hi, Wi)))
    He, We = picture_extent(trace, sel.stage)
    tp = trace.token_pixels(sel.stage)
    return GridLayout(
        scale, tp * scale, block.resolution, block.padded, (Hi, Wi), (He * scale, We * scale)
    )


# ---- rendering -------------------------------------------------------------------------------
_CACHE = TraceCache(traces=2, entries=32)  # image layers and the selection-free bases


def _image_layer(trace: Trace, stage: int) -> np.ndarray:
    """Input-resolution canvas: the image, the stage's padded area hatched beyond it
    (cached per trace and stage; callers copy before drawing)."""
    return _CACHE.get(trace, ("image", stage), lambda: _make_image_layer(trace, stage))


def _make_image_layer(trace: Trace, stage: int) -> np.ndarray:
    He, We = picture_extent(trace, stage)
    Hi, Wi = trace.image.shape[:2]
    tp = trace.token_pixels(stage)
    Hp, Wp = trace.stages[stage].blocks[0].padded
    out = canvas(He, We)
    out[:Hi, :Wi] = trace.image
    pad = np.zeros((He, We), bool)
    pad[: Hp * tp, : Wp * tp] = True
    pad[:Hi, :Wi] = False
    out[pad] = (90, 90, 96)
    hatch(out, pad, period=8)
    return out


def _tinted(trace: Trace, block: BlockTrace, shift: int) -> np.ndarray:
    """The image layer with the 9 shift regions tinted (input resolution)."""
    base = _image_layer(trace, block.stage).copy()
    if shift == 0:
        return base
    tp = trace.token_pixels(block.stage)
    Hp, Wp = block.padded
    labels = np.repeat(np.repeat(original_regions(block, shift), tp, 0), tp, 1)  # Hp*tp, Wp*tp
    area = base[: Hp * tp, : Wp * tp]
    tint = np.asarray(REGION_COLORS, np.uint16)[labels]  # Hp*tp, Wp*tp, 3
    a = np.where(labels == 0, REGION0_ALPHA, REGION_ALPHA)[..., None]  # Hp*tp, Wp*tp, 1
    area[:] = ((area.astype(np.uint16) * (256 - a) + tint * a) >> 8).astype(np.uint8)
    return base


def _lines(rgb: np.ndarray, lay: GridLayout, block: BlockTrace, shift: int) -> None:
    """Faint token lines, then window boundaries (offset by s on SW-MSA), in place."""
    Hp, Wp = block.padded
    T, M = lay.token_px, block.window
    area = rgb[: Hp * T, : Wp * T]
    if T >= 8:
        ys, xs = np.arange(0, Hp * T, T), np.arange(0, Wp * T, T)
        area[ys] = (area[ys] * 0.8).astype(np.uint8)
        area[:, xs] = (area[:, xs] * 0.8).astype(np.uint8)
    rows = sorted({0, Hp * T, *((k * M + shift) * T for k in range(Hp // M))})
    cols = sorted({0, Wp * T, *((k * M + shift) * T for k in range(Wp // M))})
    draw_hlines(area, rows, WINDOW_LINE, width=2)
    draw_vlines(area, cols, WINDOW_LINE, width=2)


def _region_labels(lay: GridLayout, block: BlockTrace, shift: int) -> list[Label]:
    boxes = region_boxes(original_regions(block, shift))
    T, labels = lay.token_px, []
    size = 12 if T * shift < 40 else 18
    for k, (r0, c0, r1, c1) in boxes.items():
        x, y = (c0 + c1) * T // 2 - size // 3, (r0 + r1) * T // 2 - size // 2
        labels.append(((x, y), str(k), (255, 255, 255), size, REGION_COLORS[k]))
    return labels


def _base(trace: Trace, sel: Selection, lay: GridLayout, shift: int) -> np.ndarray:
    """Everything that does not depend on the selected token (cached per trace/block)."""
    return _CACHE.get(
        trace, (sel.stage, sel.block, shift), lambda: _make_base(trace, sel, lay, shift)
    )


def _make_base(trace: Trace, sel: Selection, lay: GridLayout, shift: int) -> np.ndarray:
    block = trace.block(sel.stage, sel.block)
    rgb = upscale(_tinted(trace, block, shift), lay.scale)  # a fresh copy: _tinted copies
    _lines(rgb, lay, block, shift)
    if shift > 0:
        draw_labels(rgb, _region_labels(lay, block, shift))
    return rgb


def render_grid(trace: Trace, sel: Selection) -> Picture:
    """The image with the current block's window partition, in image pixels."""
    block = trace.block(sel.stage, sel.block)
    shift = view_shift(block, sel)
    lay = grid_layout(trace, sel)
    rgb = _base(trace, sel, lay, shift).copy()
    T = lay.token_px
    w = selected_window(block, sel, shift)
    for r0, c0, r1, c1 in window_pieces(block, w, shift):  # inside the white lines
        draw_rect(rgb, c0 * T + 1, r0 * T + 1, (c1 - c0) * T - 2, (r1 - r0) * T - 2, SELECTED, 3)
    if sel.token is not None:
        r, c = sel.token
        draw_cross(rgb, c * T + T // 2, r * T + T // 2, max(6, T // 2))
    return Picture(
        rgb=rgb,
        data=window_index_grid(block, shift),
        title=_title(trace, block, shift),
        units="window index",
        scale=float(lay.scale),
        notes=_notes(trace, block, shift, w),
    )


def _title(trace: Trace, block: BlockTrace, shift: int) -> str:
    H, W = block.resolution
    return (
        f"Window grid · stage {block.stage} · block {block.index} · "
        f"{mode_label(trace, block, shift)} · M={block.window} · s={shift} · {H}×{W} tokens"
    )


def _notes(trace: Trace, block: BlockTrace, shift: int, window: int) -> tuple[str, ...]:
    H, W = block.resolution
    Hp, Wp = block.padded
    nWh, nWw = block.window_grid
    tp = trace.token_pixels(block.stage)
    Hi, Wi = trace.image.shape[:2]
    notes = [
        f"{_count(nWh * nWw, 'window')} ({nWh}×{nWw}) of {block.window}×{block.window} tokens = "
        f"{block.window * tp} px; token = {tp} px",
        f"image {Wi}×{Hi} px (W×H); tokens {H}×{W} (H×W) padded to {Hp}×{Wp} (hatched: padding)"
        if (Hp * tp, Wp * tp) != (Hi, Wi)
        else f"image {Wi}×{Hi} px (W×H) = {H}×{W} tokens (H×W), no padding",
        f"selected window {window}",
    ]
    if shift > 0:
        notes.append(f"windows start at token {shift} (roll by −{shift}); tint = 9 shift regions")
    return tuple(notes)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
