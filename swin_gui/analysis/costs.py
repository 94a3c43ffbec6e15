"""Analytic costs in plain Python (no torch), for the Cost view and the cost lab.

- The comparison ViT's shape (`ViTConfig`, the DeiT presets) and its parameter and MAC
  counts (`vit_params`, `vit_cost`); the module itself is `swin_gui.model.vit`.
- `swin_total_macs`: the total of `swin_gui.model.cost.macs` (the same counting rules:
  padding to the patch, to the effective window and for patch merging; LayerNorms counted,
  GELU/softmax/adds not), and `swin_v1_params`, Swin v1's parameter count from its config.
  The tests hold both equal to the torch-side counts.

MACs, as checkpoint tables count them: a Linear on n tokens costs n·C_in·C_out, q·kᵀ and
attn·v cost n²·C (all heads together), LayerNorm n·C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..model.config import SwinConfig


@dataclass(frozen=True)
class ViTConfig:
    """The shape of a ViT. `img_size` fixes the trained position-embedding grid."""

    name: str = "vit"
    img_size: int = 224
    patch_size: int = 16
    in_chans: int = 3
    embed_dim: int = 384
    depth: int = 12
    num_heads: int = 6
    mlp_ratio: float = 4.0
    num_classes: int = 1000
    layer_norm_eps: float = 1e-6

    def __post_init__(self) -> None:
        if self.embed_dim % self.num_heads:
            raise ValueError(f"{self.embed_dim} channels not divisible by {self.num_heads} heads")

    @property
    def grid(self) -> int:
        """Side of the trained position-embedding grid (14 at 224 / 16)."""
        return self.img_size // self.patch_size

    @property
    def hidden(self) -> int:
        return int(self.embed_dim * self.mlp_ratio)

    def with_(self, **changes) -> ViTConfig:
        return replace(self, **changes)


VIT_PRESETS: dict[str, ViTConfig] = {
    c.name: c
    for c in (
        ViTConfig("vit_tiny_patch16_224", embed_dim=192, depth=12, num_heads=3),
        ViTConfig("vit_small_patch16_224", embed_dim=384, depth=12, num_heads=6),
        ViTConfig("vit_base_patch16_224", embed_dim=768, depth=12, num_heads=12),
    )
}


def vit_preset(name: str) -> ViTConfig:
    """A ViT preset by its timm name; KeyError with the known names."""
    try:
        return VIT_PRESETS[name]
    except KeyError:
        known = ", ".join(VIT_PRESETS)
        raise KeyError(f"unknown ViT preset {name!r}; known: {known}") from None


def token_grid(cfg: ViTConfig, height: int, width: int) -> tuple[int, int]:
    """(rows, cols) of patch tokens for a height x width image (padded to the patch)."""
    return math.ceil(height / cfg.patch_size), math.ceil(width / cfg.patch_size)


def vit_params(cfg: ViTConfig) -> int:
    """Parameters of `VisionTransformer(cfg)`, counted from the shapes."""
    D, hid = cfg.embed_dim, cfg.hidden
    embed = cfg.in_chans * cfg.patch_size**2 * D + D + D + (1 + cfg.grid**2) * D
    block = (3 * D * D + 3 * D) + (D * D + D) + (D * hid + hid) + (hid * D + D) + 4 * D
    head = (D * cfg.num_classes + cfg.num_classes) if cfg.num_classes else 0
    return embed + cfg.depth * block + 2 * D + head


def vit_cost(cfg: ViTConfig, height: int, width: int) -> dict[str, int]:
    """Parameters and MACs per part for one height x width image: ``patch_embed``,
    ``attention`` (qkv + proj), ``attention_products`` (q·kᵀ + attn·v), ``mlp``, ``norm``,
    ``head``; ``matmul`` (what FlopCounterMode counts: all but the norms), ``total``,
    ``params``, ``tokens`` (1 + rows·cols) and ``msa`` (the paper's Ω(MSA) summed over the
    blocks, with hw = rows·cols patch tokens)."""
    rows, cols = token_grid(cfg, height, width)
    hw = rows * cols
    n, D, L = 1 + hw, cfg.embed_dim, cfg.depth
    parts = {
        "patch_embed": hw * D * cfg.in_chans * cfg.patch_size**2,
        "attention": L * (n * D * 3 * D + n * D * D),
        "attention_products": L * 2 * n * n * D,
        "mlp": L * 2 * n * D * cfg.hidden,
        "norm": (2 * L + 1) * n * D,
        "head": D * cfg.num_classes,
    }
    parts["matmul"] = sum(v for k, v in parts.items() if k != "norm")
    parts["total"] = parts["matmul"] + parts["norm"]
    parts["params"] = vit_params(cfg)
    parts["tokens"] = n
    parts["msa"] = L * (4 * hw * D * D + 2 * hw * hw * D)
    return parts


# ---- Swin -------------------------------------------------------------------------------
def _window(h: int, w: int, M: int) -> int:
    """The effective window: the resolution itself when min(h, w) <= M."""
    return min(h, w) if min(h, w) <= M else M


def _swin_block_macs(cfg: SwinConfig, stage: int, index: int, h: int, w: int) -> int:
    C, heads = cfg.stage_dim(stage), cfg.num_heads[stage]
    M = _window(h, w, cfg.window_size)
    padded = math.ceil(h / M) * M * math.ceil(w / M) * M
    hidden = int(C * cfg.mlp_ratio)
    total = 2 * h * w * C + padded * (4 * C * C + 2 * M * M * C) + h * w * 2 * C * hidden
    if cfg.version == 2:  # continuous position bias MLP over the (2M-1)^2 offsets
        total += (2 * M - 1) ** 2 * (2 * 512 + 512 * heads)
    return total


def swin_total_macs(cfg: SwinConfig, height: int, width: int) -> int:
    """Total MACs of one height x width image (= `model.cost.macs(...)["total"]`)."""
    h, w = math.ceil(height / cfg.patch_size), math.ceil(width / cfg.patch_size)
    total = h * w * cfg.embed_dim * (cfg.in_chans * cfg.patch_size**2 + 1)
    for s in range(cfg.num_stages):
        if s > 0:
            C = cfg.stage_dim(s - 1)
            h, w = math.ceil(h / 2), math.ceil(w / 2)
            total += h * w * (8 * C * C + (4 * C if cfg.version == 1 else 2 * C))
        total += sum(_swin_block_macs(cfg, s, j, h, w) for j in range(cfg.depths[s]))
    return total + h * w * cfg.num_features + cfg.num_features * cfg.num_classes


def swin_v1_params(cfg: SwinConfig) -> int:
    """Parameters of a Swin v1 `SwinTransformer(cfg)` (relative position bias tables
    included, the index buffers and masks not)."""
    if cfg.version != 1:
        raise ValueError("swin_v1_params counts Swin v1 only")
    C0, P, M = cfg.embed_dim, cfg.patch_size, cfg.window_size
    total = cfg.in_chans * P * P * C0 + C0 + 2 * C0  # conv + LayerNorm
    for s in range(cfg.num_stages):
        C, heads, hidden = cfg.stage_dim(s), cfg.num_heads[s], int(cfg.stage_dim(s) * cfg.mlp_ratio)
        if s > 0:
            c = cfg.stage_dim(s - 1)
            total += 2 * 4 * c + 4 * c * 2 * c  # LayerNorm(4C) + Linear(4C -> 2C, no bias)
        qkv = 3 * C * C + (3 * C if cfg.qkv_bias else 0)
        block = 4 * C + qkv + (2 * M - 1) ** 2 * heads + C * C + C
        block += C * hidden + hidden + hidden * C + C
        total += cfg.depths[s] * block
    F = cfg.num_features
    return total + 2 * F + (F * cfg.num_classes + cfg.num_classes if cfg.num_classes else 0)
