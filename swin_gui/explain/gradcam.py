"""Grad-CAM on a Swin stage output (Selvaraju et al., 2017), defined exactly.

A is the output of stage S, (C, H_s, W_s) as in the Trace (before the next patch merging).
For class K: α_c = mean over (h, w) of ∂y_K/∂A_c; the map is ReLU(Σ_c α_c·A_c), upsampled
bilinearly (align_corners=False) to (H_s·p·2^S, W_s·p·2^S) pixels and cropped to the
input's H × W. The weights are frozen, so the backward pass runs from the logit to A only.
A batch of images runs as one forward and one backward of Σ_b y_b,K_b: the images do not
interact, so each gets exactly its own gradient.
"""

from __future__ import annotations

import numpy as np
import torch

from .common import frozen, grab_output, no_shift, resolve_targets, upsample_crop


def gradcam_batch(
    model, x: torch.Tensor, stage: int | None = None, target="top", shift: bool = True
) -> tuple[np.ndarray, list[dict]]:
    """(maps (B, H, W) float32, figures per image) of class `target` (one for all, or one
    per image) at stage `stage` (default: last) for a batch x (B, 3, H, W)."""
    S = model.cfg.num_stages - 1 if stage is None else stage
    with (
        no_shift(model, not shift),
        frozen(model),
        torch.enable_grad(),
        grab_output(model.layers[S], leaf=True) as box,
    ):
        logits = model(x)
    ks = resolve_targets(model, logits, target)
    k = torch.as_tensor(ks, device=logits.device)[:, None]  # B, 1
    A = box["out"]  # B, h, w, C
    (grad,) = torch.autograd.grad(logits.gather(1, k).sum(), A)
    alpha = grad.mean(dim=(1, 2))  # B, C
    cam = (A.detach() * alpha[:, None, None, :]).sum(-1).clamp(min=0)  # B, h, w
    pixels = upsample_crop(cam, S, model.cfg.patch_size, tuple(x.shape[-2:]))
    probs = logits.detach().softmax(-1).gather(1, k)[:, 0].tolist()
    figures = [{"target": t, "probability": p, "stage": S} for t, p in zip(ks, probs, strict=True)]
    return pixels.float().cpu().numpy(), figures


def gradcam(
    model, x: torch.Tensor, stage: int | None = None, target="top", shift: bool = True
) -> tuple[np.ndarray, dict]:
    """(map (H, W) float32, figures) of one image x (1, 3, H, W)."""
    if x.shape[0] != 1:
        raise ValueError(f"gradcam takes one image, not {x.shape[0]}: use gradcam_batch")
    maps, figures = gradcam_batch(model, x, stage, target, shift)
    return maps[0], figures[0]
