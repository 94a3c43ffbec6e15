"""Small numpy drawing primitives shared by every view: nearest-neighbour upscaling, a fast
blank canvas, grid lines, rectangles, alpha blending, hatching, pasting and side-by-side
composition (text is in `text.py`).
All images are (H, W, 3) uint8 RGB arrays; coordinates are (x = column, y = row).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Color = tuple[int, int, int]
BACKGROUND: Color = (32, 33, 36)
FOREGROUND: Color = (232, 234, 237)
PADDING_TINT: Color = (255, 0, 255)  # padded tokens are drawn hatched in this colour


def upscale(a: np.ndarray, k: int) -> np.ndarray:
    """Nearest-neighbour upscale by an integer factor so tokens/cells stay crisp (any
    (H, W, ...) array; `a` itself when k = 1)."""
    if k < 1:
        raise ValueError(f"scale must be >= 1, not {k}")
    if k == 1:
        return a
    return np.repeat(np.repeat(a, k, axis=0), k, axis=1)


def canvas(height: int, width: int, color: Color = BACKGROUND) -> np.ndarray:
    """A (height, width, 3) uint8 picture filled with `color`: one row, then a row-wise
    broadcast copy (much faster than np.full or a per-pixel fill)."""
    out = np.empty((height, width, 3), np.uint8)
    if height:
        out[0] = color
        out[1:] = out[0]
    return out


def draw_hlines(rgb: np.ndarray, ys: Sequence[int], color: Color, width: int = 1) -> None:
    """Horizontal lines at rows `ys` (clipped), in place."""
    H = rgb.shape[0]
    for y in ys:
        y0 = round(float(y)) - width // 2
        rgb[max(0, y0) : max(0, min(H, y0 + width))] = color


def draw_vlines(rgb: np.ndarray, xs: Sequence[int], color: Color, width: int = 1) -> None:
    """Vertical lines at columns `xs` (clipped), in place."""
    W = rgb.shape[1]
    for x in xs:
        x0 = round(float(x)) - width // 2
        rgb[:, max(0, x0) : max(0, min(W, x0 + width))] = color


def draw_rect(
    rgb: np.ndarray, x: int, y: int, w: int, h: int, color: Color, width: int = 2
) -> None:
    """Outline of a rectangle (clipped to the image), in place."""
    H, W = rgb.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    rgb[y0 : min(y1, y0 + width), x0:x1] = color
    rgb[max(y0, y1 - width) : y1, x0:x1] = color
    rgb[y0:y1, x0 : min(x1, x0 + width)] = color
    rgb[y0:y1, max(x0, x1 - width) : x1] = color


def fill_rect(
    rgb: np.ndarray, x: int, y: int, w: int, h: int, color: Color, alpha: float = 1.0
) -> None:
    """Fill (and optionally blend) a rectangle, in place."""
    H, W = rgb.shape[:2]
    region = rgb[max(0, y) : min(H, y + h), max(0, x) : min(W, x + w)]
    region[:] = (region * (1 - alpha) + np.asarray(color) * alpha).astype(np.uint8)


def blend(base: np.ndarray, over: np.ndarray, alpha: float | np.ndarray) -> np.ndarray:
    """base·(1-α) + over·α; α may be a scalar or an (H, W) array in [0, 1]."""
    a = np.asarray(alpha, dtype=np.float32)
    if a.ndim == 2:
        a = a[..., None]
    return (
        (base.astype(np.float32) * (1 - a) + over.astype(np.float32) * a).round().astype(np.uint8)
    )


def hatch(rgb: np.ndarray, mask: np.ndarray, color: Color = PADDING_TINT, period: int = 6) -> None:
    """Diagonal hatching where `mask` (H, W bool) is set: how padding is drawn, in place."""
    yy, xx = np.indices(mask.shape)
    stripes = ((yy + xx) % period) < max(1, period // 3)
    rgb[mask & stripes] = color
    dim = mask & ~stripes
    rgb[dim] = (rgb[dim] * 0.45).astype(np.uint8)


def paste(dst: np.ndarray, src: np.ndarray, x: int, y: int) -> None:
    """Copy `src` into `dst` with its top-left at (x, y), clipped, in place."""
    H, W = dst.shape[:2]
    h, w = src.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 > x0 and y1 > y0:
        dst[y0:y1, x0:x1] = src[y0 - y : y1 - y, x0 - x : x1 - x]


def compose(
    items: Sequence[tuple[np.ndarray, int, int]], height: int, width: int, color: Color = BACKGROUND
) -> np.ndarray:
    """(rgb, x, y) items pasted onto a new canvas of the given size."""
    out = canvas(height, width, color)
    for rgb, x, y in items:
        paste(out, rgb, x, y)
    return out


def hstack(images: Sequence[np.ndarray], gap: int = 6, color: Color = BACKGROUND) -> np.ndarray:
    """Side by side, top-aligned, `gap` pixels apart."""
    xs = np.cumsum([0] + [im.shape[1] + gap for im in images])
    items = [(im, int(x), 0) for im, x in zip(images, xs, strict=False)]
    return compose(items, max(im.shape[0] for im in images), int(xs[-1]) - gap, color)


def vstack(images: Sequence[np.ndarray], gap: int = 6, color: Color = BACKGROUND) -> np.ndarray:
    """One above the other, left-aligned, `gap` pixels apart."""
    ys = np.cumsum([0] + [im.shape[0] + gap for im in images])
    items = [(im, 0, int(y)) for im, y in zip(images, ys, strict=False)]
    return compose(items, int(ys[-1]) - gap, max(im.shape[1] for im in images), color)
