"""OpenMMLab Swin backbones (mmdetection, mmsegmentation, mmpretrain) -> our layout.

mm names a Swin backbone `stages.N.blocks.M.attn.w_msa.*`, `ffn.layers.0.0` / `ffn.layers.1`
(fc1 / fc2), `patch_embed.projection`, and v1 merges patches at the END of a stage
(`stages.0..2.downsample`), like the official code. mm's PatchMerging gathers the 2x2
neighbours with `nn.Unfold`, which orders the 4C inputs channel-major with the neighbours
row-major: index `c*4 + k`, k over (0,0), (0,1), (1,0), (1,1) as (dy, dx). The official
and our order is neighbour-major, index `n*C + c`, n over (0,0), (1,0), (0,1), (1,1). So
k = [0, 2, 1, 3][n]; mmdet's `swin_converter` applies exactly that when it imports official
weights, and `unfold_to_official` undoes it for the reduction's input columns and, in v1,
for the 4C norm before it (a v2 norm sits after the reduction and is not reordered).
"""

from __future__ import annotations

import re

import torch

from .base import StateDict

NEIGHBOUR_ORDER = [0, 2, 1, 3]  # official neighbour n <-> unfold position k (self-inverse)
_RENAMES = (
    ("patch_embed.projection.", "patch_embed.proj."),
    (".attn.w_msa.", ".attn."),
    (".ffn.layers.0.0.", ".mlp.fc1."),
    (".ffn.layers.1.", ".mlp.fc2."),
)
_STAGE = re.compile(r"^stages\.(\d+)\.")
_DOWNSAMPLE = re.compile(r"^stages\.(\d+)\.downsample\.(.*)$")


def unfold_to_official(x: torch.Tensor) -> torch.Tensor:
    """Undo mmdet's `correct_unfold_reduction_order` (2-D (out, 4C) weight) or
    `correct_unfold_norm_order` (1-D (4C,) norm weight/bias)."""
    if x.dim() == 2:
        out, four_c = x.shape
        y = x.reshape(out, four_c // 4, 4).transpose(1, 2)  # out, k, C
        return y[:, NEIGHBOUR_ORDER, :].reshape(out, four_c)
    y = x.reshape(x.shape[0] // 4, 4).transpose(0, 1)  # k, C
    return y[NEIGHBOUR_ORDER, :].reshape(x.shape[0])


def official_to_unfold(x: torch.Tensor) -> torch.Tensor:
    """mmdet's reordering (the inverse of `unfold_to_official`), for tests and export."""
    if x.dim() == 2:
        out, four_c = x.shape
        y = x.reshape(out, 4, four_c // 4)[:, NEIGHBOUR_ORDER, :]
        return y.transpose(1, 2).reshape(out, four_c)
    y = x.reshape(4, x.shape[0] // 4)[NEIGHBOUR_ORDER, :]
    return y.transpose(0, 1).reshape(x.shape[0])


def is_openmmlab(keys) -> bool:
    keys = set(keys)
    return "patch_embed.projection.weight" in keys and any(
        k.startswith("stages.0.blocks.0.attn.w_msa.") for k in keys
    )


def openmmlab_to_timm(state_dict: StateDict) -> StateDict:
    """Rename an mm backbone (without its `backbone.` prefix) to our keys; the reordered
    merging weights are put back in neighbour-major order. Unknown keys pass through."""
    end_of_stage = any(k.startswith("stages.0.downsample.") for k in state_dict)
    reduction_in = {
        m[1]: v.shape[1]
        for k, v in state_dict.items()
        if (m := _DOWNSAMPLE.match(k)) and m[2] == "reduction.weight" and v.dim() == 2
    }
    out: StateDict = {}
    for key, value in state_dict.items():
        if m := _DOWNSAMPLE.match(key):
            stage, rest = int(m[1]), m[2]
            if rest == "reduction.weight" and value.dim() == 2 and value.shape[1] % 4 == 0:
                value = unfold_to_official(value)
            elif rest.startswith("norm.") and value.shape[0] == reduction_in.get(m[1]):
                value = unfold_to_official(value)  # v1: the norm is over the 4C inputs
            key = f"stages.{stage + 1 if end_of_stage else stage}.downsample.{rest}"
        for old, new in _RENAMES:
            key = key.replace(old, new)
        out[_STAGE.sub(lambda m: f"layers.{m[1]}.", key)] = value
    return out
