"""The explain lab: where a Swin looks and how far information travels (Qt-free).

    result = swin_gui.explain(model, "star.png", method="gradcam", target="top")
    result.map       # (H, W) at the model input's resolution (bool for "reach")
    result.figures   # the numbers the CLI prints

Methods: `gradcam`, `scorecam` (batched), `rollout` (exact windowed rollout; with `target`
the Chefer et al. 2021 gradient-weighted variant), `erf` (effective receptive field of one
token, with RepLKNet's figures) and `reach` (the structural receptive field, no gradients).
`shift=False` (or "off") runs any method on the counterfactual network with every block's
shift forced to 0. `reach` is pure numpy (`swin_gui.explain.reach`); the rest need torch,
which is imported only when such a method runs.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

METHODS = ("gradcam", "scorecam", "rollout", "erf", "reach")
TOKEN_METHODS = ("erf", "reach")  # a token after a block, defaults: last block, centre token


@dataclass(frozen=True)
class Explanation:
    """One method's answer: `map` (H, W) at the model input's resolution, `figures`, and
    where it was taken (stage, block, token), for which class and with the shift on/off."""

    method: str
    map: np.ndarray
    figures: dict[str, Any]
    image: np.ndarray  # H, W, 3 uint8: the input the map lies over
    stage: int
    block: int
    token: tuple[int, int] | None
    target: int | None
    shift: bool
    geometry: Any = field(default=None, repr=False)  # reach.NetGeometry of that network

    def summary(self) -> str:
        """One line of figures."""
        parts = [f"{self.method}", f"stage {self.stage}"]
        if self.token is not None:
            parts.append(f"block {self.block} token {self.token}")
        parts.append(f"shift {'on' if self.shift else 'off'}")
        for k, v in self.figures.items():
            if k in ("vectors", "stage"):
                continue
            parts.append(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}")
        return " · ".join(parts)


def parse_shift(shift) -> bool:
    if isinstance(shift, str):
        if shift not in ("on", "off"):
            raise ValueError(f"shift must be 'on' or 'off', not {shift!r}")
        return shift == "on"
    return bool(shift)


def explain(
    model,
    image,
    method: str = "gradcam",
    stage: int | None = None,
    block: int | None = None,
    token: tuple[int, int] | None = None,
    target=None,
    shift=True,
    *,
    size="model",
    fit=None,
    batch: int = 16,
    progress=None,
) -> Explanation:
    """Run one explain method on one image (path, PIL image or normalised tensor).

    `target`: a class index, a class name or "top" (None: "top" for the CAMs, the plain
    rollout for "rollout"); `shift`: True/"on" or False/"off" (the counterfactual)."""
    from .common import model_input
    from .reach import NetGeometry, reach_figures, token_reach

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    on = parse_shift(shift)
    x, rgb = model_input(model, image, size, fit)
    H, W = x.shape[-2:]
    geom = NetGeometry.from_model(model, H, W, shift=on)
    S = len(geom.stages) - 1 if stage is None else stage
    if not 0 <= S < len(geom.stages):
        raise ValueError(f"stage {S} is not in 0..{len(geom.stages) - 1}")
    B = len(geom.stages[S]) - 1 if block is None else block
    if not 0 <= B < len(geom.stages[S]):
        raise ValueError(f"block {B} is not in 0..{len(geom.stages[S]) - 1} for stage {S}")
    h, w = geom.resolution(S)
    if method in TOKEN_METHODS and token is None:
        token = (h // 2, w // 2)
    if token is not None and not (0 <= token[0] < h and 0 <= token[1] < w):
        raise ValueError(f"token {tuple(token)} is not on the {h}×{w} grid of stage {S}")
    tgt = None
    if method == "reach":
        m = token_reach(geom, S, B, tuple(token))
        figures = reach_figures(m)
    elif method == "erf":
        from .erf import erf

        m, figures = erf(model, x, S, B, tuple(token), on)
    elif method == "rollout":
        from .rollout import rollout

        m, figures = rollout(model, x, S, B, token, target, on)
        tgt = figures["target"]
    elif method == "gradcam":
        target = "top" if target is None else target
        from .gradcam import gradcam

        m, figures = gradcam(model, x, S, target, on)
        tgt = figures["target"]
    else:
        from .scorecam import scorecam

        target = "top" if target is None else target
        m, figures = scorecam(model, x, S, target, on, batch, progress)
        tgt = figures["target"]
    if method in ("gradcam", "scorecam"):
        token = None  # a stage output: no token, no block
    return Explanation(
        method, m, figures, rgb, S, B, None if token is None else tuple(token), tgt, on, geom
    )


class _CallableModule(types.ModuleType):
    """`swin_gui.explain(...)` works once this package is imported as a module, too."""

    def __call__(self, *args, **kwargs) -> Explanation:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
__all__ = ["METHODS", "Explanation", "explain"]
