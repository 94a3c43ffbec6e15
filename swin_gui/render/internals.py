"""Block internals: the residual stream and branch norms across depth, where LayerNorm sits
in THIS model's block, and the current block's per-token output norm.

- Chart: for every block of every stage, the mean over tokens of ‖x‖ at the block input,
  after the attention branch and after the MLP branch (one path, three points a block), and
  the size of what each branch added (lines), with stage boundaries and the current block
  marked; a click on a block's column selects it.
- Diagram: v1 is pre-norm, x = x + W-MSA(LN1(x)); x = x + MLP(LN2(x)); v2 is res-post-norm,
  x = x + LN1(W-MSA(x)); x = x + LN2(MLP(x)) — drawn from `trace.config.version` with Rects,
  Text and Lines, annotated with the current block's measured norms.
- Heatmap: ‖x_out‖ of each token of the current block (L2 over channels).

Non-finite norms (a NaN/Inf weight) never raise: the lines skip them, the blocks are marked
"×" and named in the notes, levels and ticks use the finite values. `data` is the
(n_blocks, 5) table of `analysis.internals.NORM_COLUMNS`. Pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import numpy as np

from ..analysis.cache import TraceCache
from ..analysis.internals import (
    NORM_COLUMNS,
    block_equations,
    block_list,
    block_norms,
    flat_block_index,
    non_finite_blocks,
    norm_placement,
    stage_boundaries,
    token_norms,
)
from ..i18n import language, num, tr
from . import figure as F
from .common import finite_levels
from .selection import Selection

COLORS = {
    "x_in": "#64b5f6",
    "x_mid": "#81c784",
    "x_out": "fg",
    "attn_branch": "#ff9800",
    "mlp_branch": "#ba68c8",
}
SHORT = {"attn_branch": "‖attn‖", "mlp_branch": "‖MLP‖"}  # the branch norms in the diagram
OFFSETS = (-0.3, 0.0, 0.3)  # x_in, x_mid, x_out around a block's column
_CACHE = TraceCache(traces=2, entries=64)


def labels() -> dict[str, str]:
    """The norms' names in the current language."""
    return {
        "x_in": "‖x_in‖",
        "x_mid": "‖x_mid‖",
        "x_out": "‖x_out‖",
        "attn_branch": tr("Internals", "‖attn branch‖"),
        "mlp_branch": tr("Internals", "‖MLP branch‖"),
    }


def _l2() -> str:
    return tr("Internals", "L2 norm")


def fmt(v: float) -> str:
    """3 significant digits; NaN / ∞ / −∞ as such (short: they label the diagram)."""
    if math.isnan(v):
        return "NaN"
    return num(v, ".3g") if math.isfinite(v) else ("∞" if v > 0 else "−∞")


def nice_ticks(top: float) -> tuple[float, ...]:
    """0 and round steps (1, 2, 5 × 10^k) up to `top` (> 0, finite)."""
    raw = top / 5
    base = 10 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 5, 10) if m * base >= raw)
    return tuple(k * step for k in range(int(top / step + 1e-9) + 1))


# ---- chart ---------------------------------------------------------------------------------
def _segments(xs: np.ndarray, ys: np.ndarray, breaks: set[int] = frozenset()) -> np.ndarray:
    """Segments between consecutive finite points, none across a break (index i → i + 1)."""
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    ok = np.isfinite(pts).all(axis=1)
    keep = [i for i in range(len(pts) - 1) if ok[i] and ok[i + 1] and i not in breaks]
    return np.stack([pts[keep], pts[[i + 1 for i in keep]]], axis=1).reshape(-1, 2, 2)


