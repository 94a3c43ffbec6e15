"""`swin-gui bench`: speed ratios measured side by side in one process.

Prints medians of interleaved runs (the machines are noisy, so ratios matter more than
absolute times):
  1. capture-on vs capture-off forward (Swin-T, 224);
  2. ours vs the reference implementations that are installed (Hugging Face transformers,
     timm), on the same weights;
  3. forward time and Trace memory at 224, 448, 896 and 1024, relative to 224 and to the
     pixel ratio (linear cost in image size); with `--only scaling` (not `--quick`) also
     2048² and 4000×3000 at native size, one child process each: plain ms, first-panel ms
     (lazy capture + one block's attention), peak RSS, and RSS after switching back to a
     224 image and to another model; then `swin-gui export`'s per-image work (trace.npz
     and PNGs) with the default options and with `--attention none`: MB, s, peak RSS;
  4. UI latency: median repaint time after changing the token, head or block, from the
     cached Trace (offscreen Qt);
  5. batching: images/s of a batch-8 forward and a batch-8 export capture against batch 1;
  6. with `--compile`: torch.compile against eager, compile time included.
`--device cuda` runs capture, reference-free scaling and batching on the GPU (timed with a
synchronisation after each run) and prints the peak GPU memory.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

from .api import capture
from .bench_tools import _noise_image, interleaved, peak_memory_line, synced, with_env
from .model import Recorder, SwinTransformer, preset
from .preprocess import prepare

SWIN_T = "swin_tiny_patch4_window7_224"


def _timm_twin(model: SwinTransformer):
    """timm's Swin-T with `model`'s weights (same parameter names), or None without timm."""
    try:
        import timm
    except ImportError:
        return None
    ref = timm.create_model(SWIN_T, pretrained=False).eval()
    ref.load_state_dict(model.state_dict(), strict=False)
    return ref.to(next(model.parameters()).device)


def bench_capture(model: SwinTransformer, repeats: int, device="cpu") -> None:
    x = torch.randn(1, 3, 224, 224, device=device)
    fns = {
        "plain": lambda: model(x),
        "capture": lambda: model(x, Recorder()),
        "capture+trace": lambda: capture(model, x, eager=True),
        "lazy": lambda: capture(model, x).block(0, 1).attn,
    }
    if torch.device(device).type == "cpu":  # our Linear on oneDNN vs on F.linear (MKL)
        fns["aten"] = with_env(lambda: model(x), "SWIN_GUI_LINEAR", "aten")
    ref = _timm_twin(model)
    if ref is not None:
        fns["timm"] = lambda: ref(x)
    with torch.no_grad():
        t = interleaved({k: synced(f, device) for k, f in fns.items()}, repeats)
    print(
        f"[capture] Swin-T 224, batch 1, {torch.get_num_threads()} threads, {device}, "
        f"median of {repeats} interleaved"
    )
    print(f"  plain forward      {t['plain'] * 1e3:8.1f} ms")
    if "aten" in t:
        print(
            f"  plain, F.linear    {t['aten'] * 1e3:8.1f} ms   oneDNN/F.linear "
            f"{t['plain'] / t['aten']:.2f}x   (SWIN_GUI_LINEAR=aten: model/linear.py off)"
        )
    if ref is not None:
        print(
            f"  timm forward       {t['timm'] * 1e3:8.1f} ms   ours/timm "
            f"{t['plain'] / t['timm']:.2f}x   (bound ≤ 0.80x)"
        )
    print(
        f"  capture forward    {t['capture'] * 1e3:8.1f} ms   "
        f"ratio {t['capture'] / t['plain']:.2f}x   (bound ≤ 1.10x; every block's attention)"
    )
    print(
        f"  capture -> Trace   {t['capture+trace'] * 1e3:8.1f} ms   "
        f"ratio {t['capture+trace'] / t['plain']:.2f}x   (eager: every block's attention)"
    )
    print(
        f"  lazy + one block   {t['lazy'] * 1e3:8.1f} ms   "
        f"ratio {t['lazy'] / t['plain']:.2f}x   (the default: attention on demand)"
    )
    if line := peak_memory_line(device):
        print(line)


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


# ---- large images: one child process per measurement, so peak RSS is its own ------------
BIG_SIZES = ((2048, 2048), (3000, 4000))  # H, W: a 4 MP square and a 12 MP 4:3 photo


def rss_mb() -> float:
    """Resident set size of this process now, in MiB (Linux /proc; else the peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS


def _show(model=None, image=None, trace=None):
    """What the attention view reads first: a trace, and the centre token's window of one
    SW-MSA block (its attention and mask; a big block computes its row of windows only)."""
    from .analysis.attention import masked_entries, query_attention

    trace = capture(model, image) if trace is None else trace
    block = trace.block(0, 1)
    q = query_attention(block)
    assert q.rows.size and masked_entries(block, q.window).shape == (len(q.keys),) * 2
    return trace


def _plain_ms(model, image) -> float:
    t0 = time.perf_counter()
    x, _, _ = prepare(image, model.cfg, "native")
    with torch.no_grad():
        model(x)
    return (time.perf_counter() - t0) * 1e3


def _export(trace, attention: str) -> dict:
    """`swin-gui export`'s per-image work (trace.npz, the PNGs, the manifest) into a
    temporary folder: seconds and the trace.npz MB."""
    import tempfile
    from pathlib import Path

    from .export import export_image
    from .export_stream import NpzOptions

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        export_image(trace, Path(tmp) / "big", npz=NpzOptions(attention))
        took = time.perf_counter() - t0
        return {
            "export_s": took,
            "npz_mb": (Path(tmp) / "big" / "trace.npz").stat().st_size / 2**20,
        }


def measure_big(model_name: str, height: int, width: int, mode: str) -> dict:
    """In this process, at native H x W. Mode "plain": one plain forward (time, peak RSS).
    Mode "capture": a plain forward for the time next to it, then a lazy capture plus one
    SW-MSA block's attention and mask (the first panel; time, peak RSS), then a switch back
    to a 224 image and one to another model, reading RSS after each. The plain forward's
    memory is handed back first and peaks lower, so the peak is the capture's. Modes
    "export" and "export-none": a lazy capture, then `swin-gui export`'s whole per-image
    work (trace.npz, PNGs, manifest) with the default options or `--attention none`
    (seconds, trace.npz MB, peak RSS)."""
    import gc

    from .api import load_model
    from .model.ondemand import trim_heap

    model = load_model(model_name)
    small = _noise_image(224, 224)
    shown = _show(model, small)  # a 224 trace on screen, as before the big image
    gc.collect()
    result = {"rss_before_mb": rss_mb()}
    image = _noise_image(height, width)
    if not mode.startswith("export"):  # the export children only export
        result["plain_ms"] = _plain_ms(model, image)
    if mode == "plain":
        result["peak_rss_mb"] = peak_rss_mb()
        return result
    trim_heap()
    t0 = time.perf_counter()
    trace = capture(model, image, "native")
    result["capture_ms"] = (time.perf_counter() - t0) * 1e3
    if mode.startswith("export"):
        result.update(_export(trace, "none" if mode == "export-none" else "all"))
        result["export_peak_rss_mb"] = peak_rss_mb()
        return result
    _show(trace=trace)  # the first panels: one SW-MSA block's attention and mask
    result["first_panel_ms"] = (time.perf_counter() - t0) * 1e3
    result["peak_rss_mb"] = peak_rss_mb()
    del trace, image, shown
    time.sleep(0.5)  # the freed trace hands its heap back from a timer thread
    shown = _show(model, small)  # switch back to a 224 image
    gc.collect()
    result["rss_after_224_mb"] = rss_mb()
    del model, shown
    other = load_model("demo")  # another model object (a fresh load when it was the demo)
    shown = _show(other, small)  # switch to another model
    gc.collect()
    result["rss_other_model_mb"] = rss_mb()
    del shown, other
    return result


def measure_in_child(model_name: str, height: int, width: int, mode: str, threads=None) -> dict:
    """`measure_big` in a fresh interpreter (its peak RSS is its own); returns its dict."""
    import json
    import subprocess

    code = (
        "import json, sys, torch; from swin_gui.bench import measure_big; "
        f"torch.set_num_threads({threads or torch.get_num_threads()}); "
        f"print(json.dumps(measure_big({model_name!r}, {height}, {width}, {mode!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_big(sizes=BIG_SIZES, model_name: str = SWIN_T) -> None:
    print(
        "[scaling] large images at native size, Swin-T, four child processes per row "
        "(plain alone; plain then lazy capture; lazy capture then `swin-gui export`'s work "
        "with the default options, and with --attention none); bounds: capture and export "
        "peaks ≤ 4096 MB, first panel ≤ 1.5× plain, after a switch ≤ before + 300 MB"
    )
    print(
        f"  {'size':>9} {'plain ms':>9} {'plain MB':>9} {'capture ms':>11} {'1st panel':>10} "
        f"{'panel×':>7} {'peak MB':>8} {'before MB':>10} {'back 224':>9} {'other model':>12} "
        f"{'NPZ MB':>8} {'export s':>9} {'export MB':>10} {'NPZ none':>9} {'none s':>7} "
        f"{'none MB':>8}"
    )
    for h, w in sizes:
        runs = [measure_in_child(model_name, h, w, m) for m in BIG_MODES]
        failed = [r["error"] for r in runs if "error" in r]
        if failed:
            print(f"  {w}×{h}: {failed[0]}")
            continue
        plain, cap, full, none = runs
        ratio = cap["first_panel_ms"] / cap["plain_ms"]  # measured side by side
        print(
            f"  {f'{w}×{h}':>9} {cap['plain_ms']:9.0f} {plain['peak_rss_mb']:9.0f} "
            f"{cap['capture_ms']:11.0f} {cap['first_panel_ms']:10.0f} {ratio:7.2f} "
            f"{cap['peak_rss_mb']:8.0f} {cap['rss_before_mb']:10.0f} "
            f"{cap['rss_after_224_mb']:9.0f} {cap['rss_other_model_mb']:12.0f} "
            f"{full['npz_mb']:8.0f} {full['export_s']:9.0f} {full['export_peak_rss_mb']:10.0f} "
            f"{none['npz_mb']:9.0f} {none['export_s']:7.0f} {none['export_peak_rss_mb']:8.0f}"
        )


BIG_MODES = ("plain", "capture", "export", "export-none")


def bench_ui(repeats: int) -> None:
    """Median repaint time after a selection change, all panels live, from a cached trace."""
    try:
        from .app.latency import measure_latency
    except ImportError as e:
        print(f"[ui] skipped: {e}")
        return
    (w, h), rows = measure_latency(SWIN_T, repeats)
    print(f"  (the window: {w}×{h} px)")
    for what, ms in rows.items():
        target = "≤ 1000 ms" if "export" in what else "≤ 16 ms"
        target = "off the GUI thread" if "background" in what else target
        print(f"  {what:<34} median {ms:7.1f} ms   (target {target})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="swin-gui bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats and sizes up to 448")
    p.add_argument("--repeats", type=int, default=None)
    parts_ = ["capture", "reference", "scaling", "ui", "explain", "batch", "compile"]
    p.add_argument("--only", choices=parts_, action="append")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--compile", action="store_true", help="also measure torch.compile")
    p.add_argument("--sizes", type=int, nargs="+", help="scaling sizes (default 224..1024)")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device == "cuda" and not torch.cuda.is_available():
        print("swin-gui bench: --device cuda: no CUDA device is available", file=sys.stderr)
        return 2
    repeats = a.repeats or (3 if a.quick else 7)
    sizes = a.sizes or ([224, 448] if a.quick else [224, 448, 896, 1024])
    parts = a.only or ["capture", "reference", "scaling", "ui", "batch"]
    if a.compile and "compile" not in parts:
        parts.append("compile")
    torch.manual_seed(0)
    model = SwinTransformer(preset(SWIN_T)).eval().to(a.device)
    np.random.seed(0)
    if "capture" in parts:
        bench_capture(model, repeats, a.device)
    if "reference" in parts and a.device == "cpu":
        bench_reference(repeats)
    if "scaling" in parts:
        from .bench_speed import bench_scaling

        bench_scaling(model, sizes, max(3, repeats // 2), a.device)
    if a.only and "scaling" in a.only and not a.quick and a.device == "cpu":  # minutes
        bench_big()
    if "batch" in parts:
        from .bench_speed import bench_batch

        bench_batch(model, max(3, repeats // 2), a.device)
    if "compile" in parts:
        from .bench_speed import bench_compile

        bench_compile(model, repeats, a.device)
    if "ui" in parts and a.device == "cpu":
        screen = "a 1366×768 screen (offscreen off a display)"
        print(f"[ui] Swin-T 224, {screen}, median of {repeats * 3} changes each")
        bench_ui(repeats * 3)
    if "explain" in parts:  # opt-in: swin-gui bench --only explain
        from .bench_explain import bench_explain

        bench_explain(model, repeats, interleaved)
    return 0
