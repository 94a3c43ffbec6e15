"""`swin-gui bench`: speed ratios measured side by side in one process.

Prints medians of interleaved runs (the machines are noisy, so ratios matter more than
absolute times):
  1. capture-on vs capture-off forward (Swin-T, 224);
  2. ours vs the reference implementations that are installed (Hugging Face transformers,
     timm), on the same weights;
  3. forward time and Trace memory at 224, 448, 896 and 1024, relative to 224 and to the
     pixel ratio (linear cost in image size);
  4. UI latency: median repaint time after changing the token, head or block, from the
     cached Trace (offscreen Qt).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from .api import capture
from .model import Recorder, SwinTransformer, preset

SWIN_T = "swin_tiny_patch4_window7_224"


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
    """Bytes held by the arrays of a Trace."""
    total = trace.input.nbytes + trace.image.nbytes + trace.embed.nbytes + trace.norm_out.nbytes
    for st in trace.stages:
        total += st.out.nbytes + sum(a.nbytes for a in (st.merge_in, st.merge_out) if a is not None)
        for b in st.blocks:
            total += b.attn.nbytes + b.bias.nbytes + b.mid.nbytes + b.out.nbytes
            total += 0 if b.mask is None else b.mask.nbytes
    return total


def bench_capture(model: SwinTransformer, repeats: int) -> None:
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        t = interleaved(
            {
                "plain": lambda: model(x),
                "capture": lambda: model(x, Recorder()),
                "capture+trace": lambda: capture(model, x),
            },
            repeats,
        )
    print(f"[capture] Swin-T 224, batch 1, {torch.get_num_threads()} threads, median of {repeats}")
    print(f"  plain forward      {t['plain'] * 1e3:8.1f} ms")
    print(
        f"  capture forward    {t['capture'] * 1e3:8.1f} ms   "
        f"ratio {t['capture'] / t['plain']:.2f}x"
    )
    print(
        f"  capture -> Trace   {t['capture+trace'] * 1e3:8.1f} ms   "
        f"ratio {t['capture+trace'] / t['plain']:.2f}x"
    )


def _hf_reference(cfg):
    """A random-init Hugging Face SwinForImageClassification of this shape, or None."""
    try:
        import transformers
    except ImportError:
        return None, "transformers not installed"
    hf_cfg = transformers.SwinConfig(
        image_size=cfg.img_size,
        patch_size=cfg.patch_size,
        embed_dim=cfg.embed_dim,
        depths=list(cfg.depths),
        num_heads=list(cfg.num_heads),
        window_size=cfg.window_size,
        num_labels=cfg.num_classes,
        attn_implementation="sdpa",
    )
    ref = transformers.SwinForImageClassification(hf_cfg).eval()
    return ref, f"transformers {transformers.__version__}"


def bench_reference(repeats: int) -> None:
    """Ours vs references on identical weights: we load the reference's own state dict."""
    import tempfile

    from .model.checkpoints import load_checkpoint

    x = torch.randn(1, 3, 224, 224)
    rows = []
    ref, label = _hf_reference(preset(SWIN_T))
    if ref is not None:
        with tempfile.TemporaryDirectory() as d:
            ref.save_pretrained(d)
            ours = load_checkpoint(d).model.eval()
        rows.append(("huggingface", label, ref, ours, lambda m: m(pixel_values=x).logits))
    try:
        import timm

        tref = timm.create_model(SWIN_T, pretrained=False).eval()
        with tempfile.TemporaryDirectory() as d:
            torch.save(tref.state_dict(), f"{d}/timm.pth")
            ours_t = load_checkpoint(f"{d}/timm.pth").model.eval()
        rows.append(("timm", f"timm {timm.__version__}", tref, ours_t, lambda m: m(x)))
    except ImportError:
        print("[reference] timm not installed: skipped (pip install '.[reference]' to compare)")
    for name, label, ref, ours, call in rows:
        with torch.no_grad():
            diff = (ours(x) - call(ref)).abs().max().item()
            t = interleaved(
                {"ref": lambda r=ref, c=call: c(r), "ours": lambda o=ours: o(x)}, repeats
            )
        print(f"[reference] {name} ({label}), Swin-T 224, same weights, max |Δlogit| {diff:.1e}")
        print(f"  reference  {t['ref'] * 1e3:8.1f} ms")
        print(
            f"  ours       {t['ours'] * 1e3:8.1f} ms   ours/reference {t['ours'] / t['ref']:.2f}x"
        )


def bench_scaling(model: SwinTransformer, sizes: list[int], repeats: int) -> None:
    print(f"[scaling] Swin-T, batch 1, median of {repeats}; linear cost means time ∝ pixels")
    print(
        f"  {'size':>6} {'plain ms':>9} {'capture ms':>11} {'trace MB':>9} "
        f"{'pixels×':>8} {'plain×':>7} {'trace×':>7}"
    )
    base = None
    for n in sizes:
        x = torch.randn(1, 3, n, n)
        with torch.no_grad():
            t = interleaved(
                {"plain": lambda x=x: model(x), "capture": lambda x=x: capture(model, x)}, repeats
            )
            mb = trace_nbytes(capture(model, x)) / 2**20
        base = base or (n * n, t["plain"], mb)
        print(
            f"  {n:>6} {t['plain'] * 1e3:9.1f} {t['capture'] * 1e3:11.1f} {mb:9.1f} "
            f"{n * n / base[0]:8.1f} {t['plain'] / base[1]:7.1f} {mb / base[2]:7.1f}"
        )


def bench_ui(repeats: int) -> None:
    """Median repaint time after a selection change, all panels live, from a cached trace."""
    try:
        from .app.latency import measure_latency
    except ImportError as e:
        print(f"[ui] skipped: {e}")
        return
    for what, ms in measure_latency(SWIN_T, repeats).items():
        print(f"  {what:<8} median {ms:6.1f} ms   (target ≤ 16 ms)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="swin-gui bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats and sizes up to 448")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--only", choices=["capture", "reference", "scaling", "ui"], action="append")
    a = p.parse_args(argv)
    repeats = a.repeats or (3 if a.quick else 7)
    sizes = [224, 448] if a.quick else [224, 448, 896, 1024]
    parts = a.only or ["capture", "reference", "scaling", "ui"]
    torch.manual_seed(0)
    model = SwinTransformer(preset(SWIN_T)).eval()
    np.random.seed(0)
    if "capture" in parts:
        bench_capture(model, repeats)
    if "reference" in parts:
        bench_reference(repeats)
    if "scaling" in parts:
        bench_scaling(model, sizes, max(3, repeats // 2))
    if "ui" in parts:
        print(f"[ui] Swin-T 224, offscreen, median of {repeats * 3} changes each")
        bench_ui(repeats * 3)
    return 0
