"""The classifier's answer: the top-5 classes as horizontal probability bars (bar length is
the probability on a 0-100 % scale), with a prominent warning when the weights are random
and a plain statement when the model has no classifier head.

`data` is the full probability vector (softmax of the logits), or an empty array.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .chart import ACCENT, MUTED, WARNING
from .draw import BACKGROUND, FOREGROUND
from .selection import Picture, Selection
from .text import measure, put_text

WIDTH, ROW_H, NAME_W = 560, 26, 200
TOP_K = 5
RANDOM_WARNING = "random weights — predictions are meaningless"
NO_HEAD = "no classifier head (num_classes = 0): the model outputs pooled features"


def _fit(text: str, width: int, size: int = 12) -> str:
    """Shorten `text` with an ellipsis until it fits `width` pixels."""
    if measure(text, size)[0] <= width:
        return text
    while text and measure(text + "…", size)[0] > width:
        text = text[:-1]
    return text + "…"


def _banner(d: ImageDraw.ImageDraw, y: int, text: str, color) -> int:
    d.rectangle([0, y, WIDTH, y + 24], fill=color)
    put_text(d, (8, y + 12), text, (255, 255, 255), 13, anchor="lm")
    return y + 30


def _bars(d: ImageDraw.ImageDraw, y: int, top: list[tuple[int, str, float]]) -> None:
    bar_x0, bar_x1 = NAME_W + 12, WIDTH - 70
    for rank, (index, name, p) in enumerate(top):
        yy = y + rank * ROW_H
        color = ACCENT if rank == 0 else (100, 181, 246)
        label = name if name == f"class {index}" else f"{name} [{index}]"
        put_text(d, (8, yy + 10), _fit(label, NAME_W), FOREGROUND, 12, "lm")
        d.rectangle([bar_x0, yy + 2, bar_x1, yy + 18], outline=(60, 62, 66))
        d.rectangle([bar_x0, yy + 2, bar_x0 + (bar_x1 - bar_x0) * p, yy + 18], fill=color)
        put_text(d, (bar_x1 + 8, yy + 10), f"{100 * p:.1f} %", FOREGROUND, 12, "lm")


def render_predictions(trace, sel: Selection | None = None) -> Picture:
    """Top-5 classes with probabilities (the selection does not matter)."""
    probs = trace.probabilities()
    random = bool(trace.meta.get("random_weights"))
    top = trace.top_k(TOP_K)
    rows = len(top) if probs is not None else 1
    height = 36 + (30 if random else 0) + rows * ROW_H + 24
    img = Image.new("RGB", (WIDTH, height), BACKGROUND)
    d = ImageDraw.Draw(img)
    label = str(trace.meta.get("model", trace.config.name))
    put_text(d, (8, 8), f"Top-{max(rows, 1)} predictions · {label}", FOREGROUND, 13)
    y = 32
    if random:
        y = _banner(d, y, RANDOM_WARNING, WARNING)
    notes: list[str] = [RANDOM_WARNING] if random else []
    if probs is None:
        put_text(d, (8, y + 8), NO_HEAD, ACCENT, 12)
        notes.append(NO_HEAD)
        data = np.zeros(0, np.float32)
    else:
        _bars(d, y, top)
        put_text(
            d,
            (8, height - 18),
            f"softmax over {len(probs)} classes; bars on a 0-100 % scale",
            MUTED,
            11,
        )
        notes += [f"{name}: {100 * p:.1f} %" for _, name, p in top]
        data = probs.astype(np.float32)
    return Picture(
        rgb=np.asarray(img).copy(),
        data=data,
        title="Predictions" + (" · RANDOM WEIGHTS" if random else ""),
        units="probability",
        notes=tuple(notes),
    )
