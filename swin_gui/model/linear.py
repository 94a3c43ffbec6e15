"""The model's Linear layers: `nn.Linear` (same parameters, same checkpoints) whose
inference forward on the CPU runs oneDNN's GEMM on a prepacked copy of the weight, with an
activation fused into it where asked (the MLP's GELU).

Why: qkv, proj, fc1, fc2 and the merge reduction are 75-80 % of a Swin forward, and
`F.linear` on the CPU calls MKL's sgemm, which is slow for Swin's shapes (few rows in
stages 2-3, a short K = 96 in stage 0). oneDNN on a blocked ("prepacked") weight was
1.05-1.35x faster per GEMM on a 2-core EPYC and gives the same numbers for any number of
rows, packed or not, GELU fused or not (`docs/performance.md`); against MKL they differ by
float rounding only (~5e-7 on Swin-T's logits).

When: float32 on the CPU, no gradient needed (inference or `torch.no_grad`), not inside
`torch.compile` (inductor packs weights itself), and the build has oneDNN. Anything else
(training, Grad-CAM's backward, CUDA, meta tensors, a dispatch mode such as the cost
lab's FlopCounterMode) takes `F.linear`, unchanged.
`SWIN_GUI_LINEAR=aten` forces `F.linear` everywhere, `aten_kernels()` in one thread (the
cost lab times Swin against a ViT whose layers are torch's own, so both run on MKL).

The packed copies live in one process-wide cache bounded in bytes (PACKED_BUDGET), never
on the module: an entry goes when its weight is freed (another model loaded) or changed
(a checkpoint loaded into it: the weight's version moves). Once the budget is spent the
remaining layers run oneDNN on the plain weight (same numbers, a little slower), so a big
model never holds a second copy of all its weights.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import _get_current_dispatch_mode

PACKED_BUDGET = 256 * 2**20  # bytes of packed weights kept; beyond it: the plain weight
_THREAD = threading.local()  # .aten: F.linear in this thread (`aten_kernels`)
_ONEDNN = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


class Linear(nn.Linear):
    """`nn.Linear`; `forward(x, then=act)` also applies `act` (fused when it is exact GELU)."""

    def forward(self, x: torch.Tensor, then: nn.Module | None = None) -> torch.Tensor:
        """(..., in_features) -> (..., out_features), then `then` if given."""
        return linear(x, self.weight, self.bias, then)


def linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, then: nn.Module | None = None
) -> torch.Tensor:
    """x·weightᵀ + bias, then `then`: `F.linear`'s contract, on oneDNN where it applies."""
    if not _fast(x, weight):
        y = F.linear(x, weight, bias)
        return y if then is None else then(y)
    fused = isinstance(then, nn.GELU) and then.approximate == "none"
    post = ("gelu", [], "none") if fused else ("none", [], "")
    y = torch.ops.mkldnn._linear_pointwise(x, PACKED.weight(weight), bias, *post)
    return y if fused or then is None else then(y)


def _fast(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether this call can take oneDNN (see the module docstring)."""
    return (
        _ONEDNN
        and x.device.type == "cpu"
        and x.dtype == torch.float32 == weight.dtype
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
        and not torch.compiler.is_compiling()
        and _get_current_dispatch_mode() is None  # counters and tracers see aten ops
        and not getattr(_THREAD, "aten", False)
        and os.environ.get("SWIN_GUI_LINEAR", "") != "aten"
    )


@contextlib.contextmanager
def aten_kernels() -> Iterator[None]:
    """Within: this thread's Linear layers take `F.linear` (other threads are unaffected)."""
    before = getattr(_THREAD, "aten", False)
    _THREAD.aten = True
    try:
        yield
    finally:
        _THREAD.aten = before


class PackedWeights:
    """Prepacked copies of weights, by weight, within `budget` bytes; first come, kept."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: dict[int, tuple[int, torch.Tensor]] = {}  # id -> (version, packed)
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes the packed copies hold now."""
        return sum(p.numel() * p.element_size() for _, p in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def weight(self, weight: torch.Tensor) -> torch.Tensor:
        """The packed copy of `weight` (out, in), made on first use; `weight` itself once
        the budget is spent."""
        key = id(weight)
        entry = self._entries.get(key)
        if entry is not None and entry[0] == weight._version:
            return entry[1]
        with self._lock:
            if entry is None and self.nbytes + weight.numel() * weight.element_size() > self.budget:
                return weight
            packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach())
            if entry is None:  # forget the copy when the weight goes
                weakref.finalize(weight, self._entries.pop, key, None)
            self._entries[key] = (weight._version, packed)
            return packed

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


PACKED = PackedWeights(PACKED_BUDGET)
