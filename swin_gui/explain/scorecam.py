"""Score-CAM (Wang et al., 2020): gradient-free class activation, batched.

A is the output of stage S (C, H_s, W_s). Each channel, upsampled as in Grad-CAM and
min-max normalised to [0, 1], masks the normalised input (masked-off pixels become the
mean colour); the class-K logit of each masked image is its score, and the weights are
the softmax of the scores over channels (as pytorch-grad-cam does). The map is
ReLU(Σ_c w_c·A_c), upsampled and cropped like Grad-CAM. `batch` masked images run per
forward pass.
"""

from __future__ import annotations

import numpy as np
import torch

from .common import grab_output, no_shift, resolve_target, upsample_crop


@torch.no_grad()
def scorecam(
    model,
    x: torch.Tensor,
    stage: int | None = None,
    target="top",
    shift: bool = True,
    batch: int = 16,
    progress=None,
) -> tuple[np.ndarray, dict]:
    """(map (H, W) float32, figures); `progress(done, total)` after each batch."""
    S = model.cfg.num_stages - 1 if stage is None else stage
    p, size = model.cfg.patch_size, tuple(x.shape[-2:])
    with no_shift(model, not shift):
        with grab_output(model.layers[S]) as box:
            logits = model(x)
        k = resolve_target(model, logits[0], target)
        A = box["out"][0].permute(2, 0, 1)  # C, h, w
        masks = torch.stack([upsample_crop(a, S, p, size) for a in A])  # C, H, W
        lo = masks.flatten(1).min(1).values[:, None, None]
        hi = masks.flatten(1).max(1).values[:, None, None]
        masks = torch.where(hi > lo, (masks - lo) / (hi - lo).clamp(min=1e-12), 0.0)
        scores = []
        for i in range(0, len(masks), max(1, batch)):
            scores.append(model(x * masks[i : i + batch, None])[:, k])
            if progress is not None:
                progress(min(len(masks), i + batch), len(masks))
    weights = torch.cat(scores).softmax(0)  # C
    cam = (weights[:, None, None] * A).sum(0).clamp(min=0)  # h, w
    pixels = upsample_crop(cam, S, p, size)
    figures = {
        "target": k,
        "probability": float(logits[0].softmax(-1)[k]),
        "stage": S,
        "channels": len(masks),
        "batch": batch,
    }
    return pixels.float().cpu().numpy(), figures
