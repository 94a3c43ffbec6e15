"""The per-head attention view: where does the selected token look, head by head?

Top: one tile per head plus the mean over heads, each the input image (dimmed) with the
query's attention over its window painted on the tokens the window really holds. Keys are
mapped back through the cyclic shift (`BlockTrace.window_tokens`), so a window that the roll
wrapped around the border lights up the opposite edges of the image. Tiles cover the block's
padded grid: the padded border is hatched and padding keys are painted there too. The query
token carries a crosshair, the selected head's tile a yellow outline.
Bottom: the window's N x N attention matrix for the selected head (mean when None) with the
query row outlined and masked entries crossed out.

One colour scale for the whole picture: probability from 0 to the selected query's largest
attention (all heads), so the tiles compare directly and stay readable where some other
query of the window attends sharply (the matrix saturates above it, as the notes say).
`Picture.data` is (heads + 1, H_s, W_s): the maps on the stage grid, NaN outside the window,
the last map being the mean over heads; padding keys are not on the grid (their mass is in
the notes). `attention_layout` and `hit_test` map picture pixels back to heads/tokens/cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.attention import (
    QueryAttention,
    map_to_grid,
    masked_entries,
    query_attention,
    window_matrix,
)
from .attention_matrix import (
    FRAME,
    GAP,
    HIGHLIGHT,
    SELECTED,
    grid_positions,
    mask_legend,
    matrix_cell,
    matrix_rgb,
    sequential,
)
from .cache import TraceCache
from .chart import MUTED, colorbar
from .colormap import colormap_lut
from .draw import canvas, draw_rect, hatch, paste
from .grid import ring_spans
from .selection import Picture, Selection, view_shift
from .text import text_strip

ALPHA = 0.75  # weight of the colour over the image on the window's tokens
DIM = 0.35  # brightness of the image outside the window
TILE_BUDGET = 420_000  # tiles are downscaled (x2, x4) until all of them hold fewer pixels
MAX_WIDTH = 1100
HEADING_H = 28
TITLE_H = 18
COLORBAR_W = 96
WINDOW_LINE = (200, 200, 200)

_CACHE = TraceCache()  # layouts, dimmed tiles, window pieces, static frames
_PAINTED = TraceCache(traces=1, entries=4)  # tiles painted for a token: head changes reuse them


@dataclass(frozen=True)
class Slot:
    """One head tile: its image area (x, y, w, h) in picture pixels and its title row."""

    head: int | None  # None = mean over heads
    x: int
    y: int
    w: int
    h: int
    title_y: int


@dataclass(frozen=True)
class AttentionLayout:
    """Where everything sits in the attention picture (depends on the block, not the token)."""

    stage: int
    block: int
    down: int  # input pixels per tile pixel
    token_px: int  # input pixels per token: patch * 2**stage
    resolution: tuple[int, int]  # H_s, W_s
    slots: tuple[Slot, ...]
    matrix: tuple[int, int]  # top-left of matrix cell (0, 0)
    cell: int
    n: int
    colorbar: tuple[int, int]
    size: tuple[int, int]

    @property
    def tile_token(self) -> int:
        """Side of one token in a tile, in picture pixels."""
        return self.token_px // self.down


@dataclass(frozen=True)
class Hit:
    """What lies under a picture pixel: a tile's title, a token in a tile, or a matrix cell."""

    kind: str  # "title" | "tile" | "matrix"
    head: int | None = None
    token: tuple[int, int] | None = None  # tile: stage-grid token (None on padding)
    cell: tuple[int, int] | None = None  # matrix: (query i, key j)


# ---- layout and hit testing ------------------------------------------------------------------
def attention_layout(trace, stage: int, block: int) -> AttentionLayout:
    return _CACHE.get(trace, ("layout", stage, block), lambda: _layout(trace, stage, block))


