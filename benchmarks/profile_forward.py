"""Profile the plain forward pass op by op (torch.profiler), ours against timm, grouped as
docs/performance.md reports it; and the sgemm peak of this CPU.

    PYTHONPATH=$PWD:/tmp/ref python benchmarks/profile_forward.py [--size 224] [--runs 5]

Times are the top-level aten (and mkldnn) ops' CPU time summed per group, per forward
(median runs). Our Linear layers call `mkldnn::_linear_pointwise` on the CPU, with fc1's
GELU fused into it (so our "GELU" row is empty; fc1's row includes it).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

from swin_gui.model import SwinTransformer, preset

SWIN_T = "swin_tiny_patch4_window7_224"
ATTENTION = ("attention", "softmax", "bmm", "matmul", "baddbmm", "_softmax")
COPIES = (
    "roll",
    "pad",
    "constant_pad_nd",
    "index_select",
    "clone",
    "copy_",
    "contiguous",
    "reshape",
    "new_zeros",
    "cat",
    "index",
    "permute",
    "unbind",
    "repeat",
    "expand",
    "view",
    "transpose",
    "flatten",
    "slice",
    "select",
    "zeros",
    "empty",
    "fill_",
)


def linear_group(shapes) -> str:
    """qkv / proj / fc1 / fc2 / merge / head from the Linear's (in, out) features."""
    try:
        _, w, *_ = shapes
        out_f, in_f = w[0], w[1]
    except (ValueError, IndexError, TypeError):
        return "matmul other"
    ratio = out_f / in_f
    names = {
        3.0: "matmul qkv",
        1.0: "matmul proj",
        4.0: "matmul fc1 (MLP)",
        0.25: "matmul fc2 (MLP)",
        0.5: "matmul merge",
    }
    return "matmul head" if out_f == 1000 else names.get(ratio, "matmul other")


def group(ev) -> str:
    name = ev.name.removeprefix("aten::").removeprefix("mkldnn::")
    if name in ("linear", "_linear_pointwise"):  # ours: oneDNN, GELU fused into fc1
        return linear_group(ev.input_shapes)
    if name in ("addmm", "mm"):  # only top-level when called directly
        return "matmul other"
    if "layer_norm" in name:
        return "LayerNorm"
    if name == "gelu":
        return "GELU"
    if "scaled_dot_product" in name or name in ATTENTION:
        return "window attention"
    if name in ("add", "add_", "mul", "mul_", "masked_fill", "masked_fill_", "sub"):
        return "add/mul (residual, bias+mask)"
    if name in COPIES or "pad" in name:
        return "roll/partition/pad copies"
    if name in ("conv2d", "convolution"):
        return "patch embed conv"
    return f"other ({name})"


def profile_once(fn) -> dict[str, float]:
    """ms per group in one profiled call (top-level aten ops only)."""
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        fn()
    acc: dict[str, float] = defaultdict(float)
    for ev in prof.events():
        if ev.cpu_parent is None and ev.name.startswith(("aten::", "mkldnn::")):
            acc[group(ev)] += ev.cpu_time_total / 1e3
    return acc


def profile_interleaved(fns: dict, runs: int) -> dict[str, dict[str, float]]:
    """Per function, the median ms per group over `runs` rounds, the functions interleaved
    (a loaded box drifts); plus the unprofiled wall time, interleaved the same way."""
    per: dict[str, list] = {k: [] for k in fns}
    walls: dict[str, list] = {k: [] for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            per[k].append(profile_once(fn))
            walls[k].append(_time(fn) * 1e3)
    out = {}
    for k, runs_ in per.items():
        keys = {g for r in runs_ for g in r}
        out[k] = {g: statistics.median(r.get(g, 0.0) for r in runs_) for g in keys}
        out[k]["(wall, unprofiled)"] = statistics.median(walls[k])
        out[k]["(sum of groups)"] = sum(v for g, v in out[k].items() if not g.startswith("("))
    return out


def sgemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_time(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    from swin_gui.model.checkpoints import load_checkpoint

    torch.manual_seed(0)
    x = torch.randn(1, 3, a.size, a.size)
    models = {"ours": SwinTransformer(preset(SWIN_T)).eval()}
    try:
        import timm

        ref = timm.create_model(SWIN_T, pretrained=False, img_size=a.size).eval()
        with tempfile.TemporaryDirectory() as d:
            torch.save(ref.state_dict(), f"{d}/t.pth")
            models["ours"] = load_checkpoint(f"{d}/t.pth").model.eval()
        models["timm"] = ref
    except ImportError:
        print("timm not importable: ours only")
    flops = 4.5e9 * (a.size / 224) ** 2  # Swin-T multiply-adds ≈ 4.5 G at 224 (x2 = FLOPs)
    if a.threads:
        torch.set_num_threads(a.threads)
    with torch.no_grad():
        for m in models.values():
            m(x)
        res = profile_interleaved({k: (lambda m=m: m(x)) for k, m in models.items()}, a.runs)
    peak = sgemm_gflops()
    print(f"threads {torch.get_num_threads()}, size {a.size}, sgemm 2048² peak {peak:.1f} GFLOP/s")
    names = list(models)
    print(f"{'group':<34}" + "".join(f"{n:>10}" for n in names))
    for k in sorted({k for r in res.values() for k in r}, key=lambda k: -res["ours"].get(k, 0)):
        print(f"{k:<34}" + "".join(f"{res[n].get(k, 0.0):10.2f}" for n in names))
    for n in names:
        wall = res[n]["(wall, unprofiled)"]
        print(
            f"{n}: {2 * flops / wall / 1e6:.1f} GFLOP/s over the whole forward "
            f"({2 * flops / wall / 1e6 / peak:.0%} of the sgemm peak)"
        )


if __name__ == "__main__":
    main()
