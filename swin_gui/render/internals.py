"""Block internals: the residual stream and branch norms across depth, where LayerNorm sits
in THIS model's block, and the current block's per-token output norm.

- Chart: for every block of every stage, the mean over tokens of ‖x‖ at the block input,
  after the attention branch and after the MLP branch (lines), and the size of what each
  branch added (bars), with stage boundaries and the current block marked.
- Schematic: v1 is pre-norm, x = x + W-MSA(LN1(x)); x = x + MLP(LN2(x)); v2 is
  res-post-norm, x = x + LN1(W-MSA(x)); x = x + LN2(MLP(x)) — drawn from
  `trace.config.version`, annotated with the current block's measured norms.
- Heatmap: ‖x_out‖ of each token of the current block (L2 over channels).

`data` is the (n_blocks, 5) table of `analysis.internals.NORM_COLUMNS`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ..analysis.internals import (
    NORM_COLUMNS,
    block_equations,
    block_list,
    block_norms,
    flat_block_index,
    norm_placement,
    stage_boundaries,
    token_norms,
)
from .cache import TraceCache
from .chart import (
    ACCENT,
    MUTED,
    ChartBox,
    Series,
    arrow,
    box,
    chart_box,
    colorbar_strip,
    draw_chart,
    mark_band,
)
from .colormap import apply_colormap
from .draw import BACKGROUND, FOREGROUND, compose, draw_rect, hstack, upscale, vstack
from .selection import Picture, Selection
from .text import put_text

CHART_W, CHART_H = 760, 250
SCHEMA_W, SCHEMA_H = 430, 350
STREAM_X, BRANCH_X = 150, 200  # the residual stream's column; the branches' boxes
HEAT_PX = 240
HEAT_GAP, HEAT_TOP = 16, 24  # heatmap x offset after the schematic; map y below its title
COLORS = {
    "x_in": (100, 181, 246),
    "x_mid": (129, 199, 132),
    "x_out": (255, 255, 255),
    "attn_branch": (255, 152, 0),
    "mlp_branch": (186, 104, 200),
}
LABELS = {
    "x_in": "‖x_in‖",
    "x_mid": "‖x after attn‖",
    "x_out": "‖x after MLP‖",
    "attn_branch": "‖attn branch‖",
    "mlp_branch": "‖MLP branch‖",
}


_CHARTS, _LOWER = TraceCache(traces=4, entries=1), TraceCache(traces=2, entries=64)


def _chart(trace) -> tuple[np.ndarray, ChartBox]:
    """The chart without the current-block marker (cached per trace)."""
    return _CHARTS.get(trace, (), lambda: _draw_chart(trace))


def _draw_chart(trace) -> tuple[np.ndarray, ChartBox]:
    """The residual stream as one path through in -> after attn -> after MLP of every
    block (markers at -0.3, 0, +0.3 around the block's column), the branch norms as bars."""
    table = block_norms(trace)  # n_blocks, 5
    n = len(table)
    offsets = np.array([-0.3, 0.0, 0.3])
    path = Series(
        "",
        table[:, :3].reshape(-1),
        (120, 124, 130),
        "line",
        (np.arange(n)[:, None] + offsets[None]).reshape(-1),
    )
    dots = [
        Series(LABELS[name], table[:, i], COLORS[name], "dots", np.arange(n) + offsets[i])
        for i, name in enumerate(NORM_COLUMNS[:3])
    ]
    bars = [
        Series(LABELS[name], table[:, i], COLORS[name], "bar")
        for i, name in enumerate(NORM_COLUMNS)
        if i >= 3
    ]
    x_labels = [f"{s}.{b}" for s, b in block_list(trace)]
    bounds = [(i, f"stage {s}") for s, i in enumerate(stage_boundaries(trace))]
    return draw_chart(
        CHART_W,
        CHART_H,
        [path, *dots, *bars],
        x_labels,
        "mean over tokens of each token's L2 norm over channels · x axis: stage.block",
        bounds,
    )


def internals_hit(trace, x: float, y: float) -> tuple[int, int] | None:
    """(stage, block) of the chart column under picture pixel (x, y), or None."""
    blocks = block_list(trace)
    i = chart_box(CHART_W, CHART_H, len(blocks)).item_at(x, y)
    return None if i is None else blocks[i]


def _branch(d, y0: int, y1: int, names: list[str], value: float, name: str) -> None:
    """A side branch leaving the stream at y0 and added back at y1: its boxes (LayerNorm
    tinted blue) and its measured norm."""
    cx, top = BRANCH_X + 80, y0 + 14
    d.line([(STREAM_X, y0), (cx, y0), (cx, top)], fill=MUTED, width=2)
    for k, box_name in enumerate(names):
        fill = (48, 63, 88) if box_name.startswith("LN") else (60, 60, 64)
        yk = top + k * 34
        box(d, (BRANCH_X, yk, BRANCH_X + 160, yk + 26), [box_name], FOREGROUND, fill, 12)
    bottom = top + len(names) * 34 - 8
    d.line([(cx, bottom), (cx, y1 - 12)], fill=MUTED, width=2)
    arrow(d, (cx, y1 - 12), (STREAM_X + 10, y1 - 12))
    put_text(d, (cx + 8, bottom + 4), f"{LABELS[name]} = {value:.3g}", COLORS[name], 11)
    d.ellipse([STREAM_X - 8, y1 - 20, STREAM_X + 8, y1 - 4], outline=FOREGROUND, width=2)
    put_text(d, (STREAM_X, y1 - 12), "+", FOREGROUND, 13, anchor="mm")


def _schematic(trace, stage: int, block: int) -> np.ndarray:
    """The block's residual wiring for this model's version, with measured norms."""
    version = trace.config.version
    row = block_norms(trace)[flat_block_index(trace, stage, block)]
    bt = trace.block(stage, block)
    attn = f"{bt.kind} (M={bt.window}, s={bt.shift})"
    img = Image.new("RGB", (SCHEMA_W, SCHEMA_H), BACKGROUND)
    d = ImageDraw.Draw(img)
    put_text(d, (8, 6), f"Swin v{version} block: {norm_placement(version)}", ACCENT, 13)
    ys = (48, 172, 296)  # nodes x_in, x_mid, x_out on the residual stream
    d.line([(STREAM_X, ys[0]), (STREAM_X, ys[2])], fill=FOREGROUND, width=2)
    for y, name, value in zip(ys, NORM_COLUMNS[:3], row[:3], strict=True):
        d.ellipse([STREAM_X - 5, y - 5, STREAM_X + 5, y + 5], fill=COLORS[name])
        put_text(d, (STREAM_X - 12, y), f"{LABELS[name]} = {value:.3g}", COLORS[name], 11, "rm")
    attn_names = ["LN1", attn] if version == 1 else [attn, "LN1"]
    mlp_names = ["LN2", "MLP"] if version == 1 else ["MLP", "LN2"]
    _branch(d, ys[0], ys[1], attn_names, float(row[3]), "attn_branch")
    _branch(d, ys[1], ys[2], mlp_names, float(row[4]), "mlp_branch")
    eq1, eq2 = block_equations(version)
    put_text(d, (8, SCHEMA_H - 36), f"{eq1};  {eq2}", MUTED, 11)
    put_text(d, (8, SCHEMA_H - 18), "LayerNorm normalises each token over its channels", MUTED, 11)
    return np.asarray(img).copy()


def _heatmap(trace, stage: int, block: int, cmap: str) -> tuple[np.ndarray, int]:
    """‖x_out‖ per token of a block with its colour bar; returns (rgb, token pixels)."""
    norms = token_norms(trace.block(stage, block).out)  # H, W
    levels = (float(norms.min()), float(norms.max()))
    k = max(1, HEAT_PX // max(norms.shape))
    rgb = upscale(apply_colormap(norms, cmap, levels), k)
    title = Image.new("RGB", (max(rgb.shape[1], 200), HEAT_TOP - 4), BACKGROUND)
    put_text(
        ImageDraw.Draw(title), (0, 4), f"‖x_out‖ per token, block {stage}.{block}", FOREGROUND, 11
    )
    bar = colorbar_strip(rgb.shape[1], cmap, levels, "L2 norm", height=8)
    return vstack([np.asarray(title), rgb, bar], gap=4), k


def _lower(trace, stage: int, block: int, cmap: str) -> tuple[np.ndarray, int]:
    """Schematic + heatmap for one block (cached); returns (rgb, heatmap token pixels)."""

    def make():
        heat, k = _heatmap(trace, stage, block, cmap)
        return hstack([_schematic(trace, stage, block), heat], gap=HEAT_GAP), k

    return _LOWER.get(trace, (stage, block, cmap), make)


def render_internals(trace, sel: Selection) -> Picture:
    """Residual-stream and branch norms over depth, the block schematic and the current
    block's per-token output norm. `data` = (n_blocks, 5) norms, columns NORM_COLUMNS."""
    table = block_norms(trace)
    row = table[flat_block_index(trace, sel.stage, sel.block)]
    version = trace.config.version
    chart, cb = _chart(trace)
    lower, k = _lower(trace, sel.stage, sel.block, sel.colormap)
    chart = mark_band(chart, cb, flat_block_index(trace, sel.stage, sel.block))
    y = CHART_H + 8
    rgb = compose([(chart, 0, 0), (lower, 0, y)], y + lower.shape[0], max(CHART_W, lower.shape[1]))
    if sel.token is not None:
        x0, y0 = SCHEMA_W + HEAT_GAP, y + HEAT_TOP
        draw_rect(rgb, x0 + sel.token[1] * k, y0 + sel.token[0] * k, k, k, (255, 255, 255), 1)
    eq1, eq2 = block_equations(version)
    notes = (
        f"v{version} is {norm_placement(version)}: {eq1}; {eq2}",
        f"block {sel.stage}.{sel.block}: ‖x_in‖ {row[0]:.3g}, ‖attn branch‖ {row[3]:.3g}, "
        f"‖MLP branch‖ {row[4]:.3g}, ‖x_out‖ {row[2]:.3g} (means over tokens)",
        "data columns: " + ", ".join(NORM_COLUMNS),
    )
    return Picture(
        rgb=rgb,
        data=table,
        title=f"Block internals · v{version} {norm_placement(version)} · "
        f"block {sel.stage}.{sel.block}",
        units="L2 norm",
        notes=notes,
    )
