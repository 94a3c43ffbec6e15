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


def is_batch(image) -> bool:
    """A list/tuple of images, or a (B, 3, H, W) tensor with B > 1."""
    if isinstance(image, (list, tuple)):
        return True
    return getattr(image, "dim", lambda: 0)() == 4 and image.shape[0] > 1


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
) -> Explanation | list[Explanation]:
    """Run one explain method on one image (path, PIL image or normalised tensor), or on a
    batch of same-size images (a list of them, or a (B, 3, H, W) tensor): then the methods
    run batched and a list with one `Explanation` per image comes back, each equal to what
    that image alone gives.

    `target`: a class index, a class name or "top" (None: "top" for the CAMs, the plain
    rollout for "rollout"), or a list with one per image; `shift`: True/"on" or
    False/"off" (the counterfactual); `batch`: Score-CAM's masked images per pass."""
    from .common import model_input
    from .reach import NetGeometry, reach_figures, token_reach

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    on = parse_shift(shift)
    x, rgbs = model_input(model, image, size, fit)
    n, (H, W) = x.shape[0], x.shape[-2:]
    if isinstance(target, (list, tuple)) and len(target) != n:
        raise ValueError(f"got {len(target)} targets for {n} images")
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
    if method == "reach":  # geometry only: one answer serves every image of the batch
        m = token_reach(geom, S, B, tuple(token))
        maps, figures = [m.copy() for _ in range(n)], [reach_figures(m) for _ in range(n)]
    elif method == "erf":
        from .erf import erf_batch

        maps, figures = erf_batch(model, x, S, B, tuple(token), on)
    elif method == "rollout":
        from .rollout import rollout_batch

        maps, figures = rollout_batch(model, x, S, B, token, target, on)
    elif method == "gradcam":
        from .gradcam import gradcam_batch

        maps, figures = gradcam_batch(model, x, S, "top" if target is None else target, on)
    else:
        from .scorecam import scorecam_batch

        target = "top" if target is None else target
        maps, figures = scorecam_batch(model, x, S, target, on, batch, progress)
    if method in ("gradcam", "scorecam"):
        token = None  # a stage output: no token, no block
    results = [
        Explanation(
            method,
            maps[i],
            figures[i],
            rgbs[i],
            S,
            B,
            None if token is None else tuple(token),
            figures[i].get("target"),
            on,
            geom,
        )
        for i in range(n)
    ]
    return results if is_batch(image) else results[0]


class _CallableModule(types.ModuleType):
    """`swin_gui.explain(...)` works once this package is imported as a module, too."""

    def __call__(self, *args, **kwargs) -> Explanation:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
__all__ = ["METHODS", "Explanation", "explain", "is_batch"]