def _chart_layers(trace, table: np.ndarray, top: float) -> tuple[F.Layer, ...]:
    n = len(table)
    xs = (np.arange(n)[:, None] + np.asarray(OFFSETS)[None]).reshape(-1)
    firsts = stage_boundaries(trace)
    merges = {3 * f - 1 for f in firsts[1:]}  # out of a stage's last block -> next stage's input
    layers: list[F.Layer] = [
        F.Lines(_segments(xs, table[:, :3].reshape(-1), merges), "fg", 1.5),
    ]
    for name in ("attn_branch", "mlp_branch"):
        col = NORM_COLUMNS.index(name)
        layers.append(F.Lines(_segments(np.arange(n), table[:, col]), COLORS[name], 1.5))
    stage_lines = [((f - 0.5, 0.0), (f - 0.5, top)) for f in firsts[1:]]
    if stage_lines:
        layers.append(F.Lines(np.asarray(stage_lines, np.float32), "muted", 1.0, dash=True))
    for s, f in enumerate(firsts):
        layers.append(F.Text(f - 0.45, top, tr("Internals", "stage {s}", s=s), 9, "muted", "lt"))
    for i in non_finite_blocks(table):
        layers.append(F.Text(float(i), top * 0.5, "×", 10, "selected"))
    return tuple(layers)


def _chart(trace) -> F.Plot:
    """The chart without the current-block band (cached per trace)."""
    table = block_norms(trace)
    n = len(table)
    finite = table[np.isfinite(table)]
    hi = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    top = hi * 1.15
    blocks = block_list(trace)
    every = max(1, math.ceil(n / 12))
    xt = tuple((i, f"{s}.{b}") for i, (s, b) in enumerate(blocks) if i % every == 0)
    yt = tuple((v, F.format_tick(v)) for v in nice_ticks(hi))
    hit = F.HitRegion(
        "blocks",
        (-0.5, 0.0, n - 0.5, top),
        (1, n),
        table[:, 2][None].astype(np.float32),
        "‖x_out‖",
        _l2(),
        payload={"blocks": tuple(blocks)},
    )
    return F.Plot(
        "chart",
        (-0.5, n - 0.5),
        (0.0, top),
        (384.0, 88.0),
        _chart_layers(trace, table, top),
        title=tr("Internals", "mean token norm per block (stage.block)"),
        group="chart",
        aspect=False,
        y_up=True,
        xticks=xt,
        yticks=yt,
        hits=(hit,),
    )


@lru_cache(maxsize=2)
def _legend(lang: str) -> F.Plot:
    """The chart's legend in language `lang`."""
    names = ("x_out", "attn_branch", "mlp_branch")
    texts = [tr("Internals", "‖x‖: in → +attn → +MLP"), labels()["attn_branch"]]
    texts.append(labels()["mlp_branch"])
    layers: list[F.Layer] = []
    x = 0.0
    for name, text in zip(names, texts, strict=True):
        layers.append(
            F.Lines(np.asarray([[[x, 7.0], [x + 16, 7.0]]], np.float32), COLORS[name], 2.0)
        )
        layers.append(F.Text(x + 20, 7.0, text, 9, "fg", "lc"))
        x += 20 + F.text_width_pt(text, 9) + 12
    return F.Plot(
        "legend",
        (0.0, 384.0),
        (0.0, 14.0),
        (384.0, 14.0),
        tuple(layers),
        group="chart",
        aspect=False,
    )


# ---- block diagram -------------------------------------------------------------------------
# The residual stream runs left to right at STREAM_Y; each branch leaves it, runs through its
# boxes above it and is added back at a "+" (data units are points).
STREAM_Y, BOX_Y = 66.0, 18.0
NODES_X = (12.0, 190.0, 368.0)  # x_in, x_mid, x_out
BRANCHES_X = ((28.0, 172.0), (206.0, 350.0))  # (leaves, added back) of attn and MLP


def _box_width(name: str) -> float:
    return 36.0 if name.startswith("LN") else 44.0 if name == "MLP" else 90.0


