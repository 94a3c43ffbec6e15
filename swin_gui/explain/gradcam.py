"""Grad-CAM on a Swin stage output (Selvaraju et al., 2017), defined exactly.

A is the output of stage S, (C, H_s, W_s) as in the Trace (before the next patch merging).
For class K: α_c = mean over (h, w) of ∂y_K/∂A_c; the map is ReLU(Σ_c α_c·A_c), upsampled
bilinearly (align_corners=False) to (H_s·p·2^S, W_s·p·2^S) pixels and cropped to the
input's H × W. The weights are frozen, so the backward pass runs from the logit to A only.
"""

from __future__ import annotations

import numpy as np
import torch

from .common import frozen, grab_output, no_shift, resolve_target, upsample_crop


def gradcam(
    model, x: torch.Tensor, stage: int | None = None, target="top", shift: bool = True
) -> tuple[np.ndarray, dict]:
    """(map (H, W) float32, figures) of class `target` at stage `stage` (default: last)."""
    S = model.cfg.num_stages - 1 if stage is None else stage
    with (
        no_shift(model, not shift),
        frozen(model),
        torch.enable_grad(),
        grab_output(model.layers[S], leaf=True) as box,
    ):
        logits = model(x)
    k = resolve_target(model, logits[0], target)
    A = box["out"]  # 1, h, w, C
    (grad,) = torch.autograd.grad(logits[0, k], A)
    alpha = grad[0].mean(dim=(0, 1))  # C
    cam = (A[0].detach() * alpha).sum(-1).clamp(min=0)  # h, w
    pixels = upsample_crop(cam, S, model.cfg.patch_size, tuple(x.shape[-2:]))
    probs = logits[0].detach().softmax(-1)
    figures = {"target": k, "probability": float(probs[k]), "stage": S}
    return pixels.float().cpu().numpy(), figures
