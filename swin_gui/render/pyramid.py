"""The feature pyramid view: every stage's output side by side, each aligned to the input
image, in one of three modes (`Selection.feature_mode`):

- "channel": one channel per stage (`Selection.channel` for the current stage; the top
  channel by energy elsewhere, or everywhere when it is None), units "activation";
- "norm": the L2 norm of each token over its channels, units "L2 norm";
- "pca": the first three principal components of the stage's tokens as R, G, B.

A stage-s token covers patch·2^s input pixels, so stage 3 at 224 is a 7×7 mosaic over the
same picture as stage 0's 56×56. The current stage's tile is framed and the selected token
outlined. `pyramid_hit` maps a picture pixel back to (stage, token) for the panel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from ..analysis.features import channel_energy, pca, robust_unit
from .cache import TraceCache
from .chart import ACCENT, MUTED, colorbar_strip
from .colormap import apply_colormap
from .draw import BACKGROUND, FOREGROUND, draw_rect, hstack, upscale
from .features import align_to_image, feature_scalar, resize_nearest
from .selection import Picture, Selection
from .text import put_text

MODES = ("channel", "norm", "pca")
UNITS = {"channel": "activation", "norm": "L2 norm", "pca": ""}
MAX_TILE = 384  # larger images are shown shrunk so four tiles fit on a screen
PAD, LABEL_H, BAR_H = 4, 36, 30
_TILES, _PICTURES = TraceCache(traces=2, entries=48), TraceCache(traces=2, entries=64)
GAP = 6  # pixels between stage tiles


@dataclass(frozen=True)
class StageTile:
    """One stage rendered: the aligned picture, its numbers and its label lines."""

    rgb: np.ndarray  # h, w, 3 at display scale
    data: np.ndarray  # H_s, W_s (scalar modes) or H_s, W_s, 3 (PCA, in [0, 1])
    levels: tuple[float, float] | None
    channel: int | None
    lines: tuple[str, str]


def display_scale(image_shape: tuple[int, ...]) -> float:
    """Picture pixels per image pixel in one tile: 1 for usual sizes, an integer
    upscale below 128 px, a shrink above MAX_TILE."""
    side = max(image_shape[:2])
    if side < 128:
        return float(max(1, 192 // side))
    return min(1.0, MAX_TILE / side)


def tile_size(trace) -> tuple[int, int]:
    """(height, width) of a stage map at display scale."""
    H, W = trace.image.shape[:2]
    f = display_scale(trace.image.shape)
    return max(1, round(H * f)), max(1, round(W * f))


def stage_channel(trace, sel: Selection, stage: int) -> int | None:
    """The channel shown for `stage` in channel mode (None for the other modes)."""
    if sel.feature_mode != "channel":
        return None
    dim = trace.stages[stage].dim
    if sel.channel is not None and stage == sel.stage:
        return max(0, min(dim - 1, int(sel.channel)))
    return int(np.argmax(channel_energy(trace.stages[stage].out)))


def _scaled(trace, rgb: np.ndarray, stage: int) -> np.ndarray:
    """Token map -> image-aligned picture at display scale."""
    H, W = trace.image.shape[:2]
    aligned = align_to_image(rgb, trace.token_pixels(stage), (H, W))  # H, W, 3
    f = display_scale(trace.image.shape)
    if f == 1:
        return aligned
    if f > 1:
        return upscale(aligned, int(f))
    return resize_nearest(aligned, tile_size(trace))


def _stage_tile(trace, stage: int, mode: str, channel: int | None, cmap: str) -> StageTile:
    st = trace.stages[stage]
    head = f"stage {stage} · {st.resolution[0]}×{st.resolution[1]} · {st.dim} ch"
    if mode == "pca":
        # pca_rgb's colours, sharing one decomposition with the explained share (the
        # C x C eigh is the expensive part: ~0.1 s at 768 channels)
        res = pca(st.out, 3)
        unit = np.stack([robust_unit(res.scores[:, :, i]) for i in range(3)], axis=2)  # H, W, 3
        rgb = np.round(unit * 255).astype(np.uint8)
        share = f"PCA 1-3: {float(res.explained.sum()):.0%} of variance"
        return StageTile(_scaled(trace, rgb, stage), unit, None, None, (head, share))
    values, what = feature_scalar(st.out, mode, channel)  # H_s, W_s
    levels = (float(values.min()), float(values.max()))
    if mode == "channel":
        top = int(np.argmax(channel_energy(st.out)))
        what = f"channel {channel}" + (" (top energy)" if channel == top else "")
    rgb = apply_colormap(values, cmap, levels)
    return StageTile(_scaled(trace, rgb, stage), values, levels, channel, (head, what))


def stage_tile(trace, stage: int, mode: str, channel: int | None, cmap: str) -> StageTile:
    """Cached per (trace, stage, mode, channel, colormap): only selection-independent work."""
    if mode not in MODES:
        raise ValueError(f"unknown feature mode {mode!r}; choose one of {', '.join(MODES)}")
    return _TILES.get(
        trace, (stage, mode, channel, cmap), lambda: _stage_tile(trace, stage, mode, channel, cmap)
    )


def _tile_picture(tile: StageTile, mode: str, cmap: str, current: bool) -> np.ndarray:
    """Label strip + map + colour bar (or the PCA legend), framed when current."""
    h, w = tile.rgb.shape[:2]
    out = Image.new("RGB", (w + 2 * PAD, LABEL_H + h + BAR_H + 2 * PAD), BACKGROUND)
    d = ImageDraw.Draw(out)
    put_text(d, (PAD, PAD), tile.lines[0], ACCENT if current else FOREGROUND, 12)
    put_text(d, (PAD, PAD + 16), tile.lines[1], MUTED, 11)
    out.paste(Image.fromarray(tile.rgb), (PAD, PAD + LABEL_H))
    y_bar = PAD + LABEL_H + h + 4
    if tile.levels is not None:
        strip = colorbar_strip(w, cmap, tile.levels, UNITS[mode], height=8)
        out.paste(Image.fromarray(strip[: BAR_H - 4]), (PAD, y_bar))
    else:
        put_text(d, (PAD, y_bar), "PCA: first 3 components → RGB", MUTED, 11)
    rgb = np.asarray(out).copy()
    if current:
        draw_rect(rgb, 0, 0, rgb.shape[1], rgb.shape[0], ACCENT, width=3)
    return rgb


def tile_origins(trace) -> list[tuple[int, int]]:
    """(x, y) of each stage map's top-left corner in the composed picture."""
    w = tile_size(trace)[1]
    step = w + 2 * PAD + GAP
    return [(s * step + PAD, PAD + LABEL_H) for s in range(len(trace.stages))]


