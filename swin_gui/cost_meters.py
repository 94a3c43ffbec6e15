"""Meters for the cost lab (`swin_gui.costlab`): peak activation memory, counted MACs.

- `LiveTensorMemory`: a TorchDispatchMode that adds the bytes of every new tensor storage an
  aten op returns and subtracts them when Python frees the storage (a weakref finalizer),
  so `peak` is the most activation memory alive at once during a forward. Weights and the
  input exist before it starts and are never counted; views and in-place results share an
  input's storage and are not new memory; scratch memory inside a kernel is not seen.
- `flop_counter()`: `torch.utils.flop_counter.FlopCounterMode`, told that torch's CPU
  flash-attention kernel (which it does not know) costs what its SDPA formula says;
  `counted()` reads total and attention-module MACs (FLOPs / 2) from it.
- `measuring()`: no_grad with torch's fused `TransformerEncoderLayer` fast path switched off,
  so a ViT runs (and is counted on) the plain `MultiheadAttention` -> SDPA path.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count


class LiveTensorMemory(TorchDispatchMode):
    """Tracks the bytes of tensor storage that aten ops allocate while active: `peak` (bytes)
    is the most alive at once. Outputs that share storage with an input (views, in-place
    ops) are not new memory."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._sizes: dict[int, int] = {}

    def _free(self, key: int) -> None:
        self.live -= self._sizes.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {_ptr(t) for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}
        for t in tree_leaves(out):
            if not isinstance(t, torch.Tensor) or _ptr(t) in inputs:
                continue
            with contextlib.suppress(RuntimeError, NotImplementedError):
                storage = t.untyped_storage()
                key = id(storage)
                if key not in self._sizes:
                    self._sizes[key] = storage.nbytes()
                    self.live += storage.nbytes()
                    weakref.finalize(storage, self._free, key)
        self.peak = max(self.peak, self.live)
        return out


def _ptr(t: torch.Tensor) -> int:
    try:
        return t.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):
        return -1


def _cpu_sdpa_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)


COUNTER_EXTRAS = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flops}


def flop_counter() -> FlopCounterMode:
    """FlopCounterMode that also knows torch's CPU flash-attention kernel."""
    return FlopCounterMode(display=False, custom_mapping=COUNTER_EXTRAS)


def counted(counter: FlopCounterMode, attn_suffix: str) -> tuple[int, int]:
    """(total MACs, MACs inside modules named *attn_suffix) from a finished counter."""
    attn = sum(
        sum(ops.values())
        for name, ops in counter.get_flop_counts().items()
        if name.endswith(attn_suffix)
    )
    return counter.get_total_flops() // 2, attn // 2


@contextlib.contextmanager
def measuring() -> Iterator[None]:
    """no_grad, and torch's fused TransformerEncoderLayer fast path off (restored after)."""
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad():
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)
