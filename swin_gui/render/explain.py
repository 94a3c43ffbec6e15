"""The Explain view: the chosen method's map over the image with the stage's window grid
(as the selected block partitions it), the selected token's reach and erf with the shift
on and off side by side, and the reach area after every block for both networks: the
picture of what SW-MSA adds (without the shift a token's reach stops growing inside a
stage, because the windows never overlap). The figures are the notes.

`figure_explain(trace, selection, result=None)`: `result` is an `ExplainView` computed by
the panel's worker (`swin_gui.explain.view.compute_view`); without one the figure shows
the structural reach, which needs no model (numpy only, as in `swin-gui snapshot`).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..analysis.cache import TraceCache
from ..explain.reach import NetGeometry
from ..explain.view import ExplainView, clamp_token, structural
from ..i18n import num, tr
from ..trace import Trace
from . import figure as F
from .common import crosshair, finite_levels
from .selection import Selection

MAIN_PT = 300.0  # long side of the main map
SMALL_PT = 150.0  # long side of each shift on/off picture
CURVE = (300.0, 120.0)
ON, OFF = "#ffb000", "#40a0ff"  # the shift-on and shift-off colours (curves and titles)
_CACHE = TraceCache(traces=2, entries=64)


def _image(trace: Trace) -> F.Heatmap:
    H, W = trace.image.shape[:2]
    step = max(1, int(np.ceil(max(H, W) / 1024)))
    return F.Heatmap(np.ascontiguousarray(trace.image[::step, ::step]), (0, 0, W, H), smooth=True)


def _grid(trace: Trace, stage: int, block: int, shift: bool) -> F.Lines:
    """The window boundaries of (stage, block), shifted when that block is and `shift`."""
    b = trace.block(stage, block)
    tp = trace.token_pixels(stage)
    (Hp, Wp), M = b.padded, b.window
    s = b.shift if shift else 0
    H, W = trace.image.shape[:2]
    rows = sorted({(k * M + s) % Hp * tp for k in range(Hp // M)} - {0})
    cols = sorted({(k * M + s) % Wp * tp for k in range(Wp // M)} - {0})
    seg = [((0, y), (W, y)) for y in rows if y < H] + [((x, 0), (x, H)) for x in cols if x < W]
    return F.Lines(np.asarray(seg, np.float32).reshape(-1, 2, 2), "#ffffffa0", 0.8)


def _token_hit(trace: Trace, stage: int, values: np.ndarray, quantity: str, unit: str):
    """Cells = the stage's tokens over the image; values = the map's mean per token."""
    H, W = trace.image.shape[:2]
    h, w = trace.stages[stage].resolution
    tp = trace.token_pixels(stage)
    pad = np.full((h * tp, w * tp), np.nan)
    pad[: min(H, h * tp), : min(W, w * tp)] = values[: h * tp, : w * tp]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN
        cells = np.nanmean(pad.reshape(h, tp, w, tp), axis=(1, 3))
    return F.HitRegion(
        "token",
        (0, 0, w * tp, h * tp),
        (h, w),
        cells,
        quantity,
        unit,
        {"origin": (0, 0), "stage": stage},
    )


def _size(trace: Trace, side: float) -> tuple[float, float]:
    H, W = trace.image.shape[:2]
    k = side / max(H, W)
    return W * k, H * k


def _map_layer(m: np.ndarray, cmap: str) -> tuple[F.Layer, F.ColorBar | None]:
    H, W = m.shape
    if m.dtype == bool:
        rgba = np.zeros((H, W, 4), np.uint8)  # reached: an amber tint; the rest: darkened
        rgba[m] = (255, 176, 0, 110)
        rgba[~m] = (0, 0, 0, 170)
        return F.Heatmap(rgba, (0, 0, W, H)), None
    finite = m[np.isfinite(m)]
    hi = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    levels = finite_levels(np.array([0.0, hi if hi > 0 else 1.0]), lo=0.0)
    return F.Heatmap(m.astype(np.float32), (0, 0, W, H), cmap, levels, opacity=0.55), F.ColorBar(
        cmap, levels, tr("Explain", "relevance")
    )


def quantity(method: str) -> str:
    """What a method's map holds, for the hover read-out."""
    names = {
        "reach": tr("Explain", "reachable"),
        "erf": "|∂y/∂x|",
        "rollout": "rollout",
        "gradcam": "Grad-CAM",
        "scorecam": "Score-CAM",
    }
    return names.get(method, tr("Explain", "value"))


def _on_off(shift: bool) -> str:
    return tr("Explain", "shift on") if shift else tr("Explain", "shift off")


def _main_plot(trace: Trace, sel: Selection, view: ExplainView) -> F.Plot:
    H, W = trace.image.shape[:2]
    layer, bar = _map_layer(view.map, sel.colormap)
    grid = _grid(trace, view.stage, view.block, view.shift)
    hit = _token_hit(trace, view.stage, np.asarray(view.map, np.float64), quantity(view.method), "")
    what = view.method
    if view.target_name:
        what = tr("Explain", "{method} · class {name}", method=view.method, name=view.target_name)
    return F.Plot(
        key="map",
        xlim=(0, W),
        ylim=(0, H),
        size=_size(trace, MAIN_PT),
        layers=(_image(trace), layer, grid, crosshair(view.token, trace.token_pixels(view.stage))),
        title=f"{what} · {_on_off(view.shift)}",
        colorbar=bar,
        hits=(hit,),
    )


