"""N x N window matrices (attention, position bias) as figure plots, and the small rules the
attention and bias views share: probabilities take a sequential colour map, and a window's
positions are ticked every M-th index (one tick per window row).

Masked entries (where the shift mask put -100 on the logit) are drawn as masked: NaN in the
drawn layer (the backend paints it in the "masked" colour), the true value still in the hit
region, so the hover reads the probability the block computed. Pure numpy, no Qt.
"""

from __future__ import annotations

import numpy as np

from ..i18n import tr
from . import figure as F
from .colormap import is_diverging


def sequential(name: str) -> str:
    """`name` unless it is a diverging map (probabilities need a sequential one)."""
    return "viridis" if is_diverging(name) else name


def index_ticks(n: int, step: int) -> tuple[tuple[float, str], ...]:
    """Ticks at the centres of cells 0, step, 2 step, … of an n-cell axis."""
    return tuple((k + 0.5, str(k)) for k in range(0, n, max(1, step)))


def matrix_cell_pt(n: int, target_pt: float = 280.0) -> float:
    """Points per matrix cell: an n x n matrix about `target_pt` wide, cells 3–16 pt."""
    return float(np.clip(target_pt / n, 3.0, 16.0))


def window_matrix_plot(
    key: str,
    values: np.ndarray,
    *,
    title: str,
    window: int,
    cmap: str,
    levels: tuple[float, float],
    quantity: str,
    unit: str,
    keys: np.ndarray,
    padding: np.ndarray,
    query: int | None = None,
    masked: np.ndarray | None = None,
    group: str = "matrix",
) -> F.Plot:
    """The (N, N) matrix of one window, rows = query i, columns = key j, ticks every M;
    `masked` cells drawn as masked, the `query` row outlined. The hit region carries the
    window's `keys` (N, 2) and `padding` (N,) so hover names both tokens and a click
    follows to the key."""
    n = values.shape[0]
    shown = values if masked is None or not masked.any() else np.where(masked, np.nan, values)
    layers: list[F.Layer] = [F.Heatmap(shown, (0, 0, n, n), cmap, levels, quantity, unit)]
    if window < n:
        layers.append(F.Lines(_group_lines(n, window), "#9aa0a6", 0.8))
    if query is not None:
        layers.append(F.Rects(F.rects([(0, query, n, 1)]), "#ffffff", None, 1.2, halo="#000000"))
    hit = F.HitRegion(
        "matrix",
        (0, 0, n, n),
        (n, n),
        values,
        quantity,
        unit,
        {"keys": np.asarray(keys), "padding": np.asarray(padding, bool)},
    )
    side = n * matrix_cell_pt(n)
    xlabel = tr("Matrix", "key j (position in the window)")
    if masked is not None and masked.any():
        xlabel = tr("Matrix", "key j · grey: masked (−100 before softmax)")
    return F.Plot(
        key,
        (0, n),
        (0, n),
        (side, side),
        tuple(layers),
        title,
        group,
        xticks=index_ticks(n, window),
        yticks=index_ticks(n, window),
        xlabel=xlabel,
        ylabel=tr("Matrix", "query i"),
        colorbar=F.ColorBar(cmap, levels, unit or quantity),
        hits=(hit,),
    )


def _group_lines(n: int, m: int) -> np.ndarray:
    """Thin separators every m cells (one window row of keys / of queries)."""
    ks = np.arange(m, n, m, dtype=np.float32)
    v = [((k, 0), (k, n)) for k in ks] + [((0, k), (n, k)) for k in ks]
    return np.asarray(v, np.float32).reshape(-1, 2, 2)