def _branch(names: list[str], x0: float, x1: float, value: float, name: str) -> list[F.Layer]:
    """A side branch leaving the stream at x0, through its boxes, added back at x1."""
    widths = [_box_width(n) for n in names]
    x = (x0 + x1) / 2 - (sum(widths) + 8 * (len(widths) - 1)) / 2
    boxes = []
    for w in widths:
        boxes.append((x, BOX_Y - 10, w, 20))
        x += w + 8
    y, tip = STREAM_Y, STREAM_Y - 7  # the arrow into the "+"
    segs = [
        ((x0, y), (x0, BOX_Y)),
        ((x0, BOX_Y), (boxes[0][0], BOX_Y)),
        ((x - 8, BOX_Y), (x1, BOX_Y)),
        ((x1, BOX_Y), (x1, tip)),
        ((x1, tip), (x1 - 4, tip - 6)),
        ((x1, tip), (x1 + 4, tip - 6)),
    ]
    segs += [((b[0] + b[2], BOX_Y), (b[0] + b[2] + 8, BOX_Y)) for b in boxes[:-1]]
    layers: list[F.Layer] = [F.Lines(np.asarray(segs, np.float32), "muted", 1.2)]
    ln = [b for b, n in zip(boxes, names, strict=True) if n.startswith("LN")]
    other = [b for b, n in zip(boxes, names, strict=True) if not n.startswith("LN")]
    layers.append(F.Rects(F.rects(ln), "fg", "#64b5f650", 1.0))  # LayerNorm: blue tint
    layers.append(F.Rects(F.rects(other), "fg", "#9aa0a640", 1.0))
    layers += [F.Text(b[0] + b[2] / 2, BOX_Y, n, 9) for b, n in zip(boxes, names, strict=True)]
    label = f"{SHORT[name]} {fmt(value)}"
    layers.append(F.Text((x0 + x1) / 2, (BOX_Y + STREAM_Y) / 2 + 2, label, 9, COLORS[name]))
    layers.append(F.Text(x1, y, "+", 10, "fg", box="bg", bold=True))
    return layers


def _diagram(trace, stage: int, block: int) -> F.Plot:
    """The block's residual wiring for this model's version, with measured norms."""
    version = trace.config.version
    row = block_norms(trace)[flat_block_index(trace, stage, block)]
    bt = trace.block(stage, block)
    attn = f"{bt.kind} M={bt.window} s={bt.shift}"
    end, y = NODES_X[2] + 12, STREAM_Y
    stream = [
        ((NODES_X[0], y), (end, y)),
        ((end, y), (end - 6, y - 4)),
        ((end, y), (end - 6, y + 4)),
    ]
    layers: list[F.Layer] = [F.Lines(np.asarray(stream, np.float32), "fg", 1.5)]
    attn_names = ["LN1", attn] if version == 1 else [attn, "LN1"]
    mlp_names = ["LN2", "MLP"] if version == 1 else ["MLP", "LN2"]
    layers += _branch(attn_names, *BRANCHES_X[0], float(row[3]), "attn_branch")
    layers += _branch(mlp_names, *BRANCHES_X[1], float(row[4]), "mlp_branch")
    for k, (x, name) in enumerate(zip(NODES_X, NORM_COLUMNS[:3], strict=True)):
        layers.append(F.Rects(F.rects([(x - 3, y - 3, 6, 6)]), None, COLORS[name]))
        label = f"{labels()[name]} {fmt(float(row[k]))}"
        tx, anchor = ((x - 6, "lt"), (x, "ct"), (x + 12, "rt"))[k]
        layers.append(F.Text(tx, y + 8, label, 9, COLORS[name], anchor))
    eq1, eq2 = block_equations(version)
    layers.append(F.Text(0, 100, f"{eq1};  {eq2}", 9, "muted", "lc"))
    return F.Plot(
        "diagram", (0.0, 384.0), (0.0, 108.0), (384.0, 108.0), tuple(layers), group="block"
    )  # fmt: skip  (v1 pre-norm / v2 res-post-norm: the heading)


# ---- heatmap ---------------------------------------------------------------------------------
def _masked(a: np.ndarray) -> np.ndarray:
    """±Inf drawn like NaN, in the masked colour (the hit region keeps the true values)."""
    return a if np.isfinite(a).all() else np.where(np.isfinite(a), a, np.nan).astype(a.dtype)


