"""The CUDA check, in one short run (issue 16): plain and capture ms at 224 and 1024 with
peak GPU memory, no host syncs inside the forward pass, capture / explain / export end to
end on the GPU, and CPU parity of the logits.

    PYTHONPATH=$PWD timeout 420 python benchmarks/gpu_check.py [--repeats 10]
    PYTHONPATH=$PWD python benchmarks/gpu_check.py --device cpu --sizes 224 --repeats 1

Exit status 0 when every check passed, 1 when one failed, 2 without CUDA. Prints one
line per measurement; nothing is written outside a temporary folder. `--device cpu` is
a dry run of the same script (no sync check, no GPU memory) to test it without a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SWIN_T = "swin_tiny_patch4_window7_224"


CUDA = True


def sync() -> None:
    if CUDA:
        torch.cuda.synchronize()


def peak_mb() -> float:
    return torch.cuda.max_memory_allocated() / 2**20 if CUDA else 0.0


def timed(fn, repeats: int) -> tuple[float, float]:
    """(median ms, peak MiB allocated) of fn() on the GPU, synchronised around each run."""
    fn()
    sync()
    if CUDA:
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, peak_mb()


def check(name: str, ok: bool, detail: str = "") -> bool:
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
    return ok


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--sizes", type=int, nargs="+", default=[224, 1024])
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    a = p.parse_args()
    global CUDA
    CUDA = a.device == "cuda"
    if CUDA and not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 2
    dev = a.device
    import swin_gui
    from swin_gui.api import capture, load_model
    from swin_gui.model import Recorder

    name = torch.cuda.get_device_name() if CUDA else "cpu (dry run)"
    print(f"device {name}, torch {torch.__version__}", flush=True)
    results = []
    torch.manual_seed(0)
    cpu = load_model(SWIN_T, device="cpu")
    gpu = load_model(SWIN_T, device=dev)
    gpu.load_state_dict(cpu.state_dict())
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        diff = (gpu(x.to(dev)).cpu() - cpu(x)).abs().max().item()
    results.append(check("logits equal the CPU's", diff < 1e-3, f"max |Δ| {diff:.1e}"))

    with torch.no_grad():  # any synchronising call inside the forward raises here
        xg = x.to(dev)
        gpu(xg)  # first call builds the per-size caches (host-to-device copies)
        sync()
        synced = ""
        if CUDA:
            torch.cuda.set_sync_debug_mode("error")
        try:
            gpu(xg)
            gpu(xg, Recorder(attention=True))
        except RuntimeError as e:
            synced = str(e).splitlines()[0]
        finally:
            if CUDA:
                torch.cuda.set_sync_debug_mode("default")
    results.append(check("no host sync in plain or eager-capture forward", not synced, synced))

    for n in a.sizes:
        xg = torch.randn(1, 3, n, n, device=dev)
        with torch.no_grad():
            plain, plain_mb = timed(lambda xg=xg: gpu(xg), a.repeats)
            rec_only, rec_mb = timed(lambda xg=xg: gpu(xg, Recorder(attention=False)), a.repeats)
            eager, eager_mb = timed(lambda xg=xg: gpu(xg, Recorder()), max(3, a.repeats // 2))
        lazy, lazy_mb = timed(lambda xg=xg: capture(gpu, xg), max(3, a.repeats // 2))
        print(
            f"  {n:>5}: plain {plain:7.1f} ms ({plain_mb:6.0f} MiB peak)   "
            f"capture (record only) {rec_only:7.1f} ms ×{rec_only / plain:.2f} ({rec_mb:.0f} MiB)"
            f"   capture→Trace lazy {lazy:7.1f} ms ×{lazy / plain:.2f} ({lazy_mb:.0f} MiB)   "
            f"eager record {eager:7.1f} ms ×{eager / plain:.2f} ({eager_mb:.0f} MiB)",
            flush=True,
        )

    trace = capture(gpu, torch.randn(1, 3, 224, 224))
    attn = trace.block(0, 1).attn
    results.append(
        check(f"lazy trace on {dev}, attention on demand", attn.shape[1:] == (3, 49, 49))
    )
    eager = capture(gpu, torch.randn(1, 3, 224, 224), eager=True)
    results.append(check(f"eager trace on {dev}", eager.block(0, 1).attn is not None))
    tmp = tempfile.TemporaryDirectory()  # removed at the end
    image = Path(tmp.name) / "noise.png"
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)).save(image)
    Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)).save(
        image.with_name("noise2.png")
    )
    for method in ("gradcam", "rollout"):
        t0 = time.perf_counter()
        try:
            res = swin_gui.explain(gpu, str(image), method=method)
            ok, detail = (
                bool(np.isfinite(res.map).all()),
                f"{(time.perf_counter() - t0) * 1e3:.0f} ms",
            )
        except Exception as e:  # report and go on with the other checks
            ok, detail = False, f"{type(e).__name__}: {e}"
        results.append(check(f"explain {method} on {dev}", ok, detail))
    from swin_gui import cli

    out = image.parent / "out"
    code = cli.main(
        [
            "export",
            str(image),
            str(image.with_name("noise2.png")),
            "--out",
            str(out),
            "--model",
            SWIN_T,
            "--device",
            dev,
        ]
    )
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    results.append(
        check(
            f"export on {dev} (two images, one batch)",
            code == 0 and len(written) == 2,
            f"exit {code}, folders {written}",
        )
    )
    print(f"peak GPU memory since the last measurement {peak_mb():.0f} MiB")
    tmp.cleanup()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
