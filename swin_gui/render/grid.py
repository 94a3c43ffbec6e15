"""The window grid view: the input image with the current block's window partition drawn
over it in image pixels (window side = M × patch × 2^stage), the padded border hatched, and
on SW-MSA the shifted partition with the 9 cyclic-shift regions tinted and labelled.

Data units are input pixels (x right, y down). The one hit region covers the padded token
grid: hovering reads the window a token falls in; a click selects the token.
"""

from __future__ import annotations

import numpy as np

from ..analysis.cache import TraceCache
from ..trace import BlockTrace, Trace
from . import figure as F
from .common import (
    REGION_COLORS,
    mode_label,
    original_regions,
    region_boxes,
    selected_window,
    window_pieces,
)
from .selection import Selection, view_shift

DISPLAY_MAX = 2048  # the image layer is drawn from a copy at most this many pixels wide
LONG_SIDE_PT = 420.0  # the natural size of the picture's long side
REGION_ALPHA, REGION0_ALPHA = 110, 40  # of 255: regions 1-8 (moved by the roll), region 0

_CACHE = TraceCache(traces=2, entries=64)


def _display_image(trace: Trace) -> np.ndarray:
    """The input image, subsampled to at most DISPLAY_MAX pixels on its long side."""
    image = trace.image
    step = max(1, int(np.ceil(max(image.shape[:2]) / DISPLAY_MAX)))
    return np.ascontiguousarray(image[::step, ::step]) if step > 1 else image


def extent(trace: Trace, stage: int) -> tuple[int, int]:
    """(H, W) input pixels the view covers: the image and the stage's padded token grid."""
    H, W = trace.image.shape[:2]
    tp = trace.token_pixels(stage)
    Hp, Wp = trace.stages[stage].blocks[0].padded
    return max(H, Hp * tp), max(W, Wp * tp)


def _padding_rects(trace: Trace, block: BlockTrace) -> np.ndarray:
    H, W = trace.image.shape[:2]
    tp = trace.token_pixels(block.stage)
    Hp, Wp = block.padded[0] * tp, block.padded[1] * tp
    rects = []
    if Wp > W:
        rects.append((W, 0, Wp - W, Hp))
    if Hp > H:
        rects.append((0, H, min(W, Wp), Hp - H))
    return F.rects(rects)


def _region_layer(trace: Trace, block: BlockTrace, shift: int) -> F.Heatmap:
    """The 9 regions as an RGBA layer at token resolution (region 0 faint)."""
    labels = original_regions(block, shift)  # Hp, Wp
    palette = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in REGION_COLORS])
    rgba = np.empty((*labels.shape, 4), np.uint8)
    rgba[..., :3] = palette[labels]
    rgba[..., 3] = np.where(labels == 0, REGION0_ALPHA, REGION_ALPHA)
    tp = trace.token_pixels(block.stage)
    Hp, Wp = block.padded
    return F.Heatmap(rgba, (0, 0, Wp * tp, Hp * tp))


