"""The shift ablation in the Shift view: the block re-run with the cyclic shift off (s = 0)
against the real SW-MSA output, as a per-token ‖Δ output‖ map and a relative change."""

from __future__ import annotations

import numpy as np

from ..i18n import num, tr
from ..trace import BlockTrace, Trace
from . import figure as F
from .common import finite_levels
from .selection import Selection, view_shift


def ablation_applies(trace: Trace, sel: Selection) -> bool:
    """True on a real SW-MSA block viewed with the shift toggled off."""
    block = trace.block(sel.stage, sel.block)
    return block.shift > 0 and view_shift(block, sel) == 0


_LAST_DELTA: list = [None, None, None]  # ablation, block, result: a token change reuses it


def _last_ablation(block: BlockTrace, ablation: np.ndarray, cmap: str = "viridis"):
    """(delta, rel, heatmap layer), kept for the last (block, ablation, colormap): a token
    change reuses the very same layer (the backend keeps its drawn items)."""
    if _LAST_DELTA[0] is ablation and _LAST_DELTA[1] is block and _LAST_DELTA[2][2].cmap == cmap:
        return _LAST_DELTA[2]
    delta, rel = _ablation_delta(block, ablation)
    H, W = delta.shape
    levels = finite_levels(delta, lo=0.0)
    delta_name = tr("Shift", "‖Δ output‖")
    heat = F.Heatmap(delta, (0.0, 0.0, float(W), float(H)), cmap, levels, delta_name, "L2")
    _LAST_DELTA[:] = [ablation, block, (delta, rel, heat)]
    return _LAST_DELTA[2]


def _ablation_delta(block: BlockTrace, ablation: np.ndarray) -> tuple[np.ndarray, float]:
    diff = np.asarray(ablation, np.float64) - block.out
    delta = np.sqrt(np.einsum("hwc,hwc->hw", diff, diff))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = float(np.linalg.norm(diff) / max(float(np.linalg.norm(block.out)), 1e-12))
    return delta.astype(np.float32), rel


def ablation_plot(
    block: BlockTrace, sel: Selection, ablation, side_pt: float
) -> tuple[F.Plot, list[str]]:
    """The ‖Δ output‖ heatmap of the block re-run with s = 0 (`side_pt` wide) and its note;
    a "computing" line until the ablation has arrived."""
    if ablation is None or np.shape(ablation) != block.out.shape:
        text = F.Text(
            0,
            10,
            tr("Shift", "computing ablation… (block re-run with the shift off)"),
            10,
            "selected",
            "lc",
        )
        plot = F.Plot(
            "ablation",
            (0.0, 380.0),
            (0.0, 20.0),
            (380.0, 20.0),
            (text,),
            group="ablation",
            aspect=False,
        )
        return plot, [tr("Shift", "computing the shift ablation…")]
    delta, rel, heat = _last_ablation(block, ablation, sel.colormap)
    H, W = delta.shape
    levels, extent = heat.levels, heat.extent
    layers: list[F.Layer] = [heat]
    if sel.token is not None and sel.token[0] < H and sel.token[1] < W:
        layers.append(F.Rects(F.rects([(sel.token[1], sel.token[0], 1, 1)]), "selected", None, 1.5))
    hit = F.HitRegion(
        "grid",
        extent,
        (H, W),
        delta,
        tr("Shift", "‖Δ output‖"),
        "L2",
        {"origin": (0, 0), "stage": block.stage},
    )
    rel_text = tr("Shift", "non-finite") if not np.isfinite(rel) else f"{num(100 * rel, '.1f')} %"
    plot = F.Plot(
        "ablation",
        (0.0, float(W)),
        (0.0, float(H)),
        (side_pt, side_pt * H / W),
        tuple(layers),
        title=tr("Shift", "ablation: s=0 vs s={s}", s=block.shift),
        fill=True,
        max_scale=3.0,
        colorbar=F.ColorBar(sel.colormap, levels, tr("Shift", "‖Δ output‖ (L2)")),
        hits=(hit,),
    )
    note = tr(
        "Shift",
        "shift ablation: relative change ‖Δ output‖ / ‖output‖ = {rel}",
        rel=rel_text,
    )
    return plot, [note]
