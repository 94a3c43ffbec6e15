"""The simple file output of an explanation: the map over the image with that stage's
window grid (as the block partitions it, shifted or not) and the token marked, drawn with
numpy and Pillow only."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .colormap import apply_colormap

MAP_ALPHA = 0.6  # of the map over the image
REACH_TINT = np.array([255, 200, 0], np.float32)


def window_lines(geometry, stage: int, block: int) -> tuple[list[int], list[int]]:
    """Pixel rows and columns of the window boundaries of block (stage, block), in the
    image's own (un-rolled) coordinates: (k·M + s)·token pixels."""
    b = geometry.stages[stage][block]
    tp = geometry.token_pixels(stage)
    (Hp, Wp), M, s = b.padded, b.window, b.shift
    rows = sorted({(k * M + s) % Hp * tp for k in range(Hp // M)} | {0, Hp * tp})
    cols = sorted({(k * M + s) % Wp * tp for k in range(Wp // M)} | {0, Wp * tp})
    return rows, cols


def overlay(result, cmap: str = "inferno") -> Image.Image:
    """An RGB picture (H, W) of `result.map` over `result.image` with the window grid."""
    img = result.image.astype(np.float32)
    m = np.asarray(result.map)
    if m.dtype == bool:
        out = np.where(m[..., None], img * 0.45 + REACH_TINT * 0.55, img * 0.35)
    else:
        finite = m[np.isfinite(m)]
        hi = float(np.percentile(finite, 99.5)) if finite.size else 1.0  # peaks saturate
        colour = apply_colormap(m, cmap, (0.0, hi if hi > 0 else 1.0)).astype(np.float32)
        out = img * (1 - MAP_ALPHA) + colour * MAP_ALPHA
    pic = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    if result.geometry is None:
        return pic
    draw = ImageDraw.Draw(pic)
    H, W = m.shape
    rows, cols = window_lines(result.geometry, result.stage, result.block)
    for y in rows:
        draw.line([(0, y), (W, y)], fill=(255, 255, 255), width=1)
    for x in cols:
        draw.line([(x, 0), (x, H)], fill=(255, 255, 255), width=1)
    if result.token is not None:
        tp = result.geometry.token_pixels(result.stage)
        cy, cx = (result.token[0] + 0.5) * tp, (result.token[1] + 0.5) * tp
        arm = max(tp, 6)
        for width, colour in ((4, (0, 0, 0)), (2, (0, 255, 255))):
            draw.line([(cx - arm, cy), (cx + arm, cy)], fill=colour, width=width)
            draw.line([(cx, cy - arm), (cx, cy + arm)], fill=colour, width=width)
    return pic