def _window_lines(trace: Trace, block: BlockTrace, shift: int) -> list[F.Layer]:
    """Faint token lines (when tokens are big enough to see), then the window boundaries."""
    tp = trace.token_pixels(block.stage)
    Hp, Wp = block.padded
    M = block.window
    X, Y = Wp * tp, Hp * tp
    out: list[F.Layer] = []
    if max(Hp, Wp) <= 64:
        out.append(F.Lines(F.grid_lines(0, 0, X, Y, tp, tp), "#8a8f94", 0.5))  # opaque: fast
    rows = sorted({0, Y, *((k * M + shift) * tp for k in range(Hp // M))})
    cols = sorted({0, X, *((k * M + shift) * tp for k in range(Wp // M))})
    seg = [((0, y), (X, y)) for y in rows] + [((x, 0), (x, Y)) for x in cols]
    out.append(F.Lines(np.asarray(seg, np.float32), "grid", 1.5))
    return out


def _region_labels(trace: Trace, block: BlockTrace, shift: int) -> list[F.Text]:
    tp = trace.token_pixels(block.stage)
    out = []
    for k, (r0, c0, r1, c1) in region_boxes(original_regions(block, shift)).items():
        x, y = (c0 + c1) * tp / 2, (r0 + r1) * tp / 2
        out.append(F.Text(x, y, str(k), 10, "#ffffff", "cc", box=REGION_COLORS[k], bold=True))
    return out


def _static_layers(trace: Trace, block: BlockTrace, shift: int) -> tuple[F.Layer, ...]:
    """Everything that does not depend on the selected token (cached per block and shift)."""
    H, W = trace.image.shape[:2]
    layers: list[F.Layer] = [F.Heatmap(_display_image(trace), (0, 0, W, H), smooth=True)]
    if shift > 0:
        layers.append(_region_layer(trace, block, shift))
    pad = _padding_rects(trace, block)
    if len(pad):
        layers.append(F.Hatch(pad))
    layers += _window_lines(trace, block, shift)
    if shift > 0:
        layers += _region_labels(trace, block, shift)
    return tuple(layers)


def _hit(trace: Trace, block: BlockTrace, shift: int) -> F.HitRegion:
    tp = trace.token_pixels(block.stage)
    Hp, Wp = block.padded
    M = block.window
    rr = (np.arange(Hp) - shift) % Hp // M
    cc = (np.arange(Wp) - shift) % Wp // M
    windows = (rr[:, None] * (Wp // M) + cc[None, :]).astype(np.float32)  # Hp, Wp
    return F.HitRegion(
        "token",
        (0, 0, Wp * tp, Hp * tp),
        (Hp, Wp),
        windows,
        "window",
        "",
        {"origin": (0, 0), "stage": block.stage},
    )


def _selection_layers(trace: Trace, block: BlockTrace, sel: Selection, shift: int):
    tp = trace.token_pixels(block.stage)
    w = selected_window(block, sel, shift)
    boxes = [
        (c0 * tp, r0 * tp, (c1 - c0) * tp, (r1 - r0) * tp)
        for r0, c0, r1, c1 in window_pieces(block, w, shift)
    ]
    layers: list[F.Layer] = [F.Rects(F.rects(boxes), "selected", None, 2.5)]
    if sel.token is not None:
        r, c = sel.token
        cx, cy, arm = (c + 0.5) * tp, (r + 0.5) * tp, max(tp, 6.0)
        seg = [((cx - arm, cy), (cx + arm, cy)), ((cx, cy - arm), (cx, cy + arm))]
        layers.append(F.Lines(np.asarray(seg, np.float32), "#000000", 3.5))
        layers.append(F.Lines(np.asarray(seg, np.float32), "selected", 1.5))
    return layers, w


def figure_grid(trace: Trace, sel: Selection) -> F.Figure:
    """The image with the current block's window partition, in image pixels."""
    block = trace.block(sel.stage, sel.block)
    shift = view_shift(block, sel)
    He, We = extent(trace, sel.stage)
    static = _CACHE.get(
        trace, ("static", sel.stage, sel.block, shift), lambda: _static_layers(trace, block, shift)
    )
    hit = _CACHE.get(trace, ("hit", sel.stage, sel.block, shift), lambda: _hit(trace, block, shift))
    chosen, window = _selection_layers(trace, block, sel, shift)
    k = LONG_SIDE_PT / max(He, We)
    step = block.window * trace.token_pixels(sel.stage)  # one window, in input pixels
    plot = F.Plot(
        key="image",
        xlim=(0, We),
        ylim=(0, He),
        size=(We * k, He * k),
        layers=static + tuple(chosen),
        fill=True,
        hits=(hit,),
        xticks=pixel_ticks(We, step, shift * trace.token_pixels(sel.stage)),
        yticks=pixel_ticks(He, step, shift * trace.token_pixels(sel.stage)),
    )
    H, W = block.resolution
    return F.Figure(
        title=f"Window grid · stage {block.stage} · block {block.index} · "
        f"{mode_label(trace, block, shift)} · M={block.window} · s={shift}",
        plots=(plot,),
        notes=_notes(trace, block, shift, window),
        data=hit.values[:H, :W].astype(np.int64),
        view="grid",
    )


def pixel_ticks(extent: int, step: int, offset: int, most: int = 8) -> tuple:
    """Ticks in input pixels at the window boundaries (every k-th when there are many)."""
    edges = [offset + i * step for i in range(-1, extent // step + 2)]
    edges = [e for e in edges if 0 <= e <= extent]
    k = max(1, -(-len(edges) // most))
    return tuple((float(e), f"{e}") for e in edges[::k])


def _notes(trace: Trace, block: BlockTrace, shift: int, window: int) -> tuple[str, ...]:
    H, W = block.resolution
    Hp, Wp = block.padded
    nWh, nWw = block.window_grid
    tp = trace.token_pixels(block.stage)
    Hi, Wi = trace.image.shape[:2]
    n = nWh * nWw
    notes = [
        f"{n} window{'s' if n != 1 else ''} ({nWh}×{nWw}) of {block.window}×{block.window} "
        f"tokens = {block.window * tp} px; token = {tp} px",
        f"image {Wi}×{Hi} px (W×H); tokens {H}×{W} (H×W) padded to {Hp}×{Wp} (hatched: padding)"
        if (Hp * tp, Wp * tp) != (Hi, Wi)
        else f"image {Wi}×{Hi} px (W×H) = {H}×{W} tokens (H×W), no padding",
        f"selected window {window}",
    ]
    if shift > 0:
        notes.append(f"windows start at token {shift} (roll by −{shift}); tint = 9 shift regions")
    return tuple(notes)
