"""Analytic costs in plain Python (no torch), for the Cost view and the cost lab.

- The comparison ViT's shape (`ViTConfig`, the DeiT presets) and its parameter and MAC
  counts (`vit_params`, `vit_cost`); its shape is `swin_gui.model.vit_config`, the module
  itself `swin_gui.model.vit`.
- `swin_total_macs`: the total of `swin_gui.model.cost.macs` (the same counting rules:
  padding to the patch, to the effective window and for patch merging; LayerNorms counted,
  GELU/softmax/adds not), and `swin_v1_params`, Swin v1's parameter count from its config.
  The tests hold both equal to the torch-side counts.

MACs, as checkpoint tables count them: a Linear on n tokens costs n·C_in·C_out, q·kᵀ and
attn·v cost n²·C (all heads together), LayerNorm n·C.
"""

from __future__ import annotations

import math

from ..model.config import SwinConfig
from ..model.vit_config import VIT_PRESETS, ViTConfig, token_grid, vit_preset

__all__ = [
    "VIT_PRESETS",
    "ViTConfig",
    "swin_total_macs",
    "swin_v1_params",
    "token_grid",
    "vit_cost",
    "vit_params",
    "vit_preset",
]


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
