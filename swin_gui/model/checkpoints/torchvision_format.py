"""The torchvision layout (`torchvision.models.swin_t` ... `swin_v2_b`) -> ours.

torchvision keeps everything in one `features` Sequential:
`features.0` = [Conv2d, Permute, LayerNorm] (patch embedding), `features.{2s+1}` = the
blocks of stage s, `features.{2s}` (s >= 1) = the patch merging that opens stage s. A block's
MLP is torchvision's `MLP` Sequential, so fc1/fc2 are `mlp.0` / `mlp.3`. v2 attention
stores one `qkv.bias` whose key third it zeroes on every forward pass; we keep q and v.
Its `relative_position_index` (and v2 `relative_coords_table`) buffers are persistent and
are dropped before loading. Default window: 7 for v1, 8 for v2 (read from the tables when
they are there).
"""

from __future__ import annotations

import re

from .base import StateDict, split_v2_qkv_bias

_STAGE = re.compile(r"^features\.(\d+)\.(.*)$")
_BLOCK = re.compile(r"^(\d+)\.(.*)$")
_MLP = {"mlp.0.": "mlp.fc1.", "mlp.3.": "mlp.fc2.", "attn.v2_logit_scale": "attn.logit_scale"}
_EMBED = {"0.": "patch_embed.proj.", "2.": "patch_embed.norm."}


def torchvision_to_timm(state_dict: StateDict) -> StateDict:
    """Rename a torchvision Swin state dict to our keys; unknown keys pass through
    unchanged so that the strict load names them."""
    out: StateDict = {}
    for key, value in state_dict.items():
        out[_rename(key)] = value
    return split_v2_qkv_bias(out)


def _rename(key: str) -> str:
    m = _STAGE.match(key)
    if m is None:
        return "head.fc." + key[len("head.") :] if key.startswith("head.") else key
    index, rest = int(m.group(1)), m.group(2)
    if index == 0:
        for old, new in _EMBED.items():
            if rest.startswith(old):
                return new + rest[len(old) :]
        return key
    if index % 2 == 0:
        return f"layers.{index // 2}.downsample.{rest}"
    b = _BLOCK.match(rest)
    if b is None:
        return key
    inner = b.group(2)
    for old, new in _MLP.items():
        if inner.startswith(old):
            inner = new + inner[len(old) :]
    return f"layers.{index // 2}.blocks.{b.group(1)}.{inner}"
