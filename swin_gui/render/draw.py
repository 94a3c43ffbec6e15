"""Small numpy/Pillow drawing primitives shared by every view: nearest-neighbour upscaling,
grid lines, rectangles, alpha blending, captions and side-by-side composition.
All images are (H, W, 3) uint8 RGB arrays; coordinates are (x = column, y = row).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Color = tuple[int, int, int]
BACKGROUND: Color = (32, 33, 36)
FOREGROUND: Color = (232, 234, 237)
PADDING_TINT: Color = (255, 0, 255)  # padded tokens are drawn hatched in this colour


def upscale(a: np.ndarray, k: int) -> np.ndarray:
    """Nearest-neighbour upscale by an integer factor so tokens/cells stay crisp."""
    if k == 1:
        return a
    return np.repeat(np.repeat(a, k, axis=0), k, axis=1)


def canvas(height: int, width: int, color: Color = BACKGROUND) -> np.ndarray:
    out = np.empty((height, width, 3), np.uint8)
    out[:] = color
    return out


def draw_hlines(rgb: np.ndarray, ys: Sequence[int], color: Color, width: int = 1) -> None:
    """Horizontal lines at rows `ys` (clipped), in place."""
    H = rgb.shape[0]
    for y in ys:
        y0 = int(round(y)) - width // 2
        rgb[max(0, y0) : max(0, min(H, y0 + width))] = color


def draw_vlines(rgb: np.ndarray, xs: Sequence[int], color: Color, width: int = 1) -> None:
    """Vertical lines at columns `xs` (clipped), in place."""
    W = rgb.shape[1]
    for x in xs:
        x0 = int(round(x)) - width // 2
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


FONT_FILES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@lru_cache(maxsize=8)
def font(size: int = 12) -> ImageFont.ImageFont:
    """DejaVu Sans when installed (it has ×, Δ, σ, ≤, →), else Pillow's bundled font."""
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def text_size(text: str, size: int = 12) -> tuple[int, int]:
    left, top, right, bottom = font(size).getbbox(text)
    return right - left, bottom - top


def draw_text(
    rgb: np.ndarray,
    xy: tuple[int, int],
    text: str,
    color: Color = FOREGROUND,
    size: int = 12,
    background: Color | None = None,
) -> np.ndarray:
    """Text drawn onto a copy of `rgb` (with an optional box behind it)."""
    img = Image.fromarray(rgb)
    d = ImageDraw.Draw(img)
    if background is not None:
        w, h = text_size(text, size)
        d.rectangle([xy[0] - 2, xy[1] - 1, xy[0] + w + 3, xy[1] + h + 5], fill=background)
    d.text(xy, text, fill=color, font=font(size))
    return np.asarray(img).copy()


def titled(rgb: np.ndarray, title: str, size: int = 12, pad: int = 4) -> np.ndarray:
    """`rgb` with a caption strip above it."""
    h = text_size("Ag", size)[1] + 2 * pad + 2
    out = canvas(rgb.shape[0] + h, max(rgb.shape[1], text_size(title, size)[0] + 2 * pad))
    out[h : h + rgb.shape[0], : rgb.shape[1]] = rgb
    return draw_text(out, (pad, pad), title, size=size)


def hstack(images: Sequence[np.ndarray], gap: int = 6, color: Color = BACKGROUND) -> np.ndarray:
    """Side by side, top-aligned, `gap` pixels apart."""
    H = max(im.shape[0] for im in images)
    W = sum(im.shape[1] for im in images) + gap * (len(images) - 1)
    out, x = canvas(H, W, color), 0
    for im in images:
        out[: im.shape[0], x : x + im.shape[1]] = im
        x += im.shape[1] + gap
    return out


def vstack(images: Sequence[np.ndarray], gap: int = 6, color: Color = BACKGROUND) -> np.ndarray:
    """One above the other, left-aligned, `gap` pixels apart."""
    W = max(im.shape[1] for im in images)
    H = sum(im.shape[0] for im in images) + gap * (len(images) - 1)
    out, y = canvas(H, W, color), 0
    for im in images:
        out[y : y + im.shape[0], : im.shape[1]] = im
        y += im.shape[0] + gap
    return out


def grid_of(images: Sequence[np.ndarray], columns: int, gap: int = 6) -> np.ndarray:
    """Row-major grid of equally treated tiles."""
    rows = [hstack(images[i : i + columns], gap) for i in range(0, len(images), columns)]
    return vstack(rows, gap)


def fit_scale(size: int, target: int) -> int:
    """Integer upscale factor that brings `size` to at least ~`target` pixels (>= 1)."""
    return max(1, int(round(target / max(size, 1))))
