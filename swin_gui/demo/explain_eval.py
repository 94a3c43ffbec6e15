"""How good the explain maps are on scenes whose truth is known (`evaluate --explain`).

For each method, on held-out single-object scenes (target: the object's class) and on
two-object scenes with two different classes (each object in turn is the target A, the
other one is B):

- pointing game: the map's maximum lies within 15 px of the target object's mask (two
  objects: also how often it lies within 15 px of B instead);
- energy: the map's mass inside the target's mask over the mask's area fraction (1 = no
  preference, higher = concentrated on the object);
- deletion / insertion AUC (Petsiuk et al., 2018): the target's probability as the map's
  pixels are removed (replaced by the mean colour, 0 in normalised space), most relevant
  first, or inserted into a mean-colour image, in 8 equal steps; mean over the 9 points
  (deletion: lower is better; insertion: higher);
- window deletion AUC: the same deletion, but whole stage-0 windows (28 × 28 px) go at a
  time, ranked by the map's mean over each window: 8 of the 64 windows a step.

A uniform random map is the baseline row. The curves cost 27 forward passes per map, so
they are measured on the first `n_auc` scenes of each set; Score-CAM (256 masked forward
passes per map) runs on the first `n_score` scenes. Everything is a pure function of the
seeds.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ..explain.gradcam import gradcam
from ..explain.rollout import rollout
from ..explain.scorecam import scorecam
from .evaluate import load_demo_model
from .scenes import eval_seed, make_scene
from .train import to_tensor

POINT_PX = 15.0
STEPS = 8
TWO_OBJECT_SEEDS = 200_000  # held-out seeds of the two-object scenes start here


def methods(score: bool) -> dict:
    """name -> map(model, x, k) -> (H, W) numpy."""
    table = {
        "gradcam s2": lambda m, x, k: gradcam(m, x, 2, k)[0],
        "gradcam s3": lambda m, x, k: gradcam(m, x, 3, k)[0],
        "rollout": lambda m, x, k: rollout(m, x)[0],
        "rollout chefer": lambda m, x, k: rollout(m, x, target=k)[0],
        "random": lambda m, x, k: np.random.default_rng(int(k) * 7919 + x.numel()).random(
            x.shape[-2:]
        ),
    }
    if score:
        table["scorecam s3"] = lambda m, x, k: scorecam(m, x, 3, k, batch=64)[0]
    return table


def hits(heat: np.ndarray, mask: np.ndarray) -> bool:
    """Whether the map's maximum is within POINT_PX of a mask pixel."""
    y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
    ys, xs = np.nonzero(mask)
    return bool(((ys - y) ** 2 + (xs - x) ** 2).min() <= POINT_PX**2)


def energy(heat: np.ndarray, mask: np.ndarray) -> float:
    h = np.clip(heat, 0, None)
    total = h.sum()
    return float((h * mask).sum() / total / mask.mean()) if total > 0 else float("nan")


