"""What the Explain panel shows, computed in one job from a trace and the selection: the
chosen method's map, the selected token's reach and erf with the shift on and off, and the
reach area after every block for both networks. `compute_view` runs off the GUI thread;
`ExplainView` is plain numpy, drawn by `swin_gui.render.explain.figure_explain`.
"""

from __future__ import annotations

import copy
import weakref
from dataclasses import dataclass, field

import numpy as np

from .reach import NetGeometry, reach_curve, reach_figures, token_reach

_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def private_copy(model):
    """A copy of `model` for the explain jobs alone, cached per model (rebuilt when a
    weight changes). The methods add hooks, toggle `requires_grad` and set the shifts to 0
    on the network they run; the GUI's model may be capturing on another thread meanwhile,
    so they never touch it. The panel runs one job at a time, so the copy is never shared."""
    key = tuple((p.data_ptr(), p._version) for p in model.parameters())
    hit = _COPIES.get(model)
    if hit is not None and hit[0] == key:
        return hit[1]
    twin = copy.deepcopy(model).eval()
    _COPIES[model] = (key, twin)
    return twin


class Cancelled(RuntimeError):
    """A newer request superseded this one."""


@dataclass(frozen=True)
class ExplainView:
    """The numbers behind one Explain figure."""

    method: str
    stage: int
    block: int
    token: tuple[int, int]
    shift: bool  # the method's map was computed with the shift on
    map: np.ndarray  # H, W (bool for reach)
    figures: dict
    target: int | None = None
    target_name: str = ""
    reach: dict = field(default_factory=dict)  # "on"/"off" -> (H, W) bool
    erf: dict = field(default_factory=dict)  # "on"/"off" -> (H, W) float, when a model ran
    curves: dict = field(default_factory=dict)  # "on"/"off" -> [(label, area px), ...]

    def matches(self, stage: int, block: int, token) -> bool:
        return (self.stage, self.block, self.token) == (stage, block, tuple(token))


def clamp_token(trace, stage: int, token) -> tuple[int, int]:
    H, W = trace.stages[stage].resolution
    if token is None:
        return H // 2, W // 2
    return min(max(0, token[0]), H - 1), min(max(0, token[1]), W - 1)


def structural(trace, stage: int, block: int, token) -> tuple[dict, dict]:
    """(reach, curves) for shift on and off: numpy only, no model."""
    tp = trace.token_pixels(stage)
    point = ((token[0] + 0.5) * tp, (token[1] + 0.5) * tp)
    reach, curves = {}, {}
    for name, on in (("on", True), ("off", False)):
        geom = NetGeometry.from_trace(trace, shift=on)
        reach[name] = token_reach(geom, stage, block, token)
        curves[name] = reach_curve(geom, point)
    return reach, curves


def compute_view(
    model,
    trace,
    stage: int,
    block: int,
    token,
    method: str = "reach",
    target=None,
    shift: bool = True,
    progress=None,
    should_cancel=None,
) -> ExplainView:
    """Every piece of the figure for this selection; `should_cancel()` is polled between
    pieces (and between Score-CAM batches) and raises `Cancelled`."""

    def check(done: int = 0, total: int = 1) -> None:
        if should_cancel is not None and should_cancel():
            raise Cancelled("superseded")
        if progress is not None:
            progress(done, total)

    token = clamp_token(trace, stage, token)
    reach, curves = structural(trace, stage, block, token)
    check(1, 4)
    erf_maps: dict = {}
    figures: dict = {}
    tgt, name = None, ""
    if model is None:
        m = reach["on" if shift else "off"]
        figures = reach_figures(m)
        method = "reach"
    else:
        import torch

        from . import explain

        x = torch.tensor(trace.input)[None]  # a copy: trace arrays are read-only
        x = x.to(next(model.parameters()).device)
        net = private_copy(model)
        erfs = {}
        for label, on in (("on", True), ("off", False)):
            erfs[label] = explain(net, x, "erf", stage, block, token, shift=on)
            erf_maps[label] = erfs[label].map
            check(2 if on else 3, 4)
        if method == "reach":
            m = reach["on" if shift else "off"]
            figures = reach_figures(m)
        elif method == "erf":
            r = erfs["on" if shift else "off"]
            m, figures = r.map, r.figures
        else:
            r = explain(
                net, x, method, stage, block, None, target, shift, progress=lambda d, t: check(d, t)
            )
            m, figures, tgt = r.map, r.figures, r.target
            if tgt is not None:
                name = trace.class_name(tgt)
    figures = {k: v for k, v in figures.items() if k != "vectors"}
    return ExplainView(
        method, stage, block, token, shift, m, figures, tgt, name, reach, erf_maps, curves
    )
