"""The official microsoft/Swin-Transformer layout -> our (timm >= 0.9) layout.

The official code merges patches at the END of a stage (`layers.0..2.downsample`) and names
the classifier `head`; timm and our model merge at the START of the next stage
(`layers.1..3.downsample`) and call it `head.fc`. Block parameter names are identical for
v1 and v2. The stored `relative_position_index` / `attn_mask` / `relative_coords_table`
buffers are kept here (they help `infer_config`) and dropped before loading.
"""

from __future__ import annotations

import re

from .base import StateDict, split_v2_qkv_bias

_DOWNSAMPLE = re.compile(r"^layers\.(\d+)\.downsample\.")


def official_to_timm(state_dict: StateDict) -> StateDict:
    """Rename an official checkpoint's keys to ours (tensors are shared, not copied)."""
    out: StateDict = {}
    for key, value in state_dict.items():
        key = _DOWNSAMPLE.sub(lambda m: f"layers.{int(m.group(1)) + 1}.downsample.", key)
        if key.startswith("head.") and not key.startswith("head.fc."):
            key = "head.fc." + key[len("head.") :]
        out[key] = value
    return split_v2_qkv_bias(out)


def timm_to_timm(state_dict: StateDict) -> StateDict:
    """timm >= 0.9 is our layout already; only a fused v2 qkv bias needs splitting."""
    return split_v2_qkv_bias(dict(state_dict))
