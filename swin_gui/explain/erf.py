"""The effective receptive field (Luo et al., 2016) of one token, with RepLKNet's figures.

For token (ty, tx) after block B of stage S: g = ∂(Σ_c y[c, ty, tx]) / ∂x, x the
normalised input; the map is Σ over RGB of |g|. The forward pass stops after block B.
RepLKNet (Ding et al., 2022) summarises it by the smallest square centred on the token that
holds 20, 30, 50 and 99 % of the map's mass, given as its side over the image side (the
longer one; a square around an off-centre token may need more than 1).
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from .common import Stop, frozen, grab_output, no_shift

LEVELS = (0.2, 0.3, 0.5, 0.99)


def erf_batch(
    model, x: torch.Tensor, stage: int, block: int, token: tuple[int, int], shift: bool = True
) -> tuple[np.ndarray, list[dict]]:
    """(maps (B, H, W) float32, figures "r20", "r30", "r50", "r99" per image) of a batch
    x (B, 3, H, W): one backward of Σ_b Σ_c y_b[c, ty, tx], each image its own gradient."""
    x = x.detach().clone().requires_grad_(True)
    target = model.layers[stage].blocks[block]
    with (
        no_shift(model, not shift),
        frozen(model),
        torch.enable_grad(),
        grab_output(target, stop=True) as box,
        contextlib.suppress(Stop),
    ):
        model(x)
    y = box["out"]  # B, h, w, C
    ty, tx = token
    if not (0 <= ty < y.shape[1] and 0 <= tx < y.shape[2]):
        raise ValueError(
            f"token {token} is not on the {y.shape[1]}×{y.shape[2]} stage-{stage} grid"
        )
    (g,) = torch.autograd.grad(y[:, ty, tx].sum(), x)
    heat = g.abs().sum(1).float().cpu().numpy()  # B, H, W
    tp = model.cfg.patch_size * 2**stage
    centre = ((ty + 0.5) * tp, (tx + 0.5) * tp)
    return heat, [square_figures(h, centre) for h in heat]


def erf(
    model, x: torch.Tensor, stage: int, block: int, token: tuple[int, int], shift: bool = True
) -> tuple[np.ndarray, dict]:
    """(map (H, W) float32, figures "r20", "r30", "r50", "r99") of one image x (1, 3, H, W)."""
    if x.shape[0] != 1:
        raise ValueError(f"erf takes one image, not {x.shape[0]}: use erf_batch")
    maps, figures = erf_batch(model, x, stage, block, token, shift)
    return maps[0], figures[0]


def square_figures(heat: np.ndarray, centre: tuple[float, float], levels=LEVELS) -> dict:
    """{"r20": side/image side, ...}: the smallest square [c − r, c + r) centred on the
    pixel corner `centre` (y, x) holding each share of the mass of `heat` (H, W)."""
    H, W = heat.shape
    total = float(heat.sum())
    integral = np.zeros((H + 1, W + 1))
    integral[1:, 1:] = heat.astype(np.float64).cumsum(0).cumsum(1)
    cy, cx = round(centre[0]), round(centre[1])  # a pixel corner: tokens are even
    radii = np.arange(1, max(cy, H - cy, cx, W - cx, 1) + 1)  # square [c - r, c + r): side 2r
    y0, y1 = np.clip(cy - radii, 0, H), np.clip(cy + radii, 0, H)
    x0, x1 = np.clip(cx - radii, 0, W), np.clip(cx + radii, 0, W)
    mass = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    out = {}
    for t in levels:
        i = int(np.searchsorted(mass, t * total - 1e-12 * total)) if total > 0 else 0
        out[f"r{round(t * 100)}"] = float(2 * radii[min(i, len(radii) - 1)] / max(H, W))
    return out
