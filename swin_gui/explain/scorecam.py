"""Score-CAM (Wang et al., 2020): gradient-free class activation, batched.

A is the output of stage S (C, H_s, W_s). Each channel, upsampled as in Grad-CAM and
min-max normalised to [0, 1], masks the normalised input (masked-off pixels become the
mean colour); the class-K logit of each masked image is its score, and the weights are
the softmax of the scores over channels (as pytorch-grad-cam does). The map is
ReLU(Σ_c w_c·A_c), upsampled and cropped like Grad-CAM.

The masked images of a whole batch of inputs (B·C of them) run `batch` per forward pass;
each pass builds only its own masks, so memory stays at one pass's worth. The masked
images do not depend on K: one set of passes scores every class (`scorecam_scores`).
"""

from __future__ import annotations

import numpy as np
import torch

from .common import grab_output, no_shift, resolve_targets, upsample_crop


@torch.no_grad()
def scorecam_scores(model, x, stage=None, shift=True, batch: int = 16, progress=None):
    """(A (B, C, h, w) stage-S outputs, logits (B, classes), scores (B, C, classes): the
    logits of every channel's masked image) for a batch x (B, 3, H, W)."""
    S = model.cfg.num_stages - 1 if stage is None else stage
    p, size = model.cfg.patch_size, tuple(x.shape[-2:])
    with no_shift(model, not shift):
        with grab_output(model.layers[S]) as box:
            logits = model(x)
        A = box["out"].permute(0, 3, 1, 2)  # B, C, h, w
        n, C = A.shape[:2]
        scores = []
        step = max(1, batch)
        for i in range(0, n * C, step):
            pick = torch.arange(i, min(n * C, i + step), device=x.device)
            b, c = pick // C, pick % C
            masks = upsample_crop(A[b, c], S, p, size)  # m, H, W
            lo = masks.flatten(1).min(1).values[:, None, None]
            hi = masks.flatten(1).max(1).values[:, None, None]
            masks = torch.where(hi > lo, (masks - lo) / (hi - lo).clamp(min=1e-12), 0.0)
            scores.append(model(x[b] * masks[:, None]))  # m, classes
            if progress is not None:
                progress(min(n * C, i + step), n * C)
    return A, logits, torch.cat(scores).view(n, C, -1)


def scorecam_map(A: torch.Tensor, scores: torch.Tensor, stage: int, patch: int, size):
    """(..., H, W) maps from A (..., C, h, w) and one class's scores (..., C)."""
    weights = scores.softmax(-1)  # ..., C
    cam = (weights[..., None, None] * A).sum(-3).clamp(min=0)  # ..., h, w
    return upsample_crop(cam, stage, patch, size)


def scorecam_batch(
    model,
    x: torch.Tensor,
    stage: int | None = None,
    target="top",
    shift: bool = True,
    batch: int = 16,
    progress=None,
) -> tuple[np.ndarray, list[dict]]:
    """(maps (B, H, W) float32, figures per image); `target` one for all or one per
    image; `progress(done, total)` after each forward pass of masked images."""
    S = model.cfg.num_stages - 1 if stage is None else stage
    A, logits, scores = scorecam_scores(model, x, S, shift, batch, progress)
    ks = resolve_targets(model, logits, target)
    k = torch.as_tensor(ks, device=x.device)
    per = scores[torch.arange(len(ks), device=x.device), :, k]  # B, C
    pixels = scorecam_map(A, per, S, model.cfg.patch_size, tuple(x.shape[-2:]))
    probs = logits.softmax(-1).gather(1, k[:, None])[:, 0].tolist()
    C = A.shape[1]
    figures = [
        {"target": t, "probability": q, "stage": S, "channels": C, "batch": batch}
        for t, q in zip(ks, probs, strict=True)
    ]
    return pixels.float().cpu().numpy(), figures


def scorecam(model, x, stage=None, target="top", shift=True, batch=16, progress=None):
    """(map (H, W) float32, figures) of one image x (1, 3, H, W)."""
    if x.shape[0] != 1:
        raise ValueError(f"scorecam takes one image, not {x.shape[0]}: use scorecam_batch")
    maps, figures = scorecam_batch(model, x, stage, target, shift, batch, progress)
    return maps[0], figures[0]
