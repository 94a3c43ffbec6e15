"""A `Trace` with the documented shapes built from random numbers (no model, no forward
pass), for the NPZ and export tests; `LazyTrace` hands out each block's attention only
when asked and counts how many are alive at once."""

from __future__ import annotations

import math
import weakref
from dataclasses import replace

import numpy as np
import torch
from ckpt_layouts import small_config

from swin_gui.model.geometry import padded_size, shift_mask, window_and_shift
from swin_gui.trace import BlockTrace, StageTrace, Trace


def fake_trace(height: int = 40, width: int = 56, version: int = 1, seed: int = 0) -> Trace:
    """A trace of `small_config` (M = 4, depths 1, 2, 2, 1) on an H x W image."""
    cfg = small_config(version=version)
    rng = np.random.default_rng(seed)

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    hw = (math.ceil(height / cfg.patch_size), math.ceil(width / cfg.patch_size))
    embed = f32(*hw, cfg.embed_dim)
    stages = []
    for s in range(cfg.num_stages):
        merge_in = merge_out = None
        if s:
            merge_in = f32(*hw, cfg.stage_dim(s - 1))
            hw = (math.ceil(hw[0] / 2), math.ceil(hw[1] / 2))
            merge_out = f32(*hw, cfg.stage_dim(s))
        blocks = []
        for b in range(cfg.depths[s]):
            M, shift = window_and_shift(*hw, cfg.window_size, cfg.window_size // 2 if b % 2 else 0)
            Hp, Wp = padded_size(hw[0], M), padded_size(hw[1], M)
            nW, N, heads = (Hp // M) * (Wp // M), M * M, cfg.num_heads[s]
            attn = rng.random((nW, heads, N, N)).astype(np.float32)
            attn /= attn.sum(-1, keepdims=True)
            blocks.append(
                BlockTrace(
                    stage=s,
                    index=b,
                    shift=shift,
                    nominal_shift=cfg.window_size // 2 if b % 2 else 0,
                    window=M,
                    resolution=hw,
                    padded=(Hp, Wp),
                    attn=attn,
                    bias=f32(heads, N, N),
                    mask=shift_mask(Hp, Wp, M, shift).numpy() if shift else None,
                    logit_scale=np.abs(f32(heads)) if version == 2 else None,
                    mid=f32(*hw, cfg.stage_dim(s)),
                    out=f32(*hw, cfg.stage_dim(s)),
                )
            )
        stages.append(
            StageTrace(
                index=s,
                dim=cfg.stage_dim(s),
                heads=cfg.num_heads[s],
                resolution=hw,
                out=f32(*hw, cfg.stage_dim(s)),
                merge_in=merge_in,
                merge_out=merge_out,
                blocks=tuple(blocks),
            )
        )
    features = cfg.stage_dim(cfg.num_stages - 1)
    return Trace(
        config=cfg,
        input=f32(3, height, width),
        image=rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
        embed=embed,
        stages=tuple(stages),
        norm_out=f32(*hw, features),
        pooled=f32(features),
        logits=f32(cfg.num_classes),
        class_names=tuple(f"class {i}" for i in range(cfg.num_classes)),
        meta={"source": "fake", "size": [height, width]},
    )


class _LazyBlock:
    """A block whose `.attn` is a fresh array on every access, tracked while alive."""

    def __init__(self, block: BlockTrace, owner: LazyTrace):
        self._block, self._owner = block, owner

    def __getattr__(self, name):
        return getattr(self._block, name)

    @property
    def attn(self) -> np.ndarray:
        a = self._block.attn.copy()
        self._owner.alive.add(a.ctypes.data)
        weakref.finalize(a, self._owner.alive.discard, a.ctypes.data)
        self._owner.peak = max(self._owner.peak, len(self._owner.alive))
        return a


class LazyTrace:
    """Wraps a Trace; `block(s, b).attn` is computed on access (here: copied), and `peak`
    records the most attention arrays alive at the same time."""

    def __init__(self, trace: Trace):
        stripped = tuple(
            replace(st, blocks=tuple(replace(bt, attn=None) for bt in st.blocks))
            for st in trace.stages
        )
        self._eager, self._trace = trace, replace(trace, stages=stripped)
        self.alive: set[int] = set()
        self.peak = 0

    def __getattr__(self, name):
        return getattr(self._trace, name)

    def block(self, stage: int, index: int):
        return _LazyBlock(self._eager.block(stage, index), self)


def tensor_image(height: int, width: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).random((1, 3, height, width))).float()
