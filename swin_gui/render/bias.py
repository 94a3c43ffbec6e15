"""The relative position bias view: what each head adds to a logit for a key at offset
(Δrow, Δcol) = (y_query − y_key, x_query − x_key), and how that table expands to the N×N
bias of a window.

- One (2M−1)×(2M−1) table per head plus their mean (tiles that wrap at the panel width;
  a click selects the head, the mean selects None), rebuilt from the (heads, N, N) bias the
  block added: entry [dy + M−1, dx + M−1]. The centre cell (0, 0), a token to itself, is
  outlined. v1 learns the table directly; v2 computes it with a small MLP on log-spaced
  offsets, squashed to 16·σ(MLP) in 0..16, and adds a per-head cosine-attention logit
  scale τ (a bar per head).
- The N×N expansion for the selected head (mean when None) with query/key ticks: the same
  for every window; the selected token's row is outlined and its window's keys are the
  hit payload, so a click follows a key.

Colours: a diverging map with symmetric levels around 0 (v1) or around 8 = 16·σ(0), the
bias of an MLP output of 0 (v2). `data` is the (heads, 2M−1, 2M−1) table. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from ..analysis.attention import default_token, window_keys
from ..analysis.cache import TraceCache
from ..i18n import language, ntr, num, tr
from . import figure as F
from .colormap import is_diverging, symmetric_levels
from .selection import Selection

V2_CENTRE = 8.0  # 16·σ(0): the v2 bias of an MLP output of zero
_CACHE = TraceCache(traces=2, entries=64)


# ---- the table (numpy) --------------------------------------------------------------------
@lru_cache(maxsize=16)
def table_cells(window: int) -> tuple[np.ndarray, np.ndarray]:
    """(N·N,) table row dy + M−1 and column dx + M−1 of every (query i, key j) pair, with
    (dy, dx) = (y_i − y_j, x_i − x_j) for positions row-major in the M×M window."""
    ys, xs = np.divmod(np.arange(window * window), window)
    dy = (ys[:, None] - ys[None, :] + window - 1).reshape(-1)
    dx = (xs[:, None] - xs[None, :] + window - 1).reshape(-1)
    dy.setflags(write=False)
    dx.setflags(write=False)
    return dy, dx


def bias_tables(bias: np.ndarray, window: int) -> np.ndarray:
    """(heads, N, N) bias -> (heads, 2M−1, 2M−1) table (every offset occurs for some pair)."""
    heads = bias.shape[0]
    side = 2 * window - 1
    dy, dx = table_cells(window)
    table = np.zeros((heads, side, side), np.float32)
    table[:, dy, dx] = np.asarray(bias, np.float32).reshape(heads, -1)
    return table


def expand_tables(table: np.ndarray) -> np.ndarray:
    """(heads, 2M−1, 2M−1) table -> (heads, N, N) bias, the inverse of `bias_tables`."""
    window = (table.shape[-1] + 1) // 2
    dy, dx = table_cells(window)
    N = window * window
    return table[:, dy, dx].reshape(table.shape[0], N, N)


@dataclass(frozen=True)
class BiasStyle:
    cmap: str
    levels: tuple[float, float]
    unit: str


def bias_style(version: int, table: np.ndarray, colormap: str) -> BiasStyle:
    """A diverging map, levels symmetric around 0 (v1) or 8 = 16·σ(0) (v2), finite only."""
    cmap = colormap if is_diverging(colormap) else "coolwarm"
    if version == 2:
        lo, hi = symmetric_levels(np.asarray(table, np.float64) - V2_CENTRE)
        return BiasStyle(cmap, (V2_CENTRE + lo, V2_CENTRE + hi), _bias_logit())
    return BiasStyle(cmap, symmetric_levels(table), _bias_logit())


def _bias_logit() -> str:
    return tr("Bias", "bias logit")


# ---- selection-free pieces ------------------------------------------------------------------
@dataclass(frozen=True)
class BiasBase:
    tables: np.ndarray  # heads, 2M−1, 2M−1
    expanded: np.ndarray  # heads + 1, N, N (the last: mean over heads)
    style: BiasStyle
    tiles: tuple[F.Plot, ...]  # the mean first, then head 0, 1, …
    tau: F.Plot | None
    matrices: dict = field(default_factory=dict)  # head (−1: mean) -> (heatmap, lines)


def bias_base(trace, stage: int, block: int, colormap: str) -> BiasBase:
    key = ("base", stage, block, colormap, language())  # the tiles hold text
    return _CACHE.get(trace, key, lambda: _make_base(trace, stage, block, colormap))


def _make_base(trace, stage: int, index: int, colormap: str) -> BiasBase:
    bt = trace.block(stage, index)
    tables = bias_tables(bt.bias, bt.window)
    expanded = expand_tables(tables)
    expanded = np.concatenate([expanded, expanded.mean(axis=0, keepdims=True)])
    style = bias_style(trace.config.version, tables, colormap)
    taus = None if bt.logit_scale is None else np.asarray(bt.logit_scale, np.float32)
    side = 48.0 if bt.heads > 8 else 72.0
    tiles = [_tile(tables.mean(axis=0), None, bt.window, style, side, None)]
    for h in range(bt.heads):
        tau = None if taus is None else float(taus[h])
        tiles.append(_tile(tables[h], h, bt.window, style, side, tau))
    tau_plot = None if taus is None else _tau_plot(taus)
    return BiasBase(tables, expanded, style, tuple(tiles), tau_plot)


def _tile(
    table: np.ndarray, head: int | None, M: int, style: BiasStyle, side: float, tau: float | None
) -> F.Plot:
    """One head's (2M−1)² table over offsets −(M−1)..M−1 (Δrow down, Δcol right); the
    mean's tile carries the axes all tiles share (fewer labels to draw)."""
    e = M - 0.5
    extent = (-e, -e, e, e)
    ticks = ((-(M - 1), _minus(-(M - 1))), (0, "0"), (M - 1, str(M - 1)))
    layers = (
        F.Heatmap(table, extent, style.cmap, style.levels, style.unit),
        F.Rects(F.rects([(-0.5, -0.5, 1, 1)]), "#ffffff", None, 1.0, halo="#000000"),
    )
    hit = F.HitRegion(
        "table",
        extent,
        table.shape,
        table,
        style.unit,
        payload={"select": {"head": head}, "offset": M - 1},
    )
    if head is None:
        title = tr("Bias", "mean")
    elif tau is None:
        title = tr("Bias", "head {k}", k=head)
    else:
        title = tr("Bias", "h{k} τ {tau}", k=head, tau=num(tau, ".3g"))
    return F.Plot(
        "mean" if head is None else f"head{head}",
        (-e, e),
        (-e, e),
        (side, side),
        layers,
        title=title,
        group="tables",
        hits=(hit,),
        **(_axes(ticks) if head is None else {}),
    )


