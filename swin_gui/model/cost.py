"""Analytic cost model: parameter counts and multiply-accumulates (MACs) per part.

Counting follows the official Swin `flops()` methods, which (like checkpoint tables)
count MACs: a Linear on n tokens costs n·C_in·C_out, a LayerNorm n·C, the window
products q·kᵀ and attn·v cost N²·d per head and window. Unlike the official code, which
assumes sizes divisible by everything, the counts here follow what this model computes at
any input size:
- patch embed pads the image to a multiple of the patch size;
- each block pads its token grid to a multiple of its *effective* window (the window
  shrinks to the resolution, and the shift turns off, when min(H, W) <= M), and qkv,
  the window products and proj run on the padded grid; norms and the MLP do not;
- patch merging pads odd sizes.
GELU, softmax, bias/mask additions and the residual adds are not counted (as upstream).
"""

from __future__ import annotations

import math
from collections import defaultdict

from torch import nn

from ..i18n import num
from .config import SwinConfig, nominal_shift
from .geometry import padded_size, window_and_shift

GROUPS = ("patch_embed", "attention", "window_products", "mlp", "merge", "norm", "head")


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (buffers excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _block_macs(cfg: SwinConfig, stage: int, index: int, h: int, w: int) -> dict[str, int]:
    """MACs of one block at an h x w token grid (names relative to the block)."""
    C, heads = cfg.stage_dim(stage), cfg.num_heads[stage]
    shift = nominal_shift(cfg.window_size, index)
    window, _ = window_and_shift(h, w, cfg.window_size, shift)
    tokens = h * w
    padded = padded_size(h, window) * padded_size(w, window)  # tokens the attention sees
    N = window * window
    hidden = int(C * cfg.mlp_ratio)
    parts = {
        "norm1": tokens * C,
        "qkv": padded * C * 3 * C,
        "qk": padded * N * C,  # heads · N² · d per window = N · C per token
        "av": padded * N * C,
        "proj": padded * C * C,
        "norm2": tokens * C,
        "mlp": tokens * 2 * C * hidden,
    }
    if cfg.version == 2:  # continuous position bias MLP over the (2M-1)^2 offsets
        parts["cpb"] = (2 * window - 1) ** 2 * (2 * 512 + 512 * heads)
    return parts


def _merge_macs(cfg: SwinConfig, stage: int, h: int, w: int) -> tuple[dict[str, int], int, int]:
    """MACs of the patch merging that opens `stage`, and the grid after it."""
    C = cfg.stage_dim(stage - 1)
    h2, w2 = math.ceil(h / 2), math.ceil(w / 2)
    n = h2 * w2
    norm_dim = 4 * C if cfg.version == 1 else 2 * C
    return {"reduction": n * 4 * C * 2 * C, "norm": n * norm_dim}, h2, w2


def token_grids(cfg: SwinConfig, height: int, width: int) -> list[tuple[int, int]]:
    """The (H_s, W_s) token grid of each stage for an image of height x width pixels."""
    h, w = math.ceil(height / cfg.patch_size), math.ceil(width / cfg.patch_size)
    grids = [(h, w)]
    for _ in range(1, cfg.num_stages):
        h, w = math.ceil(h / 2), math.ceil(w / 2)
        grids.append((h, w))
    return grids


def macs(cfg: SwinConfig, height: int, width: int) -> dict[str, int]:
    """MACs per part for one height x width image, with dotted names
    (``stage1.block0.qkv``, ``stage2.merge.reduction``, ``head``) and a ``total``."""
    grids = token_grids(cfg, height, width)
    h, w = grids[0]
    out: dict[str, int] = {
        "patch_embed.proj": h * w * cfg.embed_dim * cfg.in_chans * cfg.patch_size**2,
        "patch_embed.norm": h * w * cfg.embed_dim,
    }
    for s in range(cfg.num_stages):
        if s > 0:
            merge, h, w = _merge_macs(cfg, s, h, w)
            out.update({f"stage{s}.merge.{k}": v for k, v in merge.items()})
        for j in range(cfg.depths[s]):
            block = _block_macs(cfg, s, j, h, w)
            out.update({f"stage{s}.block{j}.{k}": v for k, v in block.items()})
    out["norm"] = h * w * cfg.num_features
    out["head"] = cfg.num_features * cfg.num_classes
    out["total"] = sum(out.values())
    return out


def _group_of(name: str) -> str:
    leaf = name.rsplit(".", 1)[-1]
    if name.startswith("patch_embed"):
        return "patch_embed"
    if ".merge." in name:
        return "merge"
    if leaf in ("qkv", "proj", "cpb"):
        return "attention"
    if leaf in ("qk", "av"):
        return "window_products"
    if leaf == "mlp":
        return "mlp"
    if leaf == "head":
        return "head"
    return "norm"


def macs_by_group(parts: dict[str, int]) -> dict[str, int]:
    """Sum `macs()` output into GROUPS: patch_embed, attention (qkv, proj, v2 cpb),
    window_products (q·kᵀ and attn·v), mlp, merge, norm, head; plus ``total``."""
    groups: dict[str, int] = defaultdict(int)
    for name, value in parts.items():
        if name != "total":
            groups[_group_of(name)] += value
    result = {g: groups.get(g, 0) for g in GROUPS}
    result["total"] = sum(result.values())
    return result


def msa_vs_wmsa(h: int, w: int, C: int, M: int) -> dict[str, int]:
    """The paper's per-block attention cost (eq. 1, 2) for an h x w grid of C channels:
    Ω(MSA) = 4hwC² + 2(hw)²C (quadratic in hw) and Ω(W-MSA) = 4hwC² + 2M²hwC (linear)."""
    hw = h * w
    return {"msa": 4 * hw * C * C + 2 * hw * hw * C, "wmsa": 4 * hw * C * C + 2 * M * M * hw * C}


def format_macs(value: float) -> str:
    """4.49e9 -> '4.49 G', 1.2e6 -> '1.20 M' (in Russian '4,49 G': the language's decimal
    separator; the SI prefix stays)."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{num(value / scale, '.2f')} {unit}"
    return num(value, ".0f")
