"""The relative position bias view: what each head adds to a logit for a key at offset
(Δrow, Δcol) from the query, and how that table expands to the N x N bias of a window.

Top: one (2M-1) x (2M-1) table per head (plus their mean), rebuilt from the (heads, N, N)
bias the block added (`analysis.attention.bias_table`). Rows are Δrow = y_query - y_key from
-(M-1) at the top to M-1 at the bottom, columns Δcol likewise; the centre cell (0, 0), a token
attending to itself, is outlined. v1 learns the table directly: a diverging map centred at 0,
in additive logits. v2 computes it with a small MLP on log-spaced offsets, squashed to
16·sigmoid(.) in 0..16: a sequential map, and the per-head logit scale τ in the notes.
Bottom: the N x N bias for the selected head (mean when None), the same for every window,
with the selected token's row outlined. `Picture.data` is the (heads, 2M-1, 2M-1) table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.attention import bias_table, default_token, expand_bias_table
from .attention import Hit
from .attention_matrix import (
    FRAME,
    GAP,
    SELECTED,
    grid_positions,
    matrix_cell,
    matrix_rgb,
    sequential,
)
from .cache import TraceCache
from .chart import MUTED, colorbar
from .colormap import apply_colormap, is_diverging, symmetric_levels
from .draw import canvas, draw_rect, paste, upscale
from .selection import Picture, Selection
from .text import text_strip

TABLE_TARGET = 150  # a (2M-1)-cell table is drawn about this many pixels wide
MAX_WIDTH = 1000
HEADING_H = 28
TITLE_H = 18
AXIS_W = 30  # room left of a table for the Δrow ticks
AXIS_H = 28  # room below a table for the Δcol ticks and label
COLORBAR_W = 130

_CACHE = TraceCache()


@dataclass(frozen=True)
class BiasSlot:
    head: int | None  # None = mean over heads
    x: int  # top-left of the table cells
    y: int
    title_y: int


@dataclass(frozen=True)
class BiasLayout:
    """Where the tables and the N x N expansion sit in the bias picture."""

    stage: int
    block: int
    window: int  # M
    table_cell: int
    slots: tuple[BiasSlot, ...]
    matrix: tuple[int, int]  # top-left of expansion cell (0, 0)
    cell: int
    colorbar: tuple[int, int]
    size: tuple[int, int]

    @property
    def side(self) -> int:
        """Table side in pixels: (2M-1) cells."""
        return (2 * self.window - 1) * self.table_cell


@dataclass(frozen=True)
class BiasStyle:
    """How a block's bias is coloured: v1 diverging around 0, v2 sequential."""

    cmap: str
    levels: tuple[float, float]
    units: str


def bias_style(trace, table: np.ndarray, colormap: str) -> BiasStyle:
    """Colours for a (heads, 2M-1, 2M-1) table of this trace's Swin version."""
    if trace.config.version == 2:
        lo, hi = float(table.min()), float(table.max())
        return BiasStyle(
            sequential(colormap), (lo, hi if hi > lo else lo + 1), "additive logit (16·σ(MLP))"
        )
    cmap = colormap if is_diverging(colormap) else "coolwarm"
    return BiasStyle(cmap, symmetric_levels(table), "additive logit")


# ---- layout and hit testing ---------------------------------------------------------------------
def bias_layout(trace, stage: int, block: int) -> BiasLayout:
    return _CACHE.get(trace, ("layout", stage, block), lambda: _layout(trace, stage, block))