def _layout(trace, stage: int, block: int) -> AttentionLayout:
    bt = trace.block(stage, block)
    tp = trace.token_pixels(stage)
    Hp, Wp = bt.padded
    heads: list[int | None] = [*range(bt.heads), None]
    down = 1
    while len(heads) * Hp * Wp * tp * tp > TILE_BUDGET * down * down and down * 2 <= tp:
        down *= 2
    th, tw = Hp * tp // down, Wp * tp // down
    cells = grid_positions(len(heads), tw, th + TITLE_H, MAX_WIDTH)
    slots = tuple(
        Slot(h, GAP + x, HEADING_H + y + TITLE_H, tw, th, HEADING_H + y)
        for h, (x, y) in zip(heads, cells, strict=True)
    )
    grid_w = max(s.x + s.w for s in slots)
    bottom = max(s.y + s.h for s in slots)
    n = bt.tokens_per_window
    cell = matrix_cell(n)
    matrix = (GAP + FRAME, bottom + GAP + 2 * TITLE_H + FRAME)
    width = max(grid_w + 2 * GAP + COLORBAR_W, matrix[0] + n * cell + 3 * GAP + 330)
    height = matrix[1] + n * cell + FRAME + GAP
    return AttentionLayout(
        stage, block, down, tp, bt.resolution, slots, matrix, cell, n,
        (grid_w + 2 * GAP, HEADING_H + TITLE_H), (height, width),
    )  # fmt: skip


