"""The checkpoint layer's shared vocabulary: the error it raises, what a load returns, and
the few key helpers every format converter uses."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import torch

from ..config import SwinConfig
from ..swin import SwinTransformer

StateDict = dict[str, torch.Tensor]

# Buffers some writers store but our model recomputes from the window size.
BUFFER_SUFFIXES = ("relative_position_index", "relative_coords_table", "attn_mask", "k_bias")


class CheckpointError(ValueError):
    """A checkpoint could not be read or does not fit a Swin model; the message is one
    user-readable line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


@dataclass(frozen=True)
class LoadReport:
    """Everything the loader decided, for `swin-gui inspect` and the GUI.

    Args:
        ecosystem: who wrote the file ("timm", "mmdetection", "detectron2", ...).
        wrapper: how the state dict was wrapped ("bare state dict", "{'state_dict': ...}").
        key: the path of the state dict used inside the wrapper ("" for a bare one).
        candidates: every state dict the wrapper holds, by path.
        prefixes: the key prefixes stripped, outermost first ("module.", "_orig_mod.").
        ignored: the keys left out (neck, heads, out-norms), in full.
        skipped_objects: non-tensor globals read as inert placeholders (mmengine objects).
        dtypes: the weights' floating-point dtypes in the file (loaded as float32).
        preprocessing: where mean/std (and interpolation/crop) came from.
        interpolation, crop_pct: as the checkpoint states them ("" / 0 when it does not).
        notes: other decisions, one line each (out-norms, EMA choice).
        warnings: problems that did not stop the load (non-finite weights).
        no_head_reason: why the model has no classification head ("" when it has one).
    """

    ecosystem: str = ""
    wrapper: str = "bare state dict"
    key: str = ""
    candidates: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    skipped_objects: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()
    preprocessing: str = "ImageNet defaults (the checkpoint states none)"
    interpolation: str = ""
    crop_pct: float = 0.0
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    no_head_reason: str = ""


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A ready-to-run model (eval mode, CPU) and where it came from.

    Args:
        model: the network with every weight loaded strictly.
        config: the architecture it was built from.
        format: "official", "timm", "torchvision", "huggingface" or "swin-gui".
        source: the file or directory it was read from.
        class_names: one name per output class (empty for a headless model).
        report: what the loader decided on the way (wrapper, prefixes, ignored keys, ...).
    """

    model: SwinTransformer
    config: SwinConfig
    format: str
    source: str
    class_names: tuple[str, ...]
    report: LoadReport = field(default_factory=LoadReport)


def few(keys: Iterable[str], limit: int = 4) -> str:
    """At most `limit` keys for an error message, with a count of the rest."""
    keys = sorted(keys)
    shown = ", ".join(keys[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


def prefix_summary(keys: Iterable[str], limit: int = 5) -> str:
    """'12 keys under neck., rpn_head.' for a report line."""
    keys = list(keys)
    heads = sorted({k.split(".", 1)[0] + "." if "." in k else k for k in keys})
    shown = ", ".join(heads[:limit]) + (
        f" (+{len(heads) - limit} more)" if len(heads) > limit else ""
    )
    return f"{len(keys)} key{'s' if len(keys) != 1 else ''} under {shown}"


def is_buffer_key(key: str) -> bool:
    """Keys of recomputed buffers (relative_position_index, attn_mask, ...)."""
    return key.rsplit(".", 1)[-1] in BUFFER_SUFFIXES


def strip_buffers(state_dict: Mapping[str, torch.Tensor]) -> StateDict:
    """The state dict without the buffers our model recomputes."""
    return {k: v for k, v in state_dict.items() if not is_buffer_key(k)}


def describe(cfg: SwinConfig) -> str:
    """A short architecture summary for error messages."""
    return (
        f"Swin v{cfg.version} C={cfg.embed_dim} depths={list(cfg.depths)} "
        f"heads={list(cfg.num_heads)} M={cfg.window_size} patch={cfg.patch_size} "
        f"classes={cfg.num_classes}"
    )


def split_v2_qkv_bias(state_dict: StateDict) -> StateDict:
    """Swin v2 with a fused `attn.qkv.bias` (torchvision, some timm exports): keep its q
    and v thirds as `q_bias` / `v_bias`. The k third is ignored: torchvision zeroes it in
    every forward pass and the paper's v2 attention has no key bias."""
    out: StateDict = {}
    for key, value in state_dict.items():
        prefix = key[: -len("qkv.bias")]
        if key.endswith("attn.qkv.bias") and f"{prefix}logit_scale" in state_dict:
            q, _, v = value.chunk(3)
            out[f"{prefix}q_bias"], out[f"{prefix}v_bias"] = q, v
        else:
            out[key] = value
    return out


def embed_small_tables(state_dict: StateDict, window: int) -> StateDict:
    """v1 writers (official, timm) shrink M to a stage's resolution when it is smaller and
    store a ((2r-1)^2, heads) table there. Our model keeps one M and reads the central
    (2r-1)^2 part of a ((2M-1)^2, heads) table for such a stage, so place the small table
    at the centre (the rest is zero and is only read at inputs larger than the native)."""
    side = 2 * window - 1
    out = dict(state_dict)
    for key, table in state_dict.items():
        if not key.endswith("relative_position_bias_table") or table.dim() != 2:
            continue
        small = math.isqrt(table.shape[0])
        if small * small != table.shape[0] or small >= side or small % 2 == 0:
            continue
        grid = table.new_zeros(side, side, table.shape[1])  # 2M-1, 2M-1, heads
        start = (side - small) // 2
        grid[start : start + small, start : start + small] = table.view(small, small, -1)
        out[key] = grid.view(side * side, -1)
    return out
