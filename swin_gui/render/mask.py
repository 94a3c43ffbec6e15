"""The attention-mask view: the N x N additive shift mask of the selected token's window
(0 = attend, −100 = masked: query and key came from different shift regions and meet only
through the cyclic roll), and every window's mask as one mosaic of thumbnails.

The window is the one holding the selected token under the viewed shift
(`common.selected_window`), so the mask, the grid and the attention agree. An unshifted
block (W-MSA, the shift rule switched off, or the toggle) has no mask: the view draws the
all-zero matrix and says why. For a shift the block did not compute with (the toggle), the
mask comes from `analysis.regions.shift_mask` (numpy). The mosaic is ONE heatmap layer plus
one Lines layer of separators, cached per block and shift, with one hit region per window
(a click selects it: payload select {"window": w}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..analysis.cache import TraceCache
from ..analysis.regions import MASK_VALUE, shift_mask
from ..i18n import language, ntr, tr
from . import figure as F
from .attention_matrix import index_ticks, matrix_cell_pt
from .common import mode_label, no_shift_reason, selected_window
from .selection import Selection, view_shift

if TYPE_CHECKING:
    from ..trace import BlockTrace, Trace

CMAP, LEVELS = "gray", (MASK_VALUE, 0.0)  # −100 black (masked), 0 white (attend)
GROUP_LINE = "#4c78a8"
MOSAIC_PT = 300.0  # widest the mosaic of thumbnails grows
THUMB_PT = (20.0, 120.0)  # thumbnail side range

_CACHE = TraceCache(traces=2, entries=64)


def quantity() -> str:
    return tr("Mask", "additive mask")


def block_masks(block: BlockTrace, shift: int) -> np.ndarray:
    """(nW, N, N) additive mask of every window for the viewed shift (zeros when s = 0):
    the block's own mask when it computed with that shift, else the numpy shift mask."""
    nWh, nWw = block.window_grid
    N = block.tokens_per_window
    if shift == 0:  # read-only zeros that take no memory
        return np.broadcast_to(np.zeros((1, N, N), np.float32), (nWh * nWw, N, N))
    if shift == block.shift and block.mask is not None:
        return block.mask
    return shift_mask(*block.padded, block.window, shift)


class Mosaic:
    """Every window's mask tiled as the windows lie (row-major), with separators and one
    hit region per window; depends on the block and the viewed shift only."""

    def __init__(self, block: BlockTrace, shift: int) -> None:
        nWh, nWw = block.window_grid
        N = block.tokens_per_window
        self.grid = (nWh, nWw)
        if shift == 0:
            self.data = np.zeros((nWh * N, nWw * N), np.float32)
            self.counts = np.zeros(nWh * nWw, np.int64)
        else:
            masks = np.asarray(block_masks(block, shift), np.float32)  # nW, N, N
            grid = masks.reshape(nWh, nWw, N, N).transpose(0, 2, 1, 3)
            self.data = grid.reshape(nWh * N, nWw * N)
            self.counts = (masks < MASK_VALUE / 2).sum(axis=(1, 2))  # nW
        v = [((c, 0), (c, nWh)) for c in range(1, nWw)] + [
            ((0, r), (nWw, r)) for r in range(1, nWh)
        ]
        self.lines = np.asarray(v, np.float32).reshape(-1, 2, 2)
        self.hits = tuple(
            F.HitRegion(
                "window",
                (c, r, c + 1, r + 1),
                (1, 1),
                np.array([[self.counts[r * nWw + c]]], np.float32),
                tr("Mask", "masked pairs"),
                "",
                {"select": {"window": r * nWw + c}},
            )
            for r in range(nWh)
            for c in range(nWw)
        )


def mosaic(trace: Trace, block: BlockTrace, shift: int) -> Mosaic:
    return _CACHE.get(trace, _mosaic_key(block, shift), lambda: Mosaic(block, shift))


def mosaic_cached(trace: Trace, block: BlockTrace, shift: int) -> bool:
    """Whether `mosaic` would answer at once (a big block's is built in the background)."""
    return _CACHE.has(trace, _mosaic_key(block, shift))


def _mosaic_key(block: BlockTrace, shift: int) -> tuple:
    return ("mosaic", block.stage, block.index, shift, language())  # its hit regions hold text


