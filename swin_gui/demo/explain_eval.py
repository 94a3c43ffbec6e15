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
passes per scene: one set of passes scores both targets of a two-object scene) runs on the
first `n_score` scenes of each set. Every method runs batched over the scenes (equal to one
scene at a time; `tests/model/test_explain_batch.py`). Everything is a pure function of
the seeds: `python -m swin_gui.demo evaluate --explain` prints the model card's tables.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ..explain.gradcam import gradcam_batch
from ..explain.rollout import rollout_batch
from ..explain.scorecam import scorecam_map, scorecam_scores
from .evaluate import load_demo_model
from .scenes import eval_seed, make_scene
from .train import to_tensor

POINT_PX = 15.0
STEPS = 8
TWO_OBJECT_SEEDS = 200_000  # held-out seeds of the two-object scenes start here


CHUNK = 16  # images per batched call of a map method
SCORE_BATCH = 64  # Score-CAM's masked images per forward pass


def _chunked(fn, x: torch.Tensor, ks: list[int]) -> np.ndarray:
    """fn(x_chunk, ks_chunk) -> (n, H, W) maps, CHUNK images at a time."""
    out = [fn(x[i : i + CHUNK], ks[i : i + CHUNK]) for i in range(0, len(ks), CHUNK)]
    return np.concatenate(out)


def methods() -> dict:
    """name -> maps(model, x (n, 3, H, W), ks [n classes]) -> (n, H, W) numpy, one map per
    image for its class; Score-CAM is separate (`scorecam_maps`)."""

    def random(m, x, ks):
        return np.stack(
            [np.random.default_rng(int(k) * 7919 + x[0].numel()).random(x.shape[-2:]) for k in ks]
        )

    return {
        "gradcam s2": lambda m, x, ks: _chunked(lambda a, k: gradcam_batch(m, a, 2, k)[0], x, ks),
        "gradcam s3": lambda m, x, ks: _chunked(lambda a, k: gradcam_batch(m, a, 3, k)[0], x, ks),
        "rollout": lambda m, x, ks: _chunked(lambda a, k: rollout_batch(m, a)[0], x, ks),
        "rollout chefer": lambda m, x, ks: _chunked(
            lambda a, k: rollout_batch(m, a, target=k)[0], x, ks
        ),
        "random": random,
    }


def scorecam_maps(model, x: torch.Tensor, per_scene: list[list[int]]) -> list[np.ndarray]:
    """Score-CAM at the stage-3 output for every class in `per_scene[i]` of scene i: one set
    of masked passes per scene serves all its classes. [(len(classes), H, W)] per scene."""
    out, p = [], model.cfg.patch_size
    for i in range(0, len(per_scene), CHUNK):
        A, _, scores = scorecam_scores(model, x[i : i + CHUNK], 3, batch=SCORE_BATCH)
        for j, classes in enumerate(per_scene[i : i + CHUNK]):
            s = scores[j][:, classes].T  # classes, C
            maps = scorecam_map(A[j].expand(len(classes), *A.shape[1:]), s, 3, p, x.shape[-2:])
            out.append(maps.float().numpy())
    return out


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


def run(model, kind: str, n: int, table: dict, n_auc: int, n_score: int = 0) -> dict:
    """{method: {"point", "point_other", "energy", "del", "ins", "win"}} means over every
    target of the first `n` scenes (Score-CAM: the first `n_score`); the curves on the
    first `n_auc` scenes only."""
    scenes = list(_scenes(kind, n))
    x = to_tensor([image for image, _ in scenes], model.cfg)  # n, 3, H, W
    pairs = [  # (scene, its j-th target, class, mask, the other object's mask)
        (i, j, int(k), mask, other)
        for i, (_, ts) in enumerate(scenes)
        for j, (k, mask, other) in enumerate(ts)
    ]
    rows_of = [i for i, *_ in pairs]
    ks = [k for _, _, k, _, _ in pairs]
    maps = {name: fn(model, x[rows_of], ks) for name, fn in table.items()}
    if n_score:
        per_scene = [[int(k) for k, _, _ in ts] for _, ts in scenes[:n_score]]
        score = scorecam_maps(model, x[:n_score], per_scene)
        maps["scorecam s3"] = [score[i][j] if i < n_score else None for i, j, *_ in pairs]
    rows: dict = {name: {} for name in maps}
    for p, (i, _, k, mask, other) in enumerate(pairs):
        for name, heats in maps.items():
            if heats[p] is None:  # Score-CAM past its first n_score scenes
                continue
            heat = np.asarray(heats[p], np.float64)
            r = rows[name]
            r.setdefault("point", []).append(float(hits(heat, mask)))
            r.setdefault("energy", []).append(energy(heat, mask))
            if other is not None:
                r.setdefault("point_other", []).append(float(hits(heat, other)))
            if i < n_auc:
                for key, v in zip(
                    ("del", "ins", "win"), curves(model, x[i : i + 1], heat, k), strict=True
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


COMMAND = "python -m swin_gui.demo evaluate --explain"


def evaluate_explain(
    weights: Path | str,
    n_single: int = 40,
    n_two: int = 20,
    n_auc: int = 6,
    n_score: tuple[int, int] = (20, 10),
) -> list[str]:
    """Print (and return) the markdown tables. `n_score`: the single- and two-object scenes
    Score-CAM runs on (the first ones of each set)."""
    model = load_demo_model(weights)
    out: list[str] = []
    t0 = time.perf_counter()
    for (kind, n), ns in zip((("single", n_single), ("two", n_two)), n_score, strict=True):
        per = 2 if kind == "two" else 1
        auc = min(n, n_auc if kind == "single" else max(1, n_auc // 2))
        ns = min(n, ns)
        res = run(model, kind, n, methods(), auc, ns)
        counts = {m: (n, n * per, auc) for m in res}
        if ns:
            counts["scorecam s3"] = (ns, ns * per, min(ns, auc))
        out += [*table_lines(res, kind, counts), ""]
    took = time.perf_counter() - t0
    flags = f"--explain-n {n_single} {n_two} --scorecam-scenes {n_score[0]} {n_score[1]}"
    out.append(f"`{COMMAND} {flags}`: {took:.0f} s on {torch.get_num_threads()} threads.")
    print("\n".join(out))
    return out
