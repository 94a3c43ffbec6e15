"""A DeiT/ViT for the cost lab only: the global-attention baseline Swin is measured against.

ViT as in DeiT (Touvron et al. 2021) and timm's `VisionTransformer`: a 16x16 patch
embedding (conv k = s = 16), a class token, learned absolute position embeddings, then
pre-norm blocks `x = x + MSA(LN1(x))`, `x = x + MLP(LN2(x))` over all tokens, a final
LayerNorm and a linear head on the class token. The blocks are torch's own
`nn.TransformerEncoderLayer(norm_first=True, batch_first=True, activation="gelu")`, so the
attention is torch's `MultiheadAttention` (scaled dot-product attention), not ours.

Any input size runs: the image is zero-padded right/bottom to a multiple of 16 (as our Swin
pads), and the position embeddings, trained for a 14x14 grid at 224, are resampled
bicubically (`align_corners=False`) to the new grid, which need not be square; the class
token's embedding is kept as is (timm's `resample_abs_pos_embed`).

`vit_cost` (plain Python in `swin_gui.analysis.costs`, so the torch-free Cost view can use
it; the shape `ViTConfig` is in `swin_gui.model.vit_config`) counts parameters and MACs the
way `swin_gui.model.cost` does for Swin: a Linear on n tokens costs n·C_in·C_out, q·kᵀ and
attn·v cost n²·C each (all heads together), LayerNorm n·C; GELU, softmax, the scaling and
the residual and position-embedding adds are not counted. Presets have random weights: the
lab measures cost, never accuracy.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .vit_config import VIT_PRESETS, ViTConfig, token_grid, vit_preset  # plain Python

__all__ = [
    "VIT_PRESETS",
    "ViTConfig",
    "VisionTransformer",
    "build_vit",
    "resample_pos_embed",
    "token_grid",
    "vit_preset",
]


def resample_pos_embed(pos: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """(1, 1 + g·g, C) trained embeddings -> (1, 1 + rows·cols, C) for a rows x cols grid:
    the class token's row is kept, the g x g patch grid is resampled bicubically."""
    cls, patches = pos[:, :1], pos[:, 1:]
    g = math.isqrt(patches.shape[1])
    if (g, g) == tuple(grid):
        return pos
    C = patches.shape[-1]
    image = patches.reshape(1, g, g, C).permute(0, 3, 1, 2)  # 1, C, g, g
    image = F.interpolate(image, size=tuple(grid), mode="bicubic", align_corners=False)
    return torch.cat([cls, image.permute(0, 2, 3, 1).reshape(1, -1, C)], dim=1)


class VisionTransformer(nn.Module):
    """DeiT/ViT (see the module docstring). forward: (B, 3, H, W) -> (B, classes)."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        D = cfg.embed_dim
        self.patch_embed = nn.Conv2d(cfg.in_chans, D, cfg.patch_size, cfg.patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + cfg.grid**2, D) * 0.02)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                D,
                cfg.num_heads,
                cfg.hidden,
                dropout=0.0,
                activation="gelu",
                layer_norm_eps=cfg.layer_norm_eps,
                batch_first=True,
                norm_first=True,
            )
            for _ in range(cfg.depth)
        )
        self.norm = nn.LayerNorm(D, eps=cfg.layer_norm_eps)
        self.head = nn.Linear(D, cfg.num_classes) if cfg.num_classes else nn.Identity()

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 1 + rows·cols, C): patches, class token, position."""
        p = self.cfg.patch_size
        H, W = x.shape[-2:]
        x = F.pad(x, (0, (-W) % p, 0, (-H) % p))
        x = self.patch_embed(x)  # B, C, rows, cols
        grid = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x + resample_pos_embed(self.pos_embed, tuple(grid))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.tokens(x)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


def build_vit(spec: str | ViTConfig, seed: int = 0) -> VisionTransformer:
    """A ViT from a preset name or config, random weights (seeded), in eval mode."""
    cfg = vit_preset(spec) if isinstance(spec, str) else spec
    torch.manual_seed(seed)
    return VisionTransformer(cfg).eval()