def pyramid_hit(trace, x: float, y: float) -> tuple[int, tuple[int, int]] | None:
    """(stage, (row, col)) under picture pixel (x, y), or None between tiles."""
    h, w = tile_size(trace)
    f = display_scale(trace.image.shape)
    for s, (x0, y0) in enumerate(tile_origins(trace)):
        if x0 <= x < x0 + w and y0 <= y < y0 + h:
            p = trace.token_pixels(s) * f  # picture pixels per stage-s token
            H_s, W_s = trace.stages[s].resolution
            return s, (min(H_s - 1, int((y - y0) // p)), min(W_s - 1, int((x - x0) // p)))
    return None


def _outline_token(rgb: np.ndarray, trace, sel: Selection) -> None:
    if sel.token is None:
        return
    x0, y0 = tile_origins(trace)[sel.stage]
    p = trace.token_pixels(sel.stage) * display_scale(trace.image.shape)
    h, w = tile_size(trace)
    r, c = sel.token
    x, y = x0 + round(c * p), y0 + round(r * p)
    side = max(3, round(p))
    draw_rect(rgb, x, y, min(side, x0 + w - x), min(side, y0 + h - y), (255, 255, 255), 1)


def render_pyramid_view(trace, sel: Selection) -> Picture:
    """All stages side by side in `sel.feature_mode`; data is the current stage's map."""
    mode, cmap = sel.feature_mode, sel.colormap
    tiles = [
        stage_tile(trace, s, mode, stage_channel(trace, sel, s), cmap)
        for s in range(len(trace.stages))
    ]
    parts = [
        _PICTURES.get(
            trace,
            (s, mode, tile.channel, cmap, s == sel.stage),
            lambda t=tile, c=s == sel.stage: _tile_picture(t, mode, cmap, c),
        )
        for s, tile in enumerate(tiles)
    ]
    rgb = hstack(parts, gap=GAP)  # equal tiles: x of stage s = s * (tile width + GAP)
    _outline_token(rgb, trace, sel)
    cur = tiles[sel.stage]
    return Picture(
        rgb=rgb,
        data=cur.data,
        title=f"Feature pyramid · {'PCA' if mode == 'pca' else UNITS[mode]}",
        units=UNITS[mode],
        levels=cur.levels,
        colormap=None if mode == "pca" else cmap,
        scale=display_scale(trace.image.shape),
        notes=_notes(trace, sel, cur),
    )


def _notes(trace, sel: Selection, cur: StageTile) -> tuple[str, ...]:
    H, W = trace.image.shape[:2]
    notes = [
        f"each stage aligned to the {H}×{W} (H×W) input; stage s token = "
        f"{trace.config.patch_size}·2^s px"
    ]
    if sel.feature_mode == "pca":
        notes.append("PCA: first 3 components → RGB (per stage; colours are not comparable)")
    else:
        lo, hi = cur.levels
        units = UNITS[sel.feature_mode]
        notes.append(f"stage {sel.stage}: {cur.lines[1]}, {lo:.3g} to {hi:.3g} {units}")
    if sel.token is not None:
        notes.append(f"token {sel.token} on stage {sel.stage}")
    return tuple(notes)
