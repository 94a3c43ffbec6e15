"""softmax(q·kᵀ + bias + mask)·v over windows, by whichever of two kernels is faster for
the shape on this machine.

- "explicit": the logits, the softmax and the product with v as three ops. The softmax
  is a by-product, so a capture that records it pays nothing more.
- "sdpa": PyTorch's fused `scaled_dot_product_attention` (never materialises the
  probabilities; a capture computes them explicitly as well).

Which one wins depends on the CPU and the PyTorch build (on one 2-core EPYC the explicit
path was 1.6x faster for Swin-T stage 0, on another build SDPA was), so on the CPU the
choice is measured once per process and shape (heads, N, d, masked) on a slice of at
most 16 windows, and remembered; on CUDA SDPA is used (its flash/memory-efficient
kernels). `SWIN_GUI_ATTENTION=explicit|sdpa` forces one path. The choice never depends
on whether a capture is running, so a plain forward, an eager capture and on-demand
attention give the same numbers bit for bit.

Shapes: B_ = B*nW windows, heads, N = M*M tokens per window, d channels per head.
"""

from __future__ import annotations

import os
import threading
import time

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import _disable_current_modes

PATHS = ("explicit", "sdpa")
_CHOSEN: dict[tuple, str] = {}
_LOCK = threading.Lock()
PROBE_WINDOWS = 16  # windows in the one-off timing slice (time scales with windows)


def probabilities(q: torch.Tensor, k: torch.Tensor, additive: torch.Tensor) -> torch.Tensor:
    """softmax(q·kᵀ + additive): q, k (B_, heads, N, d) with q already scaled; additive
    (nW or 1, heads, N, N), repeating every nW windows. Returns (B_, heads, N, N)."""
    logits = q @ k.transpose(-2, -1)  # B_, heads, N, N
    logits.view(-1, *additive.shape).add_(additive)  # B, nW, heads, N, N (+ bias + mask)
    return logits.softmax(dim=-1)  # B_, heads, N, N


def attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, additive: torch.Tensor, keep=None
) -> torch.Tensor:
    """softmax(q·kᵀ + additive)·v, (B_, heads, N, d); q already scaled. `keep` (a list or
    a `WindowProbs`) receives the probabilities (B_, heads, N, N) when given; a keep that
    asks to `reuse` them (the rollout's head means) gets the output from that same softmax."""
    if getattr(keep, "reuse", False) or path_for(q, additive) == "explicit":
        probs = probabilities(q, k, additive)  # B_, heads, N, N
        if keep is not None:
            keep.append(probs)
        return probs @ v  # B_, heads, N, d
    if keep is not None:
        keep.append(probabilities(q, k, additive))
    return sdpa(q, k, v, additive)


def sdpa(q, k, v, additive) -> torch.Tensor:
    """The fused kernel; its mask must broadcast over B_, so a batch repeats the nW masks."""
    if additive.shape[0] not in (1, q.shape[0]):  # batch > 1: one copy per image
        additive = additive.repeat(q.shape[0] // additive.shape[0], 1, 1, 1)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=additive, scale=1.0)


@torch.compiler.disable  # a measured, remembered choice: outside any compiled graph
def path_for(q: torch.Tensor, additive: torch.Tensor) -> str:
    """The path for this shape: forced by SWIN_GUI_ATTENTION, SDPA off the CPU, else the
    one measured faster (once per process and shape)."""
    forced = os.environ.get("SWIN_GUI_ATTENTION", "")
    if forced in PATHS:
        return forced
    if q.device.type != "cpu":
        return "sdpa"
    _, heads, N, d = q.shape
    key = (q.dtype, heads, N, d, additive.shape[0] > 1)
    chosen = _CHOSEN.get(key)
    if chosen is None:
        with _LOCK:
            chosen = _CHOSEN.get(key) or _measure(q, additive)
            _CHOSEN[key] = chosen
    return chosen


def _measure(q: torch.Tensor, additive: torch.Tensor, rounds: int = 5) -> str:
    """Time both paths on random data of this shape (at most PROBE_WINDOWS windows),
    interleaved, best of `rounds`; the faster name."""
    n = min(q.shape[0], PROBE_WINDOWS)
    qkv = torch.randn(3, n, *q.shape[1:], dtype=q.dtype)  # 3, n, heads, N, d
    add = torch.zeros(min(additive.shape[0], n), *additive.shape[1:], dtype=additive.dtype)
    if n % add.shape[0]:
        add = add[:1]
    fns = {
        "explicit": lambda: probabilities(qkv[0], qkv[1], add) @ qkv[2],
        "sdpa": lambda: sdpa(qkv[0], qkv[1], qkv[2], add),
    }
    best = dict.fromkeys(fns, float("inf"))
    # outside any active dispatch mode (a FLOP counter, a profiler's): the probe is no
    # part of the forward pass being observed
    with torch.no_grad(), _disable_current_modes():
        for r in range(rounds + 1):
            for name, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                if r:  # round 0 warms up
                    best[name] = min(best[name], time.perf_counter() - t0)
    return min(best, key=best.get)


def chosen_paths() -> dict[tuple, str]:
    """What was chosen so far in this process: {(dtype, heads, N, d, masked): path}."""
    return dict(_CHOSEN)
