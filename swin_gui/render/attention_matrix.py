"""N x N matrices (attention, position bias) as pictures, and the small pieces the attention
and bias views share: the sequential-colormap rule, tile-grid layout and the mask legend.

Masked entries (where the shift mask put -100 on the logit) are drawn as masked: a grey
cell crossed by an X (a grey diagonal hatch when cells are tiny), never as a colour.
`render_attention_matrix(trace, selection)` is the matrix on its own, as a `Picture`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..analysis.attention import masked_entries, query_attention, window_matrix
from .chart import MUTED
from .colormap import apply_colormap, is_diverging
from .draw import Color, canvas, draw_rect, paste, upscale
from .selection import Picture, Selection
from .text import text_strip

MASK_FILL: Color = (74, 74, 78)
MASK_CROSS: Color = (168, 168, 174)
HIGHLIGHT: Color = (255, 255, 255)
SELECTED: Color = (255, 235, 59)  # selected head tile outline (matches the canvas hover colour)
GAP = 10
MATRIX_TARGET = 480  # an N x N matrix is drawn about this many pixels wide
FRAME = 2  # border around a matrix, where the query-row outline goes


# ---- shared pieces -------------------------------------------------------------------------
def sequential(name: str) -> str:
    """`name` unless it is a diverging map (probabilities need a sequential one)."""
    return "viridis" if is_diverging(name) else name


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
    text = text_strip("masked by the shift mask (-100 before softmax)", 11, MUTED)
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