def _heat(trace, stage: int, block: int, cmap: str) -> F.Plot:
    norms = token_norms(trace.block(stage, block).out)  # H, W
    H, W = norms.shape
    levels = finite_levels(norms)
    extent = (0.0, 0.0, float(W), float(H))
    hit = F.HitRegion(
        "grid",
        extent,
        (H, W),
        norms,
        "‖x_out‖",
        _l2(),
        payload={"origin": (0, 0), "stage": stage},
    )
    side = 130.0
    note = ()
    if not np.isfinite(norms).any():
        note = (F.Text(W / 2, H / 2, tr("Internals", "non-finite"), 9, box="bg"),)
    return F.Plot(
        "heat",
        (0.0, float(W)),
        (0.0, float(H)),
        (side * min(1.0, W / H), side * min(1.0, H / W)),
        (F.Heatmap(_masked(norms), extent, cmap, levels, "‖x_out‖", _l2()), *note),
        title=tr("Internals", "‖x_out‖ per token · {stage}.{block}", stage=stage, block=block),
        group="block",
        colorbar=F.ColorBar(cmap, levels, _l2()),
        hits=(hit,),
    )


# ---- the figure ---------------------------------------------------------------------------
def figure_internals(trace, selection: Selection) -> F.Figure:
    """Residual-stream and branch norms over depth, the block diagram with this block's
    numbers and its per-token output norm. `data` = (n_blocks, 5) norms, NORM_COLUMNS."""
    sel = selection
    table = block_norms(trace)
    i = flat_block_index(trace, sel.stage, sel.block)
    lang = language()  # the cached plots hold text
    chart = _CACHE.get(trace, ("chart", lang), lambda: _chart(trace))
    band = F.Rects(F.rects([(i - 0.5, 0.0, 1.0, chart.ylim[1])]), None, "selected-band")
    chart = replace(chart, layers=(band, *chart.layers))
    diagram = _CACHE.get(
        trace,
        ("diagram", sel.stage, sel.block, lang),
        lambda: _diagram(trace, sel.stage, sel.block),
    )
    heat = _CACHE.get(
        trace,
        ("heat", sel.stage, sel.block, sel.colormap, lang),
        lambda: _heat(trace, sel.stage, sel.block, sel.colormap),
    )
    if sel.token is not None:
        r, c = sel.token
        mark = F.Rects(F.rects([(c, r, 1, 1)]), "selected", None, 1.5)
        heat = replace(heat, layers=(*heat.layers, mark))
    version = trace.config.version
    return F.Figure(
        title=tr(
            "Internals",
            "Block internals · v{version} {placement} · {stage}.{block}",
            version=version,
            placement=norm_placement(version),
            stage=sel.stage,
            block=sel.block,
        ),
        plots=(chart, _legend(lang), diagram, heat),
        notes=_notes(trace, table, i, version),
        data=table,
        view="internals",
    )


def _notes(trace, table: np.ndarray, i: int, version: int) -> tuple[str, ...]:
    row = table[i]
    s, b = block_list(trace)[i]
    eq1, eq2 = block_equations(version)
    notes = [
        tr(
            "Internals",
            "v{version} is {placement}: {eq1}; {eq2}",
            version=version,
            placement=norm_placement(version),
            eq1=eq1,
            eq2=eq2,
        ),
        tr(
            "Internals",
            "block {s}.{b}: ‖x_in‖ {x_in}, ‖attn branch‖ {attn}, ‖MLP branch‖ {mlp}, "
            "‖x_out‖ {x_out} (means over tokens)",
            s=s,
            b=b,
            x_in=fmt(row[0]),
            attn=fmt(row[3]),
            mlp=fmt(row[4]),
            x_out=fmt(row[2]),
        ),
        tr("Internals", "data columns: {columns}", columns=", ".join(NORM_COLUMNS)),
    ]
    bad = non_finite_blocks(table)
    if bad:
        names = ", ".join(f"{s}.{b}" for s, b in (block_list(trace)[k] for k in bad))
        notes.append(
            tr("Internals", "non-finite norms (NaN/Inf) in blocks {names} (marked ×)", names=names)
        )
    return tuple(notes)