def _matrix(block: BlockTrace, mask: np.ndarray, tokens: np.ndarray, w: int, shift: int):
    N, M = block.tokens_per_window, block.window
    H, W = block.resolution
    padding = (tokens[:, 0] >= H) | (tokens[:, 1] >= W)
    layers: list[F.Layer] = [F.Heatmap(mask, (0, 0, N, N), CMAP, LEVELS, quantity())]
    if M < N:
        ks = np.arange(M, N, M, dtype=np.float32)
        seg = [((k, 0), (k, N)) for k in ks] + [((0, k), (N, k)) for k in ks]
        layers.append(F.Lines(np.asarray(seg, np.float32).reshape(-1, 2, 2), GROUP_LINE, 1.0))
    if shift == 0:
        no_mask = tr("Mask", "no mask: every pair attends (0)")
        layers.append(F.Text(N / 2, N / 2, no_mask, 10, "fg", "cc", "bg"))
    hit = F.HitRegion(
        "matrix", (0, 0, N, N), (N, N), mask, quantity(), "", {"keys": tokens, "padding": padding}
    )
    side = N * matrix_cell_pt(N)
    return F.Plot(
        "matrix",
        (0, N),
        (0, N),
        (side, side),
        tuple(layers),
        tr("Mask", "window {w} · {N}×{N} mask, shift {s}", w=w, N=N, s=shift),
        "mask",
        xticks=index_ticks(N, M),
        yticks=index_ticks(N, M),
        xlabel=tr("Mask", "key j (in the window) · blue lines every M = {M}", M=M),
        ylabel=tr("Mask", "query i"),
        colorbar=F.ColorBar(CMAP, LEVELS, quantity(), (MASK_VALUE, 0.0)),
        hits=(hit,),
    )


def _mosaic_plot(mos: Mosaic, w: int) -> F.Plot:
    nWh, nWw = mos.grid
    nW = nWh * nWw
    if nW == 1:
        title = tr("Mask", "the only window")
    else:
        title = ntr(
            "Mask",
            "all {n} window (click one to select it)",
            "all {n} windows (click one to select it)",
            nW,
        )
    wide = max(MOSAIC_PT, F.text_width_pt(title, F.TITLE_PT))  # room for the title
    t = float(np.clip(wide / nWw, *THUMB_PT))
    r, c = divmod(w, nWw)
    layers: list[F.Layer] = [
        F.Heatmap(mos.data, (0, 0, nWw, nWh), CMAP, LEVELS, quantity(), smooth=True)
    ]
    if len(mos.lines):
        layers.append(F.Lines(mos.lines, "muted", 1.5))
    layers.append(F.Rects(F.rects([(c, r, 1, 1)]), "selected", None, 2.0))
    return F.Plot(
        "windows",
        (0, nWw),
        (0, nWh),
        (nWw * t, nWh * t),
        tuple(layers),
        title,
        "mask",
        hits=mos.hits,
    )


def _notes(trace: Trace, block: BlockTrace, shift: int, w: int, n_masked: int, pad: int):
    N2 = block.tokens_per_window**2
    if shift == 0:
        first = tr(
            "Mask",
            "{reason}: no mask, every token attends to every other",
            reason=no_shift_reason(trace, block, shift),
        )
    elif n_masked == 0:
        first = tr("Mask", "window {w} lies in one shift region: nothing masked", w=w)
    else:
        first = ntr(
            "Mask",
            "{k} of {n} pair masked: query and key came from different image regions and "
            "meet only through the cyclic roll",
            "{k} of {n} pairs masked: query and key came from different image regions and "
            "meet only through the cyclic roll",
            N2,
            k=n_masked,
        )
    notes = [
        first,
        tr("Mask", "one mask per window, shared by every head; added to q·kᵀ·scale + bias"),
    ]
    if shift != block.shift:
        notes.append(
            tr(
                "Mask",
                "shift toggled: drawn for shift {shift}; the block computed with {s}",
                shift=shift,
                s=block.shift,
            )
        )
    if pad:
        notes.append(
            ntr(
                "Mask",
                "{n} padding token in this window: zeros, not masked, cropped after",
                "{n} padding tokens in this window: zeros, not masked, cropped after",
                pad,
            )
        )
    return tuple(notes)


def figure_mask(trace: Trace, selection: Selection) -> F.Figure:
    """The selected token's window: its N x N additive mask, and every window's mask."""
    sel = selection
    block = trace.block(sel.stage, sel.block)
    shift = view_shift(block, sel)
    w = selected_window(block, sel, shift)
    mos = mosaic(trace, block, shift)
    mask = np.asarray(block_masks(block, shift)[w], np.float32)  # N, N
    tokens = block.window_tokens(w, shift)  # N, 2
    H, W = block.resolution
    pad = int(((tokens[:, 0] >= H) | (tokens[:, 1] >= W)).sum())
    nW = mos.grid[0] * mos.grid[1]
    return F.Figure(
        title=tr(
            "Mask",
            "Attention mask · stage {stage} · block {block} · {mode} · window {w} of {n} · "
            "M={M} · s={s}",
            stage=block.stage,
            block=block.index,
            mode=mode_label(trace, block, shift),
            w=w,
            n=nW,
            M=block.window,
            s=shift,
        ),
        plots=(_matrix(block, mask, tokens, w, shift), _mosaic_plot(mos, w)),
        notes=_notes(trace, block, shift, w, int(mos.counts[w]), pad),
        data=mask,
        view="mask",
    )