def _axes(ticks) -> dict:
    return {
        "xticks": ticks,
        "yticks": ticks,
        "xlabel": tr("Bias", "col offset"),
        "ylabel": tr("Bias", "row offset"),
    }


def _tau_plot(taus: np.ndarray) -> F.Plot:
    """v2: the per-head logit scale τ as bars; a click selects the head."""
    n = len(taus)
    finite = np.where(np.isfinite(taus), taus, 0.0)
    top = max(float(np.abs(finite).max()), 1e-6) * 1.15
    bars = F.rects([(h - 0.35, 0.0, 0.7, float(v)) for h, v in enumerate(finite)])
    layers = (F.Rects(bars, None, "muted"),)
    hit = F.HitRegion(
        "tau",
        (-0.5, 0.0, n - 0.5, top),
        (1, n),
        taus[None].astype(np.float32),
        tr("Bias", "logit scale τ"),
    )
    xt = tuple((h, str(h)) for h in range(0, n, max(1, n // 8)))
    return F.Plot(
        "tau",
        (-0.5, n - 0.5),
        (0.0, top),
        (max(90.0, 14.0 * n), 50.0),
        layers,
        title=tr("Bias", "logit scale τ"),
        group="tau",
        aspect=False,
        y_up=True,
        xticks=xt,
        yticks=((0.0, "0"), (top / 1.15, F.format_tick(top / 1.15))),
        xlabel=tr("Bias", "head"),
        hits=(hit,),
    )


def _minus(v: int) -> str:
    return str(v).replace("-", "−")


# ---- the figure ---------------------------------------------------------------------------
def figure_bias(trace, selection: Selection) -> F.Figure:
    """Every head's (2M−1)² table plus the mean, the N×N expansion for the selected head
    with the selected token's row outlined, and (v2) the logit scale per head."""
    sel = selection
    bt = trace.block(sel.stage, sel.block)
    base = bias_base(trace, sel.stage, sel.block, sel.colormap)
    head = sel.head if sel.head is None or 0 <= sel.head < bt.heads else None
    tiles = [t if _tile_head(t) != head else replace(t, frame="selected") for t in base.tiles]
    plots = [*tiles, _matrix_plot(bt, sel, base, head)]
    if base.tau is not None:
        plots.append(base.tau)
    name = tr("Bias", "mean of heads") if head is None else tr("Bias", "head {k}", k=head)
    return F.Figure(
        title=tr(
            "Bias",
            "Position bias · block {stage}.{block} · {name}",
            stage=sel.stage,
            block=sel.block,
            name=name,
        ),
        plots=tuple(plots),
        notes=_notes(trace, bt, base.style),
        data=base.tables,
        view="bias",
    )


def _tile_head(plot: F.Plot) -> int | None:
    return plot.hits[0].payload["select"]["head"]


def _matrix_plot(bt, sel: Selection, base: BiasBase, head: int | None) -> F.Plot:
    """The N×N bias of one head (the same in every window), rows = query i, cols = key j."""
    M, N = bt.window, bt.tokens_per_window
    heat, lines = _matrix_layers(base, head, M)
    values = heat.data
    token = default_token(bt) if sel.token is None else sel.token
    window, pos = bt.locate(*token)
    keys, padding = window_keys(bt, window)
    extent = (0.0, 0.0, float(N), float(N))
    ticks = tuple((k * M + 0.5, str(k * M)) for k in range(M))
    layers = (heat, lines, F.Rects(F.rects([(0, pos, N, 1)]), "selected", None, 1.5))
    hit = F.HitRegion(
        "matrix",
        extent,
        (N, N),
        values,
        base.style.unit,
        payload={"keys": keys, "padding": padding},
    )
    return F.Plot(
        "matrix",
        (0.0, float(N)),
        (0.0, float(N)),
        (200.0, 200.0),
        layers,
        title=tr(
            "Bias",
            "{N}×{N} bias · row {pos} = token ({r}, {c})",
            N=N,
            pos=pos,
            r=int(token[0]),
            c=int(token[1]),
        ),
        group="matrix",
        xticks=ticks,
        yticks=ticks,
        xlabel=tr("Bias", "key j"),
        ylabel=tr("Bias", "query i"),
        hits=(hit,),
        colorbar=F.ColorBar(base.style.cmap, base.style.levels, base.style.unit),
    )


def _matrix_layers(base: BiasBase, head: int | None, M: int) -> tuple[F.Heatmap, F.Lines]:
    """The N×N heatmap of a head and the window-row lines: the same objects for every token
    (kept in the base), so the backend reuses what it drew."""
    key = -1 if head is None else head
    if key not in base.matrices:
        N = M * M
        values = base.expanded[key]
        heat = F.Heatmap(
            values,
            (0.0, 0.0, float(N), float(N)),
            base.style.cmap,
            base.style.levels,
            base.style.unit,
        )
        base.matrices[key] = (heat, F.Lines(_window_rows(M), "#ffffff50", 0.6))
    return base.matrices[key]


@lru_cache(maxsize=8)
def _window_rows(M: int) -> np.ndarray:
    """Lines between the window rows (every M positions) of an N×N matrix."""
    N = M * M
    cuts = [k * M for k in range(1, M)]
    segs = [((c, 0), (c, N)) for c in cuts] + [((0, c), (N, c)) for c in cuts]
    return np.asarray(segs, np.float32).reshape(-1, 2, 2)


def _notes(trace, bt, style: BiasStyle) -> tuple[str, ...]:
    M = bt.window
    if trace.config.version == 2:
        version = tr("Bias", "v2 continuous (16·σ(MLP))")
    else:
        version = tr("Bias", "v1 learned table")
    lo, hi = style.levels
    notes = [
        " · ".join(
            (
                version,
                bt.kind,
                f"M={M}",
                ntr("Bias", "{n} head", "{n} heads", bt.heads),
                ntr("Bias", "(2M−1)² = {n} offset", "(2M−1)² = {n} offsets", (2 * M - 1) ** 2),
            )
        ),
        tr(
            "Bias",
            "cell (Δrow, Δcol) = (y_query − y_key, x_query − x_key); centre: a token to itself",
        ),
        tr(
            "Bias",
            "colour: {unit} {lo} … {hi}; added in every window before the shift mask and the "
            "softmax",
            unit=style.unit,
            lo=F.format_tick(lo),
            hi=F.format_tick(hi),
        ),
    ]
    if not np.isfinite(bt.bias).all():
        notes.append(tr("Bias", "the bias holds non-finite values (drawn in the masked colour)"))
    if trace.config.version == 2 and bt.logit_scale is not None:
        taus = ", ".join(f"h{h} {num(v, '.3g')}" for h, v in enumerate(bt.logit_scale))
        notes.append(tr("Bias", "cosine-attention logit scale τ per head: {taus}", taus=taus))
    return tuple(notes)
