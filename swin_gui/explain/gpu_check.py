"""The explain methods on a device, checked: `python -m swin_gui.explain.gpu_check
[--device cuda] [--size 224] [--batch 4] [--methods gradcam,rollout,...]`.

For each method (Swin-T shape, random weights, a batch of 4 and one image) it prints:
- the device-to-host syncs counted while it runs (CUDA's sync debug mode, "warn"): a
  method may sync a fixed few times (reading the top-1 classes, the figures, the one copy
  of the maps back), never once per block, chunk or batch of masked images, so the count
  must not grow with the number of blocks or masked images;
- the largest difference to the same method on the CPU (the maps must agree);
- the largest difference between the batch and its images one at a time;
- the time and the peak device memory.
On the CPU it runs the same comparisons (no sync count, no peak memory), which is what CI
and a machine without a GPU can check.
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings

import numpy as np
import torch

from . import explain

CASES = {
    "gradcam": dict(stage=3),
    "rollout": dict(),
    "rollout chefer": dict(target=1),
    "erf": dict(stage=2, block=1),
    "reach": dict(stage=2, block=1),
    "scorecam": dict(stage=3, batch=64),
}


def _run(model, x, method: str, kw: dict, sync_counting: bool):
    """(maps (B, H, W), syncs or None, seconds)."""
    name = method.split()[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if sync_counting:
            torch.cuda.set_sync_debug_mode("warn")
        t0 = time.perf_counter()
        try:
            out = explain(model, x, name, **kw)
        finally:
            if sync_counting:
                torch.cuda.set_sync_debug_mode("default")
        seconds = time.perf_counter() - t0
    syncs = sum("synchroniz" in str(w.message) for w in caught) if sync_counting else None
    out = out if isinstance(out, list) else [out]
    return np.stack([r.map for r in out]), syncs, seconds


def main(argv: list[str] | None = None) -> int:
    from ..model import SwinTransformer, preset

    p = argparse.ArgumentParser(prog="python -m swin_gui.explain.gpu_check")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument(
        "--methods", default=",".join(CASES), help="comma-separated, of: " + ", ".join(CASES)
    )
    a = p.parse_args(argv)
    chosen = [m.strip() for m in a.methods.split(",")]
    unknown = [m for m in chosen if m not in CASES]
    if unknown:
        print(f"unknown method(s): {', '.join(unknown)}; choose from: {', '.join(CASES)}")
        return 2
    cuda = a.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print("no CUDA device is available")
        return 1
    torch.manual_seed(0)
    cpu_model = SwinTransformer(preset("swin_tiny_patch4_window7_224")).eval()
    model = copy.deepcopy(cpu_model).to(a.device)
    x = torch.randn(a.batch, 3, a.size, a.size) * 0.5
    print(f"explain on {a.device}, Swin-T {a.size}, batch {a.batch} (random weights)")
    for method in chosen:
        kw = CASES[method]
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        _run(model, x.to(a.device), method, kw, False)  # warm-up
        maps, syncs, seconds = _run(model, x.to(a.device), method, kw, cuda)
        peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else float("nan")
        one, syncs_one, _ = _run(model, x[:1].to(a.device), method, kw, cuda)
        ref, _, _ = _run(cpu_model, x, method, kw, False) if cuda else (maps, None, 0)
        scale = max(float(np.abs(ref).max()), 1e-30)
        to_cpu = float(np.abs(maps.astype(np.float64) - ref).max()) / scale
        batch_vs_one = float(np.abs(maps[:1].astype(np.float64) - one).max()) / scale
        print(
            f"  {method:<15} {seconds * 1e3:8.1f} ms  syncs {syncs} (one image: {syncs_one})"
            f"  peak {peak:7.1f} MiB  |device − cpu| {to_cpu:.1e}  |batch − one| {batch_vs_one:.1e}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