def hit_test(layout: AttentionLayout, x: float, y: float) -> Hit | None:
    """The head tile / token / matrix cell under picture pixel (x, y), or None."""
    for s in layout.slots:
        if not s.x <= x < s.x + s.w:
            continue
        if s.title_y <= y < s.y:
            return Hit("title", s.head)
        if s.y <= y < s.y + s.h:
            r = int((y - s.y) // layout.tile_token)
            c = int((x - s.x) // layout.tile_token)
            H, W = layout.resolution
            return Hit("tile", s.head, (r, c) if r < H and c < W else None)
    mx, my = layout.matrix
    i, j = int((y - my) // layout.cell), int((x - mx) // layout.cell)
    if x >= mx and y >= my and i < layout.n and j < layout.n:
        return Hit("matrix", cell=(i, j))
    return None


def token_rect(layout: AttentionLayout, slot: Slot, token: tuple[int, int]):
    """(x, y, w, h) of a stage-grid token inside a head tile, in picture pixels."""
    t = layout.tile_token
    return slot.x + token[1] * t, slot.y + token[0] * t, t, t


# ---- cached pieces --------------------------------------------------------------------------
def _tile_base(trace, layout: AttentionLayout) -> tuple[np.ndarray, np.ndarray]:
    """(dimmed tile, image part of the colour blend): the padded grid's extent at tile scale,
    the input image in its top-left corner, the padded border hatched."""
    Hp, Wp = trace.block(layout.stage, layout.block).padded
    tp = layout.token_px
    full = canvas(Hp * tp, Wp * tp)
    image = trace.image[: Hp * tp, : Wp * tp]
    full[: image.shape[0], : image.shape[1]] = image
    padding = np.ones(full.shape[:2], bool)
    padding[: image.shape[0], : image.shape[1]] = False
    hatch(full, padding)
    small = full[:: layout.down, :: layout.down].astype(np.float32)  # th, tw, 3
    return (small * DIM).astype(np.uint8), np.floor(small * (1 - ALPHA)).astype(np.uint8)


def _window_pieces(trace, layout: AttentionLayout, window: int) -> list[tuple]:
    """The rectangles (y0, y1, x0, x1 in tile pixels, key position (h, w), image part
    (h, w, 3)) a window covers: one, or up to four when the roll wrapped it around."""
    bt = trace.block(layout.stage, layout.block)
    Hp, Wp = bt.padded
    M, s, t = bt.window, bt.shift, layout.tile_token
    _, part = _CACHE.get(
        trace, ("base", layout.stage, layout.block), lambda: _tile_base(trace, layout)
    )
    wr, wc = divmod(window, Wp // M)
    pieces = []
    for r0, r1 in ring_spans(wr * M + s, M, Hp):
        for c0, c1 in ring_spans(wc * M + s, M, Wp):
            rows = (np.arange(r0, r1) - s) % Hp % M  # position row of each token row
            cols = (np.arange(c0, c1) - s) % Wp % M
            pos = np.repeat(np.repeat(rows[:, None] * M + cols[None, :], t, 0), t, 1)  # h, w
            y0, y1, x0, x1 = r0 * t, r1 * t, c0 * t, c1 * t
            pieces.append((y0, y1, x0, x1, pos, part[y0:y1, x0:x1]))
    return pieces


def _frame(trace, layout: AttentionLayout) -> np.ndarray:
    """Everything that does not depend on the token or head: titles, dimmed tiles, legend."""
    dim, _ = _CACHE.get(
        trace, ("base", layout.stage, layout.block), lambda: _tile_base(trace, layout)
    )
    out = canvas(*layout.size)
    for s in layout.slots:
        name = "mean of heads" if s.head is None else f"head {s.head}"
        paste(out, text_strip(name), s.x, s.title_y + 2)
        paste(out, dim, s.x, s.y)
    mx, my = layout.matrix
    legend_y = my - FRAME - TITLE_H
    legend = "rows: query i · columns: key j (positions in the window, row-major)"
    text = text_strip(legend, 11, MUTED)
    paste(out, text, mx, legend_y)
    paste(out, mask_legend(), mx + text.shape[1] + 2 * GAP, legend_y)
    return out


# ---- drawing ------------------------------------------------------------------------------------
def _paint_tiles(rgb, trace, layout, q: QueryAttention, hi: float, cmap: str) -> None:
    """Colour every head tile's window tokens by the query's attention, in place."""
    pieces = _CACHE.get(
        trace, ("pieces", layout.stage, layout.block, q.window),
        lambda: _window_pieces(trace, layout, q.window),
    )  # fmt: skip
    lut = np.floor(colormap_lut(cmap).astype(np.float32) * ALPHA).astype(np.uint8)  # 256, 3
    index = np.clip(np.rint(q.rows / hi * 255), 0, 255).astype(np.intp)  # heads+1, N
    for k, s in enumerate(layout.slots):
        colours = lut[index[k]]  # N, 3
        for y0, y1, x0, x1, pos, part in pieces:
            rgb[s.y + y0 : s.y + y1, s.x + x0 : s.x + x1] = part + colours[pos]
        tile = rgb[s.y : s.y + s.h, s.x : s.x + s.w]
        for y0, y1, x0, x1, *_ in pieces:  # the window (its pieces when the roll wrapped it)
            draw_rect(tile, x0, y0, x1 - x0, y1 - y0, WINDOW_LINE, 1)


def _mark_query(rgb: np.ndarray, layout: AttentionLayout, token: tuple[int, int]) -> None:
    """A crosshair (outlined square plus four arms) on the query token of every tile."""
    for s in layout.slots:
        tile = rgb[s.y : s.y + s.h, s.x : s.x + s.w]
        x, y, t, _ = token_rect(layout, s, token)
        x, y = x - s.x, y - s.y
        arm = max(4, t)
        draw_rect(tile, x - 2, y - 2, t + 4, t + 4, (0, 0, 0), 1)
        draw_rect(tile, x - 1, y - 1, t + 2, t + 2, HIGHLIGHT, 1)
        cx, cy = x + t // 2, y + t // 2
        for x0, y0, w, h in (
            (x - 2 - arm, cy, arm, 1), (x + t + 2, cy, arm, 1),
            (cx, y - 2 - arm, 1, arm), (cx, y + t + 2, 1, arm),
        ):  # fmt: skip
            tile[max(0, y0) : max(0, y0 + h), max(0, x0) : max(0, x0 + w)] = HIGHLIGHT


def _painted(trace, layout: AttentionLayout, q: QueryAttention, hi: float, cmap: str):
    """The static frame with every head tile painted for this query (no head outline)."""
    frame = _CACHE.get(trace, ("frame", layout.stage, layout.block), lambda: _frame(trace, layout))
    rgb = frame.copy()
    _paint_tiles(rgb, trace, layout, q, hi, cmap)
    _mark_query(rgb, layout, q.token)
    paste(rgb, colorbar(cmap, (0.0, hi), "probability"), *layout.colorbar)
    return rgb


def _outline_head(rgb: np.ndarray, layout: AttentionLayout, head: int | None) -> None:
    for s in layout.slots:
        if s.head == head:
            draw_rect(rgb, s.x - 4, s.title_y - 2, s.w + 8, s.y - s.title_y + s.h + 6, SELECTED, 2)


def _heading(trace, sel: Selection, q: QueryAttention) -> str:
    bt = trace.block(sel.stage, sel.block)
    M = bt.window
    return (
        f"Attention · stage {sel.stage} · block {sel.block} ({bt.kind}, shift {bt.shift}) · "
        f"query {q.token} -> window {q.window}, position {q.position} "
        f"= ({q.position // M}, {q.position % M})"
    )


def _notes(trace, sel: Selection, q: QueryAttention, hi: float, masked: int) -> tuple[str, ...]:
    bt = trace.block(sel.stage, sel.block)
    notes = [
        f"colour: probability 0 … {hi:.3g} (this query's largest, all heads; higher saturates)"
    ]
    shown = view_shift(bt, sel)
    if shown != bt.shift:
        notes.append(
            f"the shift toggle draws shift {shown}; attention is shown as the block computed it "
            f"(shift {bt.shift})"
        )
    if bt.nominal_shift and not bt.shift:
        H, W = bt.resolution
        notes.append(f"no shift here: the grid {H}x{W} fits in one window (M = {bt.window})")
    rows, cols = q.keys[:, 0], q.keys[:, 1]
    if np.ptp(rows) >= bt.window or np.ptp(cols) >= bt.window:
        notes.append(
            "this window wraps around the border (cyclic shift): its keys sit on opposite edges"
        )
    if q.padding.any():
        mass = q.padding_mass()  # heads+1
        notes.append(
            f"{int(q.padding.sum())} padding keys (hatched, not on the image) take "
            f"{mass[-1]:.1%} of the attention on average "
            f"(heads {mass[:-1].min():.1%} … {mass[:-1].max():.1%})"
        )
    if masked:
        notes.append(
            f"{masked} of {bt.tokens_per_window**2} matrix entries masked by the shift mask"
        )
    return tuple(notes)


def render_attention(trace, selection: Selection) -> Picture:
    """Per-head attention of the selected token (default: the centre token) over its window,
    every head and the mean over heads on the image, plus the window's N x N matrix."""
    sel = selection
    bt = trace.block(sel.stage, sel.block)
    layout = attention_layout(trace, sel.stage, sel.block)
    cmap = sequential(sel.colormap)
    q = query_attention(bt, sel.token)
    hi = float(q.rows.max()) or 1.0
    rgb = _PAINTED.get(
        trace, (sel.stage, sel.block, q.token, cmap), lambda: _painted(trace, layout, q, hi, cmap)
    ).copy()
    paste(rgb, text_strip(_heading(trace, sel, q), 13), GAP, 4)
    _outline_head(rgb, layout, sel.head)
    masked = masked_entries(bt, q.window)  # N, N
    values = window_matrix(bt, q.window, sel.head)  # N, N
    matrix = matrix_rgb(values, cmap, (0.0, hi), layout.cell, masked, q.position)
    paste(rgb, matrix, layout.matrix[0] - FRAME, layout.matrix[1] - FRAME)
    head = "mean of heads" if sel.head is None else f"head {sel.head}"
    title = f"Window {q.window} · {head} · {layout.n}x{layout.n} attention, query row outlined"
    paste(rgb, text_strip(title), layout.matrix[0], layout.matrix[1] - FRAME - 2 * TITLE_H)
    maps, _ = map_to_grid(q.rows, q.keys, bt.resolution)  # heads+1, H, W
    return Picture(
        rgb=rgb,
        data=maps,
        title=f"Attention · stage {sel.stage} · block {sel.block} · {bt.kind} · {head}",
        units="probability",
        levels=(0.0, hi),
        colormap=cmap,
        scale=1.0 / layout.down,
        notes=_notes(trace, sel, q, hi, int(masked.sum())),
    )