def _layout(trace, stage: int, block: int) -> BiasLayout:
    bt = trace.block(stage, block)
    M = bt.window
    tcell = max(2, TABLE_TARGET // (2 * M - 1))
    side = (2 * M - 1) * tcell
    heads: list[int | None] = [*range(bt.heads), None]
    cells = grid_positions(len(heads), AXIS_W + side, TITLE_H + side + AXIS_H, MAX_WIDTH)
    slots = tuple(
        BiasSlot(h, GAP + AXIS_W + x, HEADING_H + TITLE_H + y, HEADING_H + y)
        for h, (x, y) in zip(heads, cells, strict=True)
    )
    grid_w = max(s.x + side for s in slots)
    bottom = max(s.y + side + AXIS_H for s in slots)
    n = bt.tokens_per_window
    cell = matrix_cell(n)
    matrix = (GAP + FRAME, bottom + GAP + 2 * TITLE_H + FRAME)
    units = bias_style(trace, bias_table(bt.bias, M), "viridis").units
    bar_w = max(COLORBAR_W, text_strip(units, 11).shape[1] + GAP)
    width = max(grid_w + 2 * GAP + bar_w, matrix[0] + n * cell + GAP + 300)
    height = matrix[1] + n * cell + FRAME + GAP
    return BiasLayout(
        stage, block, M, tcell, slots, matrix, cell, (grid_w + 2 * GAP, HEADING_H + TITLE_H),
        (height, width),
    )  # fmt: skip


def bias_hit(layout: BiasLayout, x: float, y: float) -> Hit | None:
    """What lies under picture pixel (x, y): Hit("title", head), Hit("table", head,
    cell=(Δrow, Δcol)) on a table cell, Hit("matrix", cell=(i, j)) on the expansion."""
    side = layout.side
    for s in layout.slots:
        if s.x <= x < s.x + side and s.title_y <= y < s.y + side:
            if y < s.y:
                return Hit("title", s.head)
            M = layout.window
            dy = int((y - s.y) // layout.table_cell) - (M - 1)
            dx = int((x - s.x) // layout.table_cell) - (M - 1)
            return Hit("table", s.head, cell=(dy, dx))
    mx, my = layout.matrix
    n = layout.window**2
    i, j = int((y - my) // layout.cell), int((x - mx) // layout.cell)
    if x >= mx and y >= my and i < n and j < n:
        return Hit("matrix", cell=(i, j))
    return None


def slot_rect(layout: BiasLayout, slot: BiasSlot) -> tuple[int, int, int, int]:
    """(x, y, w, h) of a head's table, title and axes in picture pixels."""
    return (
        slot.x - AXIS_W - 4, slot.title_y - 2, AXIS_W + layout.side + 8,
        slot.y - slot.title_y + layout.side + AXIS_H + 4,
    )  # fmt: skip


def _tables(trace, stage: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """((heads, 2M-1, 2M-1) tables, (heads, N, N) their expansion), cached per block."""
    bt = trace.block(stage, block)
    tables = bias_table(bt.bias, bt.window)
    return tables, expand_bias_table(tables)


# ---- drawing --------------------------------------------------------------------------------
def _table_rgb(table: np.ndarray, style: BiasStyle, cell: int) -> np.ndarray:
    """One (2M-1)^2 table, upscaled, with the centre cell (offset 0, 0) outlined."""
    rgb = upscale(apply_colormap(table, style.cmap, style.levels), cell)
    c = (table.shape[0] // 2) * cell
    draw_rect(rgb, c - 1, c - 1, cell + 2, cell + 2, (0, 0, 0), 1)
    draw_rect(rgb, c, c, cell, cell, (255, 255, 255), 1)
    return rgb


def _axes(out: np.ndarray, slot: BiasSlot, layout: BiasLayout) -> None:
    """Δrow ticks left of a table, Δcol ticks and label below it."""
    M, t, side = layout.window, layout.table_cell, layout.side
    for k, v in ((0, -(M - 1)), (M - 1, 0), (2 * M - 2, M - 1)):
        tick = text_strip(str(v), 10, MUTED)
        paste(out, tick, slot.x - tick.shape[1] - 2, slot.y + k * t + t // 2 - tick.shape[0] // 2)
        paste(out, tick, slot.x + k * t + t // 2 - tick.shape[1] // 2, slot.y + side + 1)
    col = text_strip("Δcol", 10, MUTED)
    paste(out, col, slot.x + side // 2 - col.shape[1] // 2, slot.y + side + 13)
    row = np.ascontiguousarray(np.rot90(text_strip("Δrow", 10, MUTED)))
    paste(out, row, slot.x - AXIS_W, slot.y + side // 2 - row.shape[0] // 2)


def _frame(trace, layout: BiasLayout, colormap: str) -> np.ndarray:
    """Tables, titles, axes and the colour bar: all that a head or token change keeps."""
    tables, _ = _CACHE.get(
        trace, ("tables", layout.stage, layout.block),
        lambda: _tables(trace, layout.stage, layout.block),
    )  # fmt: skip
    style = bias_style(trace, tables, colormap)
    out = canvas(*layout.size)
    for s in layout.slots:
        table = tables.mean(axis=0) if s.head is None else tables[s.head]
        name = "mean of heads" if s.head is None else f"head {s.head}"
        paste(out, text_strip(name), s.x, s.title_y + 2)
        paste(out, _table_rgb(table, style, layout.table_cell), s.x, s.y)
        _axes(out, s, layout)
    paste(out, colorbar(style.cmap, style.levels, style.units), *layout.colorbar)
    mx, my = layout.matrix
    text = "rows: query i · columns: key j (positions in the window); the same in every window"
    paste(out, text_strip(text, 11, MUTED), mx, my - FRAME - TITLE_H)
    return out


def _heading(trace, sel: Selection) -> str:
    bt = trace.block(sel.stage, sel.block)
    version = "v2 continuous" if trace.config.version == 2 else "v1 learned table"
    return (
        f"Relative position bias ({version}) · stage {sel.stage} · block {sel.block} "
        f"({bt.kind}) · M = {bt.window}"
    )


def _notes(trace, sel: Selection, style: BiasStyle) -> tuple[str, ...]:
    bt = trace.block(sel.stage, sel.block)
    M = bt.window
    notes = [
        f"{bt.heads} heads · table of (2M-1)² = {(2 * M - 1) ** 2} offsets, M = {M}; "
        f"entry (Δrow, Δcol) = (y_query - y_key, x_query - x_key); centre = a token to itself",
        f"colour: {style.units}, {style.levels[0]:.3g} … {style.levels[1]:.3g}",
        "the N×N bias is added in every window before the shift mask and the softmax",
    ]
    if trace.config.version == 2:
        notes[1] += " (16·σ keeps it within 0 … 16)"
        if bt.logit_scale is not None:
            taus = ", ".join(f"h{h} {v:.3g}" for h, v in enumerate(bt.logit_scale))
            notes.append(f"cosine-attention logit scale τ = exp(min(logit_scale, log 100)): {taus}")
    return tuple(notes)


def render_bias(trace, selection: Selection) -> Picture:
    """The relative position bias of the selected block: every head's (2M-1)² table plus the
    mean, and the N x N expansion for the selected head with the selected token's row."""
    sel = selection
    bt = trace.block(sel.stage, sel.block)
    layout = bias_layout(trace, sel.stage, sel.block)
    tables, expanded = _CACHE.get(
        trace, ("tables", sel.stage, sel.block), lambda: _tables(trace, sel.stage, sel.block)
    )  # heads, 2M-1, 2M-1 and heads, N, N
    style = bias_style(trace, tables, sel.colormap)
    frame = _CACHE.get(
        trace,
        ("frame", sel.stage, sel.block, sel.colormap),
        lambda: _frame(trace, layout, sel.colormap),
    )
    rgb = frame.copy()
    paste(rgb, text_strip(_heading(trace, sel), 13), GAP, 4)
    for s in layout.slots:
        if s.head == sel.head:
            draw_rect(rgb, *slot_rect(layout, s), SELECTED, 2)
    values = expanded.mean(axis=0) if sel.head is None else expanded[sel.head]
    token = default_token(bt) if sel.token is None else sel.token
    _, pos = bt.locate(*token)
    matrix = matrix_rgb(values, style.cmap, style.levels, layout.cell, row=pos)
    paste(rgb, matrix, layout.matrix[0] - FRAME, layout.matrix[1] - FRAME)
    head = "mean of heads" if sel.head is None else f"head {sel.head}"
    n = bt.tokens_per_window
    title = f"{head} · {n}x{n} bias, row of token {tuple(token)} (position {pos}) outlined"
    paste(rgb, text_strip(title), layout.matrix[0], layout.matrix[1] - FRAME - 2 * TITLE_H)
    return Picture(
        rgb=rgb,
        data=tables,
        title=f"Relative position bias · stage {sel.stage} · block {sel.block} · {head}",
        units=style.units,
        levels=style.levels,
        colormap=style.cmap,
        scale=float(layout.table_cell),
        notes=_notes(trace, sel, style),
    )
