"""`swin-gui bench` speed sections: scaling with the input size, batched throughput and
torch.compile, measured like the rest of `swin_gui.bench` (interleaved medians in one
process, synchronised on a GPU)."""

from __future__ import annotations

import time

import torch

from .api import capture
from .bench_tools import _noise_image, interleaved, peak_memory_line, synced, trace_nbytes
from .model import Recorder, SwinTransformer


def bench_scaling(model: SwinTransformer, sizes: list[int], repeats: int, device="cpu") -> None:
    print(
        f"[scaling] Swin-T, batch 1, {device}, median of {repeats}; linear cost means time ∝ "
        "pixels; capture is lazy (attention on demand), eager records every block's "
        "attention (bound ≤ 1.3x plain at 1024), trace MB what the lazy trace holds"
    )
    print(
        f"  {'size':>6} {'plain ms':>9} {'capture ms':>11} {'capture×':>9} {'eager×':>7} "
        f"{'trace MB':>9} {'pixels×':>8} {'plain×':>7} {'trace×':>7}"
    )
    base = None
    for n in sizes:
        x = torch.randn(1, 3, n, n, device=device)
        fns = {
            "plain": lambda x=x: model(x),
            "capture": lambda x=x: capture(model, x),
            "eager": lambda x=x: model(x, Recorder()),
        }
        with torch.no_grad():
            t = interleaved({k: synced(f, device) for k, f in fns.items()}, repeats)
            mb = trace_nbytes(capture(model, x)) / 2**20
        base = base or (n * n, t["plain"], mb)
        print(
            f"  {n:>6} {t['plain'] * 1e3:9.1f} {t['capture'] * 1e3:11.1f} "
            f"{t['capture'] / t['plain']:9.2f} {t['eager'] / t['plain']:7.2f} {mb:9.1f} "
            f"{n * n / base[0]:8.1f} {t['plain'] / base[1]:7.1f} {mb / base[2]:7.1f}"
        )
        if line := peak_memory_line(device):
            print(f"  {n:>6}{line}")


def bench_batch(model: SwinTransformer, repeats: int, device="cpu", batch: int = 8) -> None:
    """Images/s at 224: a batch-`batch` forward and export capture against batch 1."""
    from .export_batch import capture_batch

    images = [_noise_image(224, 224) for _ in range(batch)]
    xb = torch.randn(batch, 3, 224, 224, device=device)
    fns = {
        "forward 1": lambda: [model(xb[i : i + 1]) for i in range(batch)],
        f"forward {batch}": lambda: model(xb),
        "capture 1": lambda: [capture(model, im) for im in images],
        f"capture {batch}": lambda: capture_batch(model, images),
    }
    with torch.no_grad():
        t = interleaved({k: synced(f, device) for k, f in fns.items()}, repeats)
    print(f"[batch] Swin-T 224, {device}, {batch} images per round, median of {repeats}")
    for what in ("forward", "capture"):
        one, many = t[f"{what} 1"], t[f"{what} {batch}"]
        label = "plain forward" if what == "forward" else "export capture (lazy trace)"
        print(
            f"  {label:<28} batch 1 {batch / one:6.1f} images/s   batch {batch} "
            f"{batch / many:6.1f} images/s   ({one / many:.2f}x)"
        )


def bench_compile(model: SwinTransformer, repeats: int, device="cpu") -> None:
    """torch.compile (inductor) against eager, plain forward at 224, compile time counted."""
    x = torch.randn(1, 3, 224, 224, device=device)
    t0 = time.perf_counter()
    try:
        compiled = torch.compile(model)
        with torch.no_grad():
            compiled(x)
    except Exception as e:  # no compiler toolchain, an unsupported op: say so, keep eager
        print(f"[compile] torch.compile failed: {type(e).__name__}: {str(e).splitlines()[0]}")
        return
    first = time.perf_counter() - t0
    with torch.no_grad():
        t = interleaved(
            {
                "eager": synced(lambda: model(x), device),
                "compiled": synced(lambda: compiled(x), device),
            },
            repeats,
        )
    saved = t["eager"] - t["compiled"]
    print(f"[compile] Swin-T 224, {device}, median of {repeats}")
    print(f"  eager      {t['eager'] * 1e3:8.1f} ms")
    print(
        f"  compiled   {t['compiled'] * 1e3:8.1f} ms   compiled/eager "
        f"{t['compiled'] / t['eager']:.2f}x   compile + first call {first:.1f} s"
    )
    verdict = f"pays off after {first / saved:.0f} forwards" if saved > 0 else "never pays off"
    print(f"  {verdict}")
