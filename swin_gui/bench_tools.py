"""Timing helpers every bench section shares (below `bench`, `bench_speed` and
`bench_explain`): round-robin medians, device-synchronised calls, peak GPU memory, the
bytes a Trace holds, a noise image."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch


def synced(fn: Callable[[], object], device) -> Callable[[], object]:
    """`fn` followed by a device synchronisation (a no-op on the CPU), for timing."""
    if torch.device(device).type == "cpu":
        return fn

    def run():
        out = fn()
        torch.accelerator.synchronize(device)
        return out

    return run


def peak_memory_line(device) -> str:
    """'peak GPU memory N MiB' since the last reset, or '' on the CPU."""
    if torch.device(device).type != "cuda":
        return ""
    peak = torch.cuda.max_memory_allocated(device) / 2**20
    torch.cuda.reset_peak_memory_stats(device)
    return f"  peak GPU memory    {peak:8.0f} MiB"


def with_env(fn: Callable[[], object], name: str, value: str) -> Callable[[], object]:
    """`fn` run with the environment variable `name` set to `value` (e.g. a kernel choice
    such as SWIN_GUI_LINEAR=aten), restored after."""

    def run():
        old = os.environ.get(name)
        os.environ[name] = value
        try:
            return fn()
        finally:
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old

    return run


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds per function, running them round-robin so drift hits all alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():  # warm-up
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def trace_nbytes(trace) -> int:
    """Bytes held by the arrays of a Trace now: on-demand attention, bias, mask and mid count
    only once computed (arrays shared between fields, e.g. a block's input and the previous
    block's output, count once)."""
    arrays = [trace.input, trace.image, trace.embed, trace.norm_out]
    for st in trace.stages:
        arrays += [st.out, st.merge_in, st.merge_out]
        for b in st.blocks:
            arrays += [b.out, b.input, b.regions]
            arrays += [getattr(b, n) for n in ("attn", "bias", "mask", "mid") if b.computed(n)]
    held = {(a.__array_interface__["data"][0], a.nbytes) for a in arrays if a is not None}
    return sum(n for _, n in held)


def _noise_image(height: int, width: int):
    from PIL import Image

    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")
