"""Building a `Trace` from a recorder's raw tensors, and the NPZ file format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .export_stream import NpzOptions, write_trace_npz
from .model.config import SwinConfig, nominal_shift
from .npz_read import read_trace
from .safe_write import atomic_write
from .trace import BlockTrace, StageTrace, Trace


def _np(t: Any) -> np.ndarray:
    return t.detach().float().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _first(t: torch.Tensor) -> np.ndarray:
    """Batch element 0 as a float32 C-contiguous array."""
    return np.ascontiguousarray(_np(t[0]), dtype=np.float32)


def _block_from_record(data: dict, cfg: SwinConfig, s: int, b: int, source=None) -> BlockTrace:
    """A block from the record; attention, bias, mask and mid left out (None) when the
    record has none: they are then computed on demand by `source`."""
    k = f"stage{s}.block{b}."
    H, W, Hp, Wp = data[k + "grid"]
    window, shift = int(data[k + "window"]), int(data[k + "shift"])
    nW = (Hp // window) * (Wp // window)
    attn, bias = data.get(k + "attn"), data.get(k + "bias")
    if attn is not None:
        attn = attn.reshape(-1, nW, *attn.shape[1:])[0]  # nW, heads, N, N
    mask = data.get(k + "mask")
    scale = data.get(k + "logit_scale")
    return BlockTrace(
        stage=s,
        index=b,
        shift=shift,
        nominal_shift=nominal_shift(cfg.window_size, b),
        window=window,
        resolution=(int(H), int(W)),
        padded=(int(Hp), int(Wp)),
        attn=None if attn is None else np.ascontiguousarray(_np(attn), dtype=np.float32),
        bias=None if bias is None else np.ascontiguousarray(_np(bias), dtype=np.float32),
        mask=None if mask is None else _np(mask).astype(np.float32),
        logit_scale=None if scale is None else _np(scale).astype(np.float32),
        mid=_first(data[k + "mid"]) if k + "mid" in data else None,
        out=_first(data[k + "out"]),
        input=_first(data[k + "in"]) if k + "in" in data else None,
        source=source,
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
    source=None,
) -> Trace:
    """Freeze a `Recorder.data` dict into a `Trace`. Recorded with attention off, the
    blocks compute attention, bias, mask and mid on demand through `source`
    (`swin_gui.model.ondemand.OnDemand`)."""
    stages = _build_stages(
        cfg,
        lambda k: _first(data[k]),
        data.__contains__,
        lambda s, b: _block_from_record(data, cfg, s, b, source),
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
def save_npz(
    trace: Trace, path: str | Path, overwrite: bool = False, options: NpzOptions | None = None
) -> Path:
    """Stream the trace to `path` atomically (temp file + rename); an existing file is
    refused unless `overwrite` (the one default of every writer). `options` is an
    `export_stream.NpzOptions` (attention blocks, dtype, compression)."""
    return atomic_write(path, lambda f: write_trace_npz(trace, f, options), overwrite)


def load_npz(path: str | Path) -> Trace:
    """Read a trace written by `save_npz` (schema 1 or 2, no pickles), checking the version
    and every array's shape against the schema before reading any data; every problem is a
    `TraceFormatError` with one line."""
    return read_trace(path)