def _pair(trace: Trace, view: ExplainView, kind: str, maps: dict) -> list[F.Plot]:
    H, W = trace.image.shape[:2]
    out = []
    for name in ("on", "off"):
        m = maps[name]
        layer, _ = _map_layer(m, "inferno")
        extra = tr("Explain", " · {n} px", n=int(m.sum())) if m.dtype == bool else ""
        hit = _token_hit(trace, view.stage, np.asarray(m, np.float64), quantity(kind), "")
        out.append(
            F.Plot(
                key=f"{kind}_{name}",
                xlim=(0, W),
                ylim=(0, H),
                size=_size(trace, SMALL_PT),
                layers=(
                    _image(trace),
                    layer,
                    _grid(trace, view.stage, view.block, name == "on"),
                    crosshair(view.token, trace.token_pixels(view.stage)),
                ),
                title=f"{_kind(kind)} · {_on_off(name == 'on')}{extra}",
                group=kind,
                frame=None,
                hits=(hit,),
            )
        )
    return out


def _curve_plot(trace: Trace, view: ExplainView) -> F.Plot:
    H, W = trace.image.shape[:2]
    labels = [lab for lab, _ in view.curves["on"]]
    n = len(labels)
    layers: list[F.Layer] = []
    for name, colour in (("on", ON), ("off", OFF)):
        y = np.array([a for _, a in view.curves[name]], np.float64) / (H * W)
        seg = np.stack(
            [np.stack([np.arange(n - 1), y[:-1]], 1), np.stack([np.arange(1, n), y[1:]], 1)], 1
        )
        layers.append(F.Lines(seg.astype(np.float32), colour, 2.0, dash=name == "off"))
        layers.append(
            F.Rects(
                F.rects((i - 0.08, v - 0.02, 0.16, 0.04) for i, v in enumerate(y)), None, colour
            )
        )
    layers.append(F.Text(0.1, 0.95, _on_off(True), 9, ON, "lt"))
    layers.append(F.Text(0.1, 0.8, _on_off(False), 9, OFF, "lt"))
    step = max(1, n // 8)
    return F.Plot(
        key="curve",
        xlim=(-0.5, n - 0.5),
        ylim=(0, 1.05),
        size=CURVE,
        layers=tuple(layers),
        title=tr("Explain", "reach area vs depth (fraction of the image)"),
        group="curve",
        aspect=False,
        y_up=True,
        xticks=tuple((i, labels[i]) for i in range(0, n, step)),
        yticks=((0.0, "0"), (0.5, num(0.5, "g")), (1.0, "1")),
        xlabel=tr("Explain", "after block"),
    )


def _kind(kind: str) -> str:
    return tr("Explain", "reach") if kind == "reach" else kind


def figure_labels() -> dict[str, str]:
    """The explain methods' figure names (`ExplainView.figures` keys) as the notes show
    them; a key not listed here is shown as it is."""
    return {
        "target": tr("Explain", "target"),
        "probability": tr("Explain", "probability"),
        "variant": tr("Explain", "variant"),
        "channels": tr("Explain", "channels"),
        "batch": tr("Explain", "batch"),
        "area_px": tr("Explain", "area px"),
        "area_frac": tr("Explain", "area fraction"),
        "box_h": tr("Explain", "box h"),
        "box_w": tr("Explain", "box w"),
    }


def _notes(view: ExplainView) -> tuple[str, ...]:
    labels = figure_labels()
    figs = " · ".join(
        f"{labels.get(k, k)} {num(v, '.3g')}" if isinstance(v, float) else f"{labels.get(k, k)} {v}"
        for k, v in view.figures.items()
        if k != "stage"
    )
    area = {k: v[-1][1] for k, v in view.curves.items()} if view.curves else {}
    reach = {k: int(v.sum()) for k, v in view.reach.items()}
    r, c = view.token
    notes = [
        tr(
            "Explain",
            "stage {stage} block {block} token ({r}, {c}): {figures}",
            stage=view.stage,
            block=view.block,
            r=r,
            c=c,
            figures=figs,
        )
    ]
    if reach:
        notes.append(
            tr(
                "Explain",
                "reach {on} px with the shift, {off} px without; after the last block "
                "{last_on} vs {last_off} px",
                on=reach.get("on", 0),
                off=reach.get("off", 0),
                last_on=area.get("on", 0),
                last_off=area.get("off", 0),
            )
        )
    if not view.erf:
        notes.append(tr("Explain", "erf needs the model: open an image in the app"))
    return tuple(notes)


def default_view(trace: Trace, sel: Selection) -> ExplainView:
    """The model-free figure: the selected token's reach (cached per token)."""
    stage, block = sel.stage, sel.block
    token = clamp_token(trace, stage, sel.token)

    def build() -> ExplainView:
        reach, curves = structural(trace, stage, block, token)
        from ..explain.reach import reach_figures

        return ExplainView(
            "reach",
            stage,
            block,
            token,
            True,
            reach["on"],
            reach_figures(reach["on"]),
            reach=reach,
            curves=curves,
        )

    return _CACHE.get(trace, ("reach", stage, block, token), build)


def figure_explain(
    trace: Trace, selection: Selection, result: ExplainView | None = None
) -> F.Figure:
    """The Explain figure for the selection (see the module docstring)."""
    view = result if result is not None else default_view(trace, selection)
    plots = [_main_plot(trace, selection, view)]
    plots += _pair(trace, view, "reach", view.reach)
    if view.erf:
        plots += _pair(trace, view, "erf", view.erf)
    plots.append(_curve_plot(trace, view))
    title = tr(
        "Explain",
        "Explain · {method} · stage {stage} · block {block}",
        method=view.method,
        stage=view.stage,
        block=view.block,
    )
    data = view.map.astype(np.float32) if view.map.dtype != bool else view.map
    return F.Figure(title=title, plots=tuple(plots), notes=_notes(view), data=data, view="explain")


__all__ = ["NetGeometry", "figure_explain"]
