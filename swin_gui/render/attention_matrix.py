"""N x N matrices (attention, position bias) as pictures, and the small pieces the attention
and bias views share: cached text labels, a colour bar with units, tile-grid layout, and a
per-trace cache so that a token or head change re-renders within a frame.

Masked entries (where the shift mask put -100 on the logit) are drawn as masked: a grey
cell crossed by an X (a grey diagonal hatch when cells are tiny), never as a colour.
`render_attention_matrix(trace, selection)` is the matrix on its own, as a `Picture`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ..analysis.attention import masked_entries, query_attention, window_matrix
from .colormap import apply_colormap, colormap_lut, is_diverging
from .draw import BACKGROUND, FOREGROUND, Color, canvas, draw_rect, font, upscale
from .selection import Picture, Selection

MASK_FILL: Color = (74, 74, 78)
MASK_CROSS: Color = (168, 168, 174)
HIGHLIGHT: Color = (255, 255, 255)
SELECTED: Color = (255, 235, 59)  # selected head tile outline (matches the canvas hover colour)
MUTED: Color = (160, 164, 170)
GAP = 10
MATRIX_TARGET = 480  # an N x N matrix is drawn about this many pixels wide
COLORBAR_WIDTH = 14
FRAME = 2  # border around a matrix, where the query-row outline goes


# ---- per-trace cache ---------------------------------------------------------------------------
class TraceCache:
    """Small cache of derived arrays keyed by (trace identity, key). Holds at most `traces`
    traces; an entry dies with its trace (checked through a weak reference)."""

    def __init__(self, traces: int = 2, entries: int = 256) -> None:
        self._traces, self._entries = traces, entries
        self._store: dict[int, tuple[weakref.ref, dict[Hashable, Any]]] = {}

    def get(self, trace: Any, key: Hashable, build: Callable[[], Any]) -> Any:
        slot = self._store.get(id(trace))
        if slot is None or slot[0]() is not trace:
            self._store.pop(id(trace), None)
            while len(self._store) >= self._traces:
                self._store.pop(next(iter(self._store)))
            slot = (weakref.ref(trace), {})
            self._store[id(trace)] = slot
        entries = slot[1]
        if key not in entries:
            if len(entries) >= self._entries:
                entries.pop(next(iter(entries)))
            entries[key] = build()
        return entries[key]


# ---- text and colour bar ---------------------------------------------------------------------
@lru_cache(maxsize=2048)
def label(text: str, size: int = 12, color: Color = FOREGROUND, bg: Color = BACKGROUND):
    """A text strip (read-only uint8 RGB). A leading 'Δ' is drawn as a triangle, since the
    default font has no Greek letters."""
    delta = text.startswith("Δ")
    body = text[1:] if delta else text
    f = font(size)
    _, _, right, bottom = f.getbbox(body or " ")
    tri = (size * 2) // 3 + 2 if delta else 0
    img = Image.new("RGB", (right + tri + 3, bottom + 3), bg)
    d = ImageDraw.Draw(img)
    if delta:
        top, base = bottom - size * 2 // 3, bottom
        d.polygon([(1, base), (tri - 2, base), ((tri - 1) // 2, top)], outline=color)
    d.text((tri + 1, 0), body, fill=color, font=f)
    out = np.asarray(img).copy()
    out.setflags(write=False)
    return out


def paste(dst: np.ndarray, src: np.ndarray, x: int, y: int) -> None:
    """Copy `src` into `dst` with its top-left at (x, y), clipped, in place."""
    H, W = dst.shape[:2]
    h, w = src.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 > x0 and y1 > y0:
        dst[y0:y1, x0:x1] = src[y0 - y : y1 - y, x0 - x : x1 - x]


def sequential(name: str) -> str:
    """`name` unless it is a diverging map (probabilities need a sequential one)."""
    return "viridis" if is_diverging(name) else name


def colorbar(cmap: str, levels: tuple[float, float], units: str, height: int = 180):
    """A vertical colour bar (top = high) with its top, middle and bottom values and units."""
    ramp = colormap_lut(cmap)[::-1]  # 256, 3: top row is the high end
    rows = np.linspace(0, 255, height).round().astype(int)
    bar = np.repeat(ramp[rows][:, None, :], COLORBAR_WIDTH, axis=1)  # height, w, 3
    lo, hi = levels
    ticks = [(0, hi), (height // 2, (lo + hi) / 2), (height - 1, lo)]
    texts = [label(f"{v:.3g}", 11) for _, v in ticks]
    unit = label(units, 11, MUTED)
    width = max(COLORBAR_WIDTH + 8 + max(t.shape[1] for t in texts), unit.shape[1])
    out = canvas(height + unit.shape[0] + 16, width)
    paste(out, unit, 0, 0)
    top = unit.shape[0] + 7
    paste(out, bar, 1, top)
    draw_rect(out, 0, top - 1, COLORBAR_WIDTH + 2, height + 2, MUTED, 1)  # frame outside
    for (y, _), t in zip(ticks, texts, strict=True):
        paste(out, t, COLORBAR_WIDTH + 7, top + y - t.shape[0] // 2)
    return out


def grid_positions(n: int, w: int, h: int, max_width: int, gap: int = GAP) -> list[tuple[int, int]]:
    """Top-left (x, y) of n equal tiles in a balanced row-major grid at most `max_width` wide."""
    cols_max = max(1, (max_width + gap) // (w + gap))
    rows = -(-n // cols_max)
    cols = -(-n // rows)
    return [((i % cols) * (w + gap), (i // cols) * (h + gap)) for i in range(n)]


# ---- the matrix --------------------------------------------------------------------------------
def matrix_cell(n: int) -> int:
    """Pixels per matrix cell so an n x n matrix is about MATRIX_TARGET wide (1..12)."""
    return max(1, min(12, MATRIX_TARGET // n))


@lru_cache(maxsize=16)
def _cross_pattern(n: int, cell: int) -> np.ndarray:
    """(n*cell, n*cell) bool: an X in every cell (a diagonal hatch when cells are tiny)."""
    y, x = np.indices((cell, cell))
    stamp = (x == y) | (x == cell - 1 - y) if cell >= 4 else (x + y) % 2 == 0
    out = np.tile(stamp, (n, n))
    out.setflags(write=False)
    return out


def matrix_rgb(
    values: np.ndarray,
    cmap: str,
    levels: tuple[float, float],
    cell: int,
    masked: np.ndarray | None = None,
    row: int | None = None,
) -> np.ndarray:
    """(N, N) values -> RGB with `cell` px per entry inside a FRAME-px border; masked
    entries grey with an X; the query `row` outlined in the border."""
    n = values.shape[0]
    rgb = upscale(apply_colormap(values, cmap, levels), cell)  # N*cell, N*cell, 3
    if masked is not None and masked.any():
        m = upscale(masked, cell)
        rgb[m] = MASK_FILL
        rgb[m & _cross_pattern(n, cell)] = MASK_CROSS
    framed = canvas(rgb.shape[0] + 2 * FRAME, rgb.shape[1] + 2 * FRAME)
    framed[FRAME:-FRAME, FRAME:-FRAME] = rgb
    if row is not None:
        draw_rect(framed, 0, row * cell, n * cell + 2 * FRAME, cell + 2 * FRAME, HIGHLIGHT, 2)
    return framed


def mask_legend() -> np.ndarray:
    """A sample masked cell and what it means."""
    swatch = matrix_rgb(np.zeros((1, 1)), "gray", (0, 1), 12, np.ones((1, 1), bool))
    text = label("masked by the shift mask (-100 before softmax)", 11, MUTED)
    out = canvas(max(12, text.shape[0]), 12 + 6 + text.shape[1])
    paste(out, swatch, 0, 0)
    paste(out, text, 18, 0)
    return out


def render_attention_matrix(trace, selection: Selection) -> Picture:
    """The N x N attention of the selected token's window (as the block computed it) for the
    selected head (mean when None), query row outlined, masked entries crossed out.
    `data` is the (N, N) matrix."""
    block = trace.block(selection.stage, selection.block)
    q = query_attention(block, selection.token)
    values = window_matrix(block, q.window, selection.head)  # N, N
    masked = masked_entries(block, q.window)  # N, N
    cmap = sequential(selection.colormap)
    levels = (0.0, float(block.attn[q.window].max()) or 1.0)
    rgb = matrix_rgb(values, cmap, levels, matrix_cell(len(values)), masked, q.position)
    head = "mean of heads" if selection.head is None else f"head {selection.head}"
    return Picture(
        rgb=rgb,
        data=values,
        title=f"Attention matrix · window {q.window} · {head}",
        units="probability",
        levels=levels,
        colormap=cmap,
        scale=float(matrix_cell(len(values))),
        notes=(f"{int(masked.sum())} masked entries (shift mask)",),
    )
