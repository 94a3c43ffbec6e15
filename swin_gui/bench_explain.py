"""`swin-gui bench --only explain`: the explain lab's cost, as ratios to a plain forward
pass measured in the same run (Swin-T, 224, batch 1, random weights).

gradcam (last stage) and erf (the centre token after the last block, the longest
backward) against the plain forward; reach (the same token, numpy) in ms; rollout (the
plain, pooled one) against `swin_gui.capture` as users get it (lazy attention; the
bound, rollout ≤ 1× capture) and against the capture that computes every block's
attention eagerly; batch 8 against batch 1 in images/s for gradcam and rollout; Score-CAM
at batch 16 against the forward. Medians of interleaved runs, so drift on a shared
machine hits all alike.
"""

from __future__ import annotations

import time

import torch

from .api import capture
from .explain.erf import erf
from .explain.gradcam import gradcam, gradcam_batch
from .explain.reach import NetGeometry, reach_curve, token_reach
from .explain.rollout import rollout, rollout_batch
from .explain.scorecam import scorecam

BATCH = 8


def bench_explain(model, repeats: int, interleaved, scorecam_run: bool = True) -> dict:
    """Print the explain section; returns the median seconds per entry."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    xb = torch.randn(BATCH, 3, 224, 224)
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
    tb = interleaved(  # batch 8 against 8 single images, side by side
        {
            "gradcam b1": lambda: [gradcam(model, xb[i : i + 1], S, "top") for i in range(BATCH)],
            "gradcam b8": lambda: gradcam_batch(model, xb, S, "top"),
            "rollout b1": lambda: [rollout(model, xb[i : i + 1]) for i in range(BATCH)],
            "rollout b8": lambda: rollout_batch(model, xb),
        },
        max(3, repeats // 2),
    )
    t.update(tb)
    if scorecam_run:
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
    lazy, eager = t["rollout"] / t["capture"], t["rollout"] / t["capture eager"]
    row("rollout (pooled)", t["rollout"], f"{lazy:.2f}x capture (≤ 1x), {eager:.2f}x eager capture")
    for name in ("gradcam", "rollout"):
        one, many = BATCH / t[f"{name} b1"], BATCH / t[f"{name} b8"]
        note = f"{many:.1f} images/s at batch {BATCH}, {one:.1f} at batch 1: {many / one:.2f}x"
        row(f"{name} batch {BATCH} (per image)", t[f"{name} b8"] / BATCH, note)
    if scorecam_run:
        sc = t["scorecam b16"]
        row(
            "scorecam batch 16",
            sc,
            f"{sc / base:.1f}x forward ({model.cfg.stage_dim(S)} masked images, 1 run)",
        )
    return t
