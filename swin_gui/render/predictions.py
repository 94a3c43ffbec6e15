"""The classifier's answer: the top-5 classes as a horizontal bar chart (bar length is the
probability on a 0–100 % scale, class names on the left, percentages at the bars), with a
loud banner when the weights are random, a plain statement when the model has no
classification head (logits None, e.g. a detection backbone) and "non-finite logits" when
the logits hold NaN or ±∞.

`data` is the full probability vector (softmax of the logits), or an empty array.
"""

from __future__ import annotations

import numpy as np

from ..i18n import ntr, num, tr
from . import figure as F
from .selection import Selection

TOP_K = 5
ROW_PT, BAR_PT, NAME_CHARS, WRAP_CHARS = 16.0, 120.0, 18, 34
BEST, OTHER, WARNING = "selected", "#64b5f6", "#d32f2f"


def random_warning() -> str:
    return tr("Predictions", "random weights — predictions are meaningless")


def no_head_reason(trace) -> str:
    """Why the model has no head: the checkpoint's reason when the trace carries one."""
    reason = trace.meta.get("no_head_reason")
    if reason:
        return str(reason)
    return tr("Predictions", "num_classes = 0, the model outputs pooled features")


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _label(index: int, name: str) -> str:
    return _short(name) if name == f"class {index}" else f"{_short(name)} [{index}]"


def _bars_plot(top: list[tuple[int, str, float]]) -> F.Plot:
    """Rows best first: a track, the bar (0–100 %) and the percentage beside it."""
    n = len(top)
    tracks = F.rects((0.0, i + 0.15, 100.0, 0.7) for i in range(n))
    bars = [F.rects([(0.0, i + 0.15, 100.0 * p, 0.7)]) for i, (*_, p) in enumerate(top)]
    layers: list = [F.Rects(tracks, edge="muted", fill="#80808026", width_pt=0.5)]
    layers.append(F.Rects(bars[0], edge=None, fill=BEST))
    if n > 1:
        layers.append(F.Rects(np.concatenate(bars[1:]), edge=None, fill=OTHER))
    for i, (*_, p) in enumerate(top):
        pct = f"{num(100 * p, '.1f')} %"
        inside = p > 0.75  # a long bar carries its number inside, in dark text
        x, anchor, color = (100 * p - 1, "rc", "#202124") if inside else (100 * p + 1.5, "lc", "fg")
        layers.append(F.Text(x, i + 0.5, pct, 9.0, color, anchor, bold=i == 0))
    probs = np.asarray([[p] for *_, p in top], np.float32)
    quantity = tr("Predictions", "probability")
    hit = F.HitRegion("bars", (0.0, 0.0, 100.0, float(n)), (n, 1), probs, quantity)
    return F.Plot(
        "bars",
        (0.0, 100.0),
        (0.0, float(n)),
        (BAR_PT, ROW_PT * n),
        tuple(layers),
        title=tr("Predictions", "top-{n} classes", n=n),
        aspect=False,
        group="bars",
        yticks=tuple((i + 0.5, _label(c, name)) for i, (c, name, _) in enumerate(top)),
        xticks=((0.0, "0"), (50.0, "50"), (100.0, "100")),
        xlabel=tr("Predictions", "probability (%)"),
        hits=(hit,),
    )


def wrap(text: str, chars: int = WRAP_CHARS) -> list[str]:
    """Greedy word wrap into lines of at most `chars` characters (longer words stay whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _message_plot(key: str, text: str, fill: str | None, color: str, group: str) -> F.Plot:
    """Text wrapped to a narrow dock, in a box (the random-weights banner, the no-head or
    non-finite statement)."""
    lines = wrap(text)
    n = len(lines)
    width = max(F.text_width_pt(line, 10.0) for line in lines) + 12
    layers: list = []
    if fill is not None:
        layers.append(F.Rects(F.rects([(0.0, 0.0, 1.0, float(n))]), edge=None, fill=fill))
    bold = fill is not None
    layers += [
        F.Text(0.03, i + 0.5, line, 10.0, color, "lc", bold=bold) for i, line in enumerate(lines)
    ]
    size = (max(width, 120.0), 15.0 * n + 4)
    return F.Plot(key, (0.0, 1.0), (0.0, float(n)), size, tuple(layers), aspect=False, group=group)


def _finite_probabilities(trace) -> tuple[np.ndarray | None, str | None]:
    """(probabilities, None), or (None, why not) without a head or with bad logits."""
    if trace.logits is None:
        return None, tr("Predictions", "no classification head: {why}", why=no_head_reason(trace))
    logits = np.asarray(trace.logits, np.float64)
    bad = int((~np.isfinite(logits)).sum())
    if bad:
        return None, tr(
            "Predictions",
            "non-finite logits: {bad} of {n} are NaN or ±∞",
            bad=bad,
            n=logits.size,
        )
    return np.asarray(trace.probabilities(), np.float32), None


def figure_predictions(trace, sel: Selection | None = None) -> F.Figure:
    """Top-5 classes with probabilities (the selection does not matter)."""
    random = bool(trace.meta.get("random_weights"))
    label = str(trace.meta.get("model", trace.config.name))
    plots: list[F.Plot] = []
    notes: list[str] = [random_warning()] if random else []
    if random:
        banner = tr("Predictions", "RANDOM WEIGHTS — these predictions mean nothing")
        plots.append(_message_plot("banner", banner, WARNING, "#ffffff", "banner"))
    probs, problem = _finite_probabilities(trace)
    if problem is not None:
        plots.append(_message_plot("message", problem, None, "fg", "bars"))
        notes.append(problem)
        data = np.zeros(0, np.float32) if trace.logits is None else trace.probabilities()
    else:
        top = trace.top_k(TOP_K)
        plots.append(_bars_plot(top))
        notes += [f"{name}: {num(100 * p, '.1f')} %" for _, name, p in top]
        notes.append(
            ntr(
                "Predictions",
                "softmax over {n} class; bars on a 0–100 % scale",
                "softmax over {n} classes; bars on a 0–100 % scale",
                len(probs),
            )
        )
        data = probs
    if random:
        title = tr("Predictions", "Predictions · {model} · RANDOM WEIGHTS", model=label)
    else:
        title = tr("Predictions", "Predictions · {model}", model=label)
    return F.Figure(title, tuple(plots), tuple(notes), np.asarray(data, np.float32), "predictions")
