"""`swin-gui bench --only explain`: the explain lab's cost, as ratios to a plain forward
pass measured in the same run (Swin-T, 224, batch 1, random weights).

gradcam (last stage) and erf (the centre token after the last block, the longest
backward) against the plain forward; reach (the same token, numpy) in ms; rollout (the
plain, pooled one) against `swin_gui.capture` (lazy, and with every block's attention computed
eagerly); Score-CAM at batch 16 against the forward.
Medians of interleaved runs, so drift on a shared machine hits all alike.
"""

from __future__ import annotations

import time

import torch

from .api import capture
from .explain.erf import erf
from .explain.gradcam import gradcam
from .explain.reach import NetGeometry, reach_curve, token_reach
from .explain.rollout import rollout
from .explain.scorecam import scorecam


def bench_explain(model, repeats: int, interleaved) -> dict[str, float]:
    """Print the explain section; returns the median seconds per entry."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    S = model.cfg.num_stages - 1
    B = model.cfg.depths[S] - 1
    geom = NetGeometry.from_model(model, 224, 224)
    h, w = geom.resolution(S)
    token = (h // 2, w // 2)

    def plain():
        with torch.no_grad():
            model(x)

    t = interleaved(
        {
            "plain": plain,
            "capture": lambda: capture(model, x),
            "capture eager": lambda: capture(model, x, eager=True),
            "gradcam": lambda: gradcam(model, x, S, "top"),
            "erf": lambda: erf(model, x, S, B, token),
            "reach": lambda: token_reach(geom, S, B, token),
            "reach curve": lambda: reach_curve(geom, (112.0, 112.0)),
            "rollout": lambda: rollout(model, x),
        },
        repeats,
    )
    t0 = time.perf_counter()  # one run, no warm-up: it is C / 16 batched forward passes
    scorecam(model, x, S, "top", batch=16)
    t["scorecam b16"] = time.perf_counter() - t0
    base = t["plain"]

    def row(name: str, seconds: float, note: str) -> None:
        print(f"  {name:<24} {seconds * 1e3:8.1f} ms   {note}")

    print(f"[explain] Swin-T 224, batch 1, {torch.get_num_threads()} threads, median of {repeats}")
    row("plain forward", base, "")
    row(f"gradcam (stage {S})", t["gradcam"], f"{t['gradcam'] / base:.2f}x forward (≤ 2.5x)")
    row(f"erf (s{S}.b{B} token {token})", t["erf"], f"{t['erf'] / base:.2f}x forward (≤ 3x)")
    row(f"reach (s{S}.b{B})", t["reach"], "(≤ 50 ms)")
    row("reach vs depth curve", t["reach curve"], "every block, one token")
    row("capture", t["capture"], f"{t['capture'] / base:.2f}x forward")
    row("capture, eager attention", t["capture eager"], f"{t['capture eager'] / base:.2f}x forward")
    # rollout needs every block's softmax: the capture that computes them all is the eager one
    ratio = f"{t['rollout'] / t['capture eager']:.2f}x eager capture (≤ 1x)"
    row("rollout (pooled)", t["rollout"], f"{ratio}, {t['rollout'] / t['capture']:.2f}x lazy")
    sc = t["scorecam b16"]
    row(
        "scorecam batch 16",
        sc,
        f"{sc / base:.1f}x forward ({model.cfg.stage_dim(S)} masked images, 1 run)",
    )
    return t
