"""Text in pictures, for every view: one font, one glyph fallback, two ways to draw.

The font is DejaVu Sans when the system has it (it draws × Δ σ τ ≤ → ‖ − ₂ …), else
Pillow's bundled font; only then are the symbols it lacks spelled in ASCII (`safe`).

- `draw_labels(rgb, labels)`: the fast path for numpy pictures; each string is rendered
  once into a cached coverage sprite and alpha-blitted in place (no Pillow round trip of
  the whole picture). `text_strip` is one string on its own small cached picture.
- `put_text(d, xy, text, ...)`: onto a Pillow `ImageDraw`, with Pillow's anchors, for the
  diagram-like views that draw their boxes, arrows and charts with Pillow anyway.

Both measure and draw the same `safe` string with the same font, so `measure` and
`text_strip` sizes match what is drawn. Qt-free.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .draw import BACKGROUND, FOREGROUND, Color, canvas, fill_rect

FONT_FILES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# ASCII look-alikes, used only for characters the font cannot draw
FALLBACK = {
    "×": "x", "·": "-", "→": "->", "↔": "<->", "‖": "||", "≥": ">=", "≤": "<=", "≈": "~",
    "—": "-", "–": "-", "−": "-", "²": "^2", "₂": "2", "…": "...", "±": "+-", "Δ": "d",
    "σ": "sigmoid", "τ": "tau",
}  # fmt: skip
NOT_A_CHARACTER = "\u0378"  # an unassigned code point: every font draws its 'missing' box

Label = tuple[tuple[int, int], str, Color, int, Color | None]  # xy, text, colour, size, box


@lru_cache(maxsize=16)
def font(size: int = 12) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans when installed, else Pillow's bundled font."""
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow < 10.1 or no FreeType: bitmap font
        return ImageFont.load_default()


def _mask_bytes(ch: str, size: int) -> tuple:
    mask = font(size).getmask(ch)
    return mask.size, bytes(mask) if mask.size[0] else b""


@lru_cache(maxsize=512)
def has_glyph(ch: str, size: int = 12) -> bool:
    """False when the font would draw its 'missing glyph' box for `ch`."""
    return _mask_bytes(ch, size) != _mask_bytes(NOT_A_CHARACTER, size)


def safe(text: str, size: int = 12) -> str:
    """`text` with the characters the font lacks replaced by ASCII look-alikes ('?' when
    there is none); unchanged with DejaVu Sans."""
    if text.isascii():
        return text
    return "".join(
        ch if ch.isascii() or has_glyph(ch, size) else FALLBACK.get(ch, "?") for ch in text
    )


def measure(text: str, size: int = 12) -> tuple[int, int]:
    """(width, height) of the ink of `text` as drawn here."""
    left, top, right, bottom = font(size).getbbox(safe(text, size))
    return int(right - left), int(bottom - top)


def put_text(
    d: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    fill: Color = FOREGROUND,
    size: int = 12,
    anchor: str = "la",
) -> None:
    """Text on a Pillow drawing; `anchor` as in Pillow ('la' left-top, 'mm' centre, 'ra'
    right-top, 'lm' left-middle)."""
    d.text(xy, safe(text, size), fill=fill, font=font(size), anchor=anchor)


@lru_cache(maxsize=4096)
def sprite(text: str, size: int) -> tuple[np.ndarray, int, int]:
    """Coverage (h, w, 1) float32 in [0, 1] of a string, and its (dx, dy) from the
    anchor point (Pillow's left-top 'la' anchor)."""
    f, text = font(size), safe(text, size)
    left, top, right, bottom = f.getbbox(text)
    img = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(img).text((-left, -top), text, fill=255, font=f)
    return np.asarray(img, np.float32)[..., None] / 255.0, int(left), int(top)


def draw_labels(rgb: np.ndarray, labels: list[Label]) -> np.ndarray:
    """Text labels blitted from cached sprites (each with an optional box behind it),
    clipped to the picture, in place; returns `rgb`."""
    H, W = rgb.shape[:2]
    for (x, y), text, color, size, box in labels:
        alpha, dx, dy = sprite(text, size)
        h, w = alpha.shape[:2]
        x0, y0 = x + dx, y + dy
        if box is not None:
            fill_rect(rgb, x0 - 2, y0 - 2, w + 4, h + 4, box)
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        a = alpha[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        region = rgb[cy0:cy1, cx0:cx1]
        region[:] = (region * (1 - a) + np.asarray(color, np.float32) * a + 0.5).astype(np.uint8)
    return rgb


@lru_cache(maxsize=2048)
def text_strip(
    text: str, size: int = 12, color: Color = FOREGROUND, bg: Color = BACKGROUND
) -> np.ndarray:
    """One line of text on its own small picture (read-only uint8 RGB), laid out as
    Pillow would draw it at (1, 0) on an image of its bounding box plus 3 pixels."""
    _, _, right, bottom = font(size).getbbox(safe(text, size) or " ")
    out = canvas(int(bottom) + 3, int(right) + 3, bg)
    draw_labels(out, [((1, 0), text, color, size, None)])
    out.setflags(write=False)
    return out


def titled(rgb: np.ndarray, title: str, size: int = 12, pad: int = 4) -> np.ndarray:
    """`rgb` with a caption strip above it."""
    h = measure("Ag", size)[1] + 2 * pad + 2
    out = canvas(rgb.shape[0] + h, max(rgb.shape[1], measure(title, size)[0] + 2 * pad))
    out[h : h + rgb.shape[0], : rgb.shape[1]] = rgb
    return draw_labels(out, [((pad, pad), title, FOREGROUND, size, None)])