def _window_order(heat: np.ndarray, side: int = 28) -> np.ndarray:
    """Pixel order that removes whole side x side windows, highest mean first."""
    H, W = heat.shape
    win = (np.arange(H)[:, None] // side) * (-(-W // side)) + np.arange(W)[None, :] // side
    means = np.bincount(win.ravel(), heat.ravel()) / np.bincount(win.ravel())
    rank = np.argsort(np.argsort(-means, kind="stable"), kind="stable")  # window -> rank
    return np.argsort(rank[win.ravel()], kind="stable"), int(means.size)


@torch.no_grad()
def curves(model, x: torch.Tensor, heat: np.ndarray, k: int) -> tuple[float, float, float]:
    """(deletion AUC, insertion AUC, window-deletion AUC) of class k."""
    H, W = heat.shape
    n = H * W
    order = np.argsort(-heat.ravel(), kind="stable")
    worder, nwin = _window_order(heat)
    wside = 28 * 28
    batch = []
    for step in range(STEPS + 1):
        keep = np.ones(n, np.float32)
        keep[order[: n * step // STEPS]] = 0
        batch.append(keep)
    for step in range(STEPS + 1):
        batch.append(1 - batch[step])
    for step in range(STEPS + 1):
        keep = np.ones(n, np.float32)
        keep[worder[: min(n, (nwin * step // STEPS) * wside)]] = 0
        batch.append(keep)
    masks = torch.from_numpy(np.stack(batch).reshape(-1, 1, H, W))
    probs = model(x * masks).softmax(-1)[:, k].numpy()
    d, i, w = probs[: STEPS + 1], probs[STEPS + 1 : 2 * STEPS + 2], probs[2 * STEPS + 2 :]
    return float(d.mean()), float(i.mean()), float(w.mean())


def _scenes(kind: str, n: int):
    """(image, [(target class, target mask, other mask or None)]) per scene."""
    found = 0
    i = 0
    while found < n:
        if kind == "single":
            s = make_scene(eval_seed(i), 224)
            i += 1
            found += 1
            yield s.image, [(s.label, s.mask, None)]
            continue
        s = make_scene(eval_seed(TWO_OBJECT_SEEDS + i), 224, n_objects=2)
        i += 1
        if len(s.labels) == 2 and s.labels[0] != s.labels[1]:
            found += 1
            a, b = s.masks
            yield s.image, [(s.labels[0], a, b), (s.labels[1], b, a)]


def run(model, kind: str, n: int, table: dict, n_auc: int) -> dict:
    """{method: {"point", "point_other", "energy", "del", "ins", "win"}} means; the curves
    on the first `n_auc` scenes only."""
    rows: dict = {name: {} for name in table}
    for i, (image, targets) in enumerate(_scenes(kind, n)):
        x = to_tensor([image], model.cfg)
        for k, mask, other in targets:
            for name, fn in table.items():
                heat = np.asarray(fn(model, x, k), np.float64)
                r = rows[name]
                r.setdefault("point", []).append(float(hits(heat, mask)))
                r.setdefault("energy", []).append(energy(heat, mask))
                if other is not None:
                    r.setdefault("point_other", []).append(float(hits(heat, other)))
                if i < n_auc:
                    for key, v in zip(
                        ("del", "ins", "win"), curves(model, x, heat, k), strict=True
                    ):
                        r.setdefault(key, []).append(v)
    return {m: {k: float(np.nanmean(v)) for k, v in r.items()} for m, r in rows.items()}


def table_lines(results: dict, kind: str, n: dict) -> list[str]:
    """A markdown table; `n` maps a method to (scenes, targets, scenes with curves)."""
    two = kind == "two"
    head = "| method | scenes (targets) | pointing (A) | " + ("pointing on B | " if two else "")
    head += "energy / area | scenes with curves | deletion AUC ↓ | insertion AUC ↑ | "
    head += "window deletion AUC ↓ |"
    title = (
        "Two-object scenes (two different classes; each object is A in turn)"
        if two
        else ("Single-object scenes")
    )
    lines = [f"**{title}**", "", head, "|" + " --- |" * (head.count("|") - 1)]
    for name, r in results.items():
        scenes, targets, auc = n[name]
        cells = [f"{scenes} ({targets})", f"{r['point']:.2f}"]
        cells += [f"{r['point_other']:.2f}"] if two else []
        cells += [f"{r['energy']:.2f}", str(auc)]
        cells += [f"{r[k]:.3f}" if k in r else "–" for k in ("del", "ins", "win")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def evaluate_explain(
    weights: Path | str, n_single: int = 40, n_two: int = 20, n_auc: int = 6, n_score: int = 3
) -> list[str]:
    """Print (and return) the markdown tables."""
    model = load_demo_model(weights)
    out: list[str] = []
    t0 = time.perf_counter()
    for kind, n in (("single", n_single), ("two", n_two)):
        per = 2 if kind == "two" else 1
        auc = min(n, n_auc if kind == "single" else max(1, n_auc // 2))
        res = run(model, kind, n, methods(score=False), auc)
        counts = {m: (n, n * per, auc) for m in res}
        if n_score:
            ns = min(n, n_score)
            res["scorecam s3"] = run(model, kind, ns, {"s": methods(True)["scorecam s3"]}, ns)["s"]
            counts["scorecam s3"] = (ns, ns * per, ns)
        out += [*table_lines(res, kind, counts), ""]
    took = time.perf_counter() - t0
    out.append(f"{took:.0f} s on {torch.get_num_threads()} threads.")
    print("\n".join(out))
    return out
