"""Small Swin v1/v2 models with perturbed weights, for the lazy-capture and streaming-export
tests (imported by this unique module name, like `ckpt_layouts`)."""

from __future__ import annotations

import torch

from swin_gui.model import SwinConfig, SwinTransformer

SMALL_V1 = SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), num_classes=8)
SMALL_V2 = SMALL_V1.with_(version=2, window_size=8, img_size=256)


def make(cfg: SwinConfig) -> SwinTransformer:
    """A seeded model of `cfg` with every weight nudged, so that norms and biases are
    non-trivial and mistakes show."""
    torch.manual_seed(0)
    m = SwinTransformer(cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m
