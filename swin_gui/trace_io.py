"""Building a `Trace` from a recorder's raw tensors, and the NPZ file format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .model.config import SwinConfig
from .trace import SCHEMA_VERSION, BlockTrace, StageTrace, Trace


def _np(t: Any) -> np.ndarray:
    return t.detach().float().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _first(t: torch.Tensor) -> np.ndarray:
    """Batch element 0 as a float32 C-contiguous array."""
    return np.ascontiguousarray(_np(t[0]), dtype=np.float32)


def _block_from_record(data: dict, cfg: SwinConfig, s: int, b: int) -> BlockTrace:
    k = f"stage{s}.block{b}."
    H, W, Hp, Wp = data[k + "grid"]
    window, shift = int(data[k + "window"]), int(data[k + "shift"])
    nW = (Hp // window) * (Wp // window)
    attn = data[k + "attn"]
    attn = attn.reshape(-1, nW, *attn.shape[1:])[0]  # nW, heads, N, N
    mask = data.get(k + "mask")
    scale = data.get(k + "logit_scale")
    return BlockTrace(
        stage=s,
        index=b,
        shift=shift,
        nominal_shift=cfg.window_size // 2 if b % 2 else 0,
        window=window,
        resolution=(int(H), int(W)),
        padded=(int(Hp), int(Wp)),
        attn=np.ascontiguousarray(_np(attn), dtype=np.float32),
        bias=np.ascontiguousarray(_np(data[k + "bias"]), dtype=np.float32),
        mask=None if mask is None else _np(mask).astype(np.float32),
        logit_scale=None if scale is None else _np(scale).astype(np.float32),
        mid=_first(data[k + "mid"]),
        out=_first(data[k + "out"]),
    )


def _build_stages(
    cfg: SwinConfig,
    grid: Callable[[str], np.ndarray],
    has: Callable[[str], bool],
    block: Callable[[int, int], BlockTrace],
) -> tuple[StageTrace, ...]:
    """Stages from a key -> (H, W, C) array source (a recorder or an NPZ file)."""
    stages = []
    for s in range(cfg.num_stages):
        out = grid(f"stage{s}.out")
        merged = has(f"stage{s}.merge.in")
        stages.append(
            StageTrace(
                index=s,
                dim=cfg.stage_dim(s),
                heads=cfg.num_heads[s],
                resolution=(out.shape[0], out.shape[1]),
                out=out,
                merge_in=grid(f"stage{s}.merge.in") if merged else None,
                merge_out=grid(f"stage{s}.merge.out") if merged else None,
                blocks=tuple(block(s, b) for b in range(cfg.depths[s])),
            )
        )
    return tuple(stages)


def trace_from_record(
    data: dict,
    cfg: SwinConfig,
    input_tensor: torch.Tensor,
    image: np.ndarray,
    class_names: tuple[str, ...] = (),
    meta: dict | None = None,
) -> Trace:
    """Freeze a `Recorder.data` dict (captured with attention on) into a `Trace`."""
    stages = _build_stages(
        cfg,
        lambda k: _first(data[k]),
        data.__contains__,
        lambda s, b: _block_from_record(data, cfg, s, b),
    )
    logits = data["logits"] if cfg.num_classes else None
    return Trace(
        config=cfg,
        input=_first(input_tensor),
        image=np.ascontiguousarray(image, dtype=np.uint8),
        embed=_first(data["embed.out"]),
        stages=stages,
        norm_out=_first(data["norm.out"]),
        pooled=_first(data["pooled"]),
        logits=None if logits is None else _first(logits),
        class_names=tuple(class_names),
        meta=dict(meta or {}),
    )


# ---- NPZ ------------------------------------------------------------------------------
def _chw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(2, 0, 1))  # H, W, C -> C, H, W


def trace_arrays(trace: Trace) -> dict[str, np.ndarray]:
    """The NPZ key -> array mapping (the README documents every key)."""
    arrays: dict[str, np.ndarray] = {
        "schema_version": np.array(SCHEMA_VERSION),
        "config": np.array(json.dumps(trace.config.to_dict())),
        "meta": np.array(json.dumps(trace.meta, default=str)),
        "class_names": np.array(trace.class_names, dtype=str),
        "input": trace.input,
        "image": trace.image,
        "embed.out": _chw(trace.embed),
        "norm.out": _chw(trace.norm_out),
        "pooled": trace.pooled,
    }
    if trace.logits is not None:
        arrays["logits"] = trace.logits
    for st in trace.stages:
        s = f"stage{st.index}"
        arrays[f"{s}.out"] = _chw(st.out)
        if st.merge_in is not None:
            arrays[f"{s}.merge.in"] = _chw(st.merge_in)
            arrays[f"{s}.merge.out"] = _chw(st.merge_out)
        for bt in st.blocks:
            k = f"{s}.block{bt.index}"
            arrays.update(
                {
                    f"{k}.attn": bt.attn,
                    f"{k}.bias": bt.bias,
                    f"{k}.shift": np.array(bt.shift),
                    f"{k}.window": np.array(bt.window),
                    f"{k}.padded": np.array(bt.padded),
                    f"{k}.mid": _chw(bt.mid),
                    f"{k}.out": _chw(bt.out),
                }
            )
            if bt.mask is not None:
                arrays[f"{k}.mask"] = bt.mask
            if bt.logit_scale is not None:
                arrays[f"{k}.logit_scale"] = bt.logit_scale
    return arrays


def save_npz(trace: Trace, path: str | Path, overwrite: bool = True) -> Path:
    """Write atomically (temp file + rename); see `swin_gui.export.atomic_write`."""
    from .export import save_trace_npz

    return save_trace_npz(trace, path, overwrite=overwrite)


def _hwc(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(1, 2, 0))


def _load_block(z, cfg: SwinConfig, s: int, b: int) -> BlockTrace:
    k = f"stage{s}.block{b}"
    mid, out = _hwc(z[f"{k}.mid"]), _hwc(z[f"{k}.out"])
    return BlockTrace(
        stage=s,
        index=b,
        shift=int(z[f"{k}.shift"]),
        nominal_shift=cfg.window_size // 2 if b % 2 else 0,
        window=int(z[f"{k}.window"]),
        resolution=(mid.shape[0], mid.shape[1]),
        padded=tuple(int(v) for v in z[f"{k}.padded"]),
        attn=z[f"{k}.attn"],
        bias=z[f"{k}.bias"],
        mask=z.get(f"{k}.mask"),
        logit_scale=z.get(f"{k}.logit_scale"),
        mid=mid,
        out=out,
    )


def load_npz(path: str | Path) -> Trace:
    """Read a trace written by `save_npz` (no pickles)."""
    with np.load(path, allow_pickle=False) as z:
        cfg_dict = json.loads(str(z["config"]))
        cfg = SwinConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg_dict.items()})
        stages = _build_stages(
            cfg, lambda k: _hwc(z[k]), z.__contains__, lambda s, b: _load_block(z, cfg, s, b)
        )
        return Trace(
            config=cfg,
            input=z["input"],
            image=z["image"],
            embed=_hwc(z["embed.out"]),
            stages=stages,
            norm_out=_hwc(z["norm.out"]),
            pooled=z["pooled"],
            logits=z.get("logits"),
            class_names=tuple(str(c) for c in z["class_names"]),
            meta=json.loads(str(z["meta"])),
        )
