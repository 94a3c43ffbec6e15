"""The cyclic-shift view: the padded token grid of the current stage BEFORE and AFTER
`roll(−s, −s)`, side by side, tinted and numbered by the 9 shift regions, with the windows
drawn on both grids and the windows of the rolled grid that mix regions outlined and starred
(those need the attention mask). Every cell of either grid stands for its ORIGINAL token
(hit payload `tokens`), so hovering a rolled cell outlines that token in both grids and in
every other panel.

The shift ablation: on a real SW-MSA block drawn with the shift toggled off, the shell
re-runs the block without the shift (`session.ablation`, the (H, W, C) block output) and
the view adds ‖Δ output‖ per token as a heatmap.

Pure numpy: the regions come from `analysis.regions`; the selection-free layers are
cached per (trace, stage, block, shift).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..analysis.cache import TraceCache
from ..analysis.regions import shift_region_labels
from ..i18n import language, ntr, tr
from ..trace import BlockTrace, Trace
from . import figure as F
from .common import (
    REGION_COLORS,
    mode_label,
    no_shift_reason,
    original_regions,
    region_boxes,
    ring_spans,
    selected_window,
    window_pieces,
)
from .selection import Selection, view_shift
from .shift_ablation import ablation_applies, ablation_plot

GRID_PT = 200.0  # preferred side of each token grid
REGION_MIX = 150  # of 256: how strongly region colours cover the token colours
MIXED_EDGE = "#000000"
STAR_MIN_PT = 40.0  # windows drawn smaller than this get their outline only, no star
_RGB = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in REGION_COLORS], np.uint16)
_CACHE = TraceCache(traces=2, entries=64)


# ---- geometry (numpy) ---------------------------------------------------------------------
def mixed_windows(block: BlockTrace, shift: int) -> np.ndarray:
    """(nW,) bool: windows of the rolled grid whose tokens come from more than one region."""
    Hp, Wp = block.padded
    M = block.window
    labels = shift_region_labels(Hp, Wp, M, shift)
    win = labels.reshape(Hp // M, M, Wp // M, M).transpose(0, 2, 1, 3).reshape(-1, M * M)
    return (win != win[:, :1]).any(axis=1)


def original_tokens(padded: tuple[int, int], shift: int) -> np.ndarray:
    """(Hp, Wp, 2) int: the ORIGINAL (row, col) of each cell of the rolled grid:
    cell (p, q) holds token ((p + s) mod Hp, (q + s) mod Wp)."""
    Hp, Wp = padded
    rows = (np.arange(Hp) + shift) % Hp
    cols = (np.arange(Wp) + shift) % Wp
    out = np.empty((Hp, Wp, 2), np.int64)
    out[..., 0], out[..., 1] = rows[:, None], cols[None, :]
    return out


def token_colours(trace: Trace, stage: int) -> np.ndarray:
    """(Hp, Wp, 3) uint8 mean image colour under each token of the padded grid (0 = padding)."""
    return _CACHE.get(trace, ("colours", stage), lambda: _token_colours(trace, stage))


def _token_colours(trace: Trace, stage: int) -> np.ndarray:
    tp = trace.token_pixels(stage)
    Hp, Wp = trace.stages[stage].blocks[0].padded
    Hi, Wi = trace.image.shape[:2]
    img = np.zeros((max(Hp * tp, Hi), max(Wp * tp, Wi), 4), np.float32)
    img[:Hi, :Wi, :3] = trace.image
    img[:Hi, :Wi, 3] = 1.0
    sums = img[: Hp * tp, : Wp * tp].reshape(Hp, tp, Wp, tp, 4).sum(axis=(1, 3))  # Hp, Wp, 4
    return (sums[..., :3] / np.maximum(sums[..., 3:], 1.0)).astype(np.uint8)


def _tinted(colours: np.ndarray, labels: np.ndarray, shifted: bool) -> np.ndarray:
    if not shifted:
        return np.ascontiguousarray(colours)
    rgb = colours.astype(np.uint16) * (256 - REGION_MIX) + _RGB[labels] * REGION_MIX
    return (rgb >> 8).astype(np.uint8)


def _window_lines(padded: tuple[int, int], M: int, offset: int) -> np.ndarray:
    """Window borders of a grid whose windows start `offset` tokens in (on a ring)."""
    Hp, Wp = padded
    rows = sorted({0, Hp, *((k * M + offset) % Hp for k in range(Hp // M))})
    cols = sorted({0, Wp, *((k * M + offset) % Wp for k in range(Wp // M))})
    segs = [((c, 0), (c, Hp)) for c in cols] + [((0, r), (Wp, r)) for r in rows]
    return np.asarray(segs, np.float32).reshape(-1, 2, 2)


def _padding_rects(block: BlockTrace, roll: int) -> np.ndarray:
    """Rectangles (x, y, w, h) of the padding tokens of a grid rolled by (−roll, −roll)."""
    H, W = block.resolution
    Hp, Wp = block.padded
    out = []
    if Hp > H:
        out += [(0, r0, Wp, r1 - r0) for r0, r1 in ring_spans((H - roll) % Hp, Hp - H, Hp)]
    if Wp > W:
        rows = ring_spans((-roll) % Hp, H, Hp)
        cols = ring_spans((W - roll) % Wp, Wp - W, Wp)
        out += [(c0, r0, c1 - c0, r1 - r0) for r0, r1 in rows for c0, c1 in cols]
    return F.rects(out)


def _region_texts(labels: np.ndarray) -> list[F.Text]:
    out = []
    for k, (r0, c0, r1, c1) in region_boxes(labels).items():
        out.append(F.Text((c0 + c1) / 2, (r0 + r1) / 2, str(k), 9, "#ffffff", box="#141414"))
    return out


# ---- the selection-free part ------------------------------------------------------------------
@dataclass(frozen=True)
class ShiftBase:
    """The layers and hit regions of both grids that no token/window change touches."""

    before: tuple[F.Layer, ...]
    after: tuple[F.Layer, ...]
    before_hit: F.HitRegion
    after_hit: F.HitRegion
    mixed: np.ndarray  # (nW,) bool
    labels: np.ndarray  # (Hp, Wp) region labels of the rolled grid


def shift_base(trace: Trace, stage: int, block: int, shift: int) -> ShiftBase:
    return _CACHE.get(
        trace,
        ("base", stage, block, shift, language()),  # the hit regions name their quantity
        lambda: _make_base(trace, stage, block, shift),
    )


def _make_base(trace: Trace, stage: int, index: int, s: int) -> ShiftBase:
    block = trace.block(stage, index)
    Hp, Wp = block.padded
    M = block.window
    colours = token_colours(trace, stage)
    before_lab, after_lab = original_regions(block, s), shift_region_labels(Hp, Wp, M, s)
    extent = (0.0, 0.0, float(Wp), float(Hp))
    before = [
        F.Heatmap(_tinted(colours, before_lab, s > 0), extent),
        F.Hatch(_padding_rects(block, 0), "#ff00ff"),
        F.Lines(_window_lines((Hp, Wp), M, s), "grid", 1.0),
    ]
    rolled = np.roll(colours, (-s, -s), axis=(0, 1))
    after = [
        F.Heatmap(_tinted(rolled, after_lab, s > 0), extent),
        F.Hatch(_padding_rects(block, s), "#ff00ff"),
        F.Lines(_window_lines((Hp, Wp), M, 0), "grid", 1.5),
    ]
    mixed = mixed_windows(block, s)
    nWw = Wp // M
    boxes = [
        ((w % nWw) * M + 0.2, (w // nWw) * M + 0.2, M - 0.4, M - 0.4) for w in np.flatnonzero(mixed)
    ]
    if boxes:
        after.append(F.Rects(F.rects(boxes), MIXED_EDGE, None, 2.0))
    if boxes and GRID_PT * M / max(Hp, Wp) >= STAR_MIN_PT:  # room for a star per window
        after += [
            F.Text(x + 0.3, y + 0.2, "*", 10, "#ffffff", "lt", box=MIXED_EDGE)
            for x, y, _, _ in boxes
        ]
    if s > 0:
        before += _region_texts(before_lab)
        after += _region_texts(after_lab)
    hits = tuple(
        F.HitRegion(
            "grid",
            extent,
            (Hp, Wp),
            lab.astype(np.float32),
            tr("Shift", "shift region"),
            payload={"tokens": original_tokens((Hp, Wp), roll), "stage": stage},
        )
        for lab, roll in ((before_lab, 0), (after_lab, s))
    )
    return ShiftBase(tuple(before), tuple(after), hits[0], hits[1], mixed, after_lab)


# ---- the figure ---------------------------------------------------------------------------
def figure_shift(
    trace: Trace, selection: Selection, *, ablation: np.ndarray | None = None
) -> F.Figure:
    """The token grid before and after the cyclic shift, regions tinted and numbered, and
    (on an SW-MSA block with the shift off) the shift ablation ‖Δ output‖ per token."""
    sel = selection
    block = trace.block(sel.stage, sel.block)
    s = view_shift(block, sel)
    base = shift_base(trace, sel.stage, sel.block, s)
    marks_before, marks_after = _selection_layers(block, sel, s)
    Hp, Wp = block.padded
    lim = dict(xlim=(0.0, float(Wp)), ylim=(0.0, float(Hp)), size=(GRID_PT, GRID_PT), fill=True)
    after_title = (
        tr("Shift", "after roll(−{s}, −{s})", s=s) if s else tr("Shift", "after: not rolled")
    )
    plots = [
        F.Plot(
            "before",
            layers=base.before + marks_before,
            title=tr("Shift", "before: original"),
            hits=(base.before_hit,),
            max_scale=3.0,
            **lim,
        ),
        F.Plot(
            "after",
            layers=base.after + marks_after,
            title=after_title,
            hits=(base.after_hit,),
            max_scale=3.0,
            **lim,
        ),
    ]
    legend = _legend(s > 0, block.padded != block.resolution, language())
    plots += [legend] if legend is not None else []
    notes = list(_notes(trace, block, s, base.mixed))
    if ablation_applies(trace, sel):
        plot, more = ablation_plot(block, sel, ablation, GRID_PT)
        plots.append(plot)
        notes += more
    return F.Figure(
        title=tr(
            "Shift",
            "Cyclic shift · block {stage}.{block} · s={s}",
            stage=block.stage,
            block=block.index,
            s=s,
        ),
        plots=tuple(plots),
        notes=tuple(notes),
        data=base.labels.astype(np.int64),
        view="shift",
    )


def _selection_layers(block: BlockTrace, sel: Selection, s: int):
    """The selected window (its pieces in the original grid, one square rolled) and token."""
    M = block.window
    Hp, Wp = block.padded
    w = selected_window(block, sel, s)
    pieces = [(c0, r0, c1 - c0, r1 - r0) for r0, c0, r1, c1 in window_pieces(block, w, s)]
    wr, wc = divmod(w, Wp // M)
    before = [F.Rects(F.rects(pieces), "selected", None, 2.0)]
    after = [F.Rects(F.rects([(wc * M, wr * M, M, M)]), "selected", None, 2.0)]
    if sel.token is not None:
        r, c = sel.token
        before.append(F.Rects(F.rects([(c, r, 1, 1)]), "selected", "selected-fill", 1.5))
        rolled = ((c - s) % Wp, (r - s) % Hp, 1, 1)
        after.append(F.Rects(F.rects([rolled]), "selected", "selected-fill", 1.5))
    return tuple(before), tuple(after)


@lru_cache(maxsize=8)
def _legend(shifted: bool, padded: bool, lang: str) -> F.Plot | None:
    """Region swatches 0–8 and the mixed-window outline (shifted), padding hatching (in
    language `lang`)."""
    layers: list[F.Layer] = []
    row = 0.0
    width = 360.0
    if shifted:
        regions = tr("Shift", "regions")
        x0 = max(52.0, F.text_width_pt(regions, 9) + 8)  # the swatches after the word
        layers.append(F.Text(0, 8, regions, 9, "muted", "lc"))
        for k, colour in enumerate(REGION_COLORS):
            layers.append(F.Rects(F.rects([(x0 + 20 * k, 0, 18, 16)]), None, colour))
            layers.append(F.Text(x0 + 9 + 20 * k, 8, str(k), 9, "#ffffff"))
        layers.append(F.Rects(F.rects([(1, 23, 16, 12)]), MIXED_EDGE, "#ffffff30", 2.0))
        mixes = tr("Shift", "* window mixes regions (masked)")
        layers.append(F.Text(24, 29, mixes, 9, "fg", "lc"))
        row = 22.0
        width = max(width, x0 + 20 * len(REGION_COLORS))
    if padded:
        x = 24 + F.text_width_pt(mixes, 9) + 16 if shifted else 0.0
        pad = tr("Shift", "padding (zero tokens)")
        layers.append(F.Hatch(F.rects([(x, row, 18, 14)]), "#ff00ff"))
        layers.append(F.Text(x + 24, row + 7, pad, 9, "muted", "lc"))
        width = max(width, x + 24 + F.text_width_pt(pad, 9) + 4)
    if not layers:
        return None
    h = row + 16
    return F.Plot(
        "legend", (0.0, width), (0.0, h), (width, h), tuple(layers), group="legend", aspect=False
    )


def _notes(trace: Trace, block: BlockTrace, s: int, mixed: np.ndarray) -> tuple[str, ...]:
    Hp, Wp = block.padded
    M = block.window
    notes = [
        mode_label(trace, block, s),
        ntr(
            "Shift",
            "padded grid {Hp}×{Wp}; {n} window of {M}×{M}",
            "padded grid {Hp}×{Wp}; {n} windows of {M}×{M}",
            int(mixed.size),
            Hp=Hp,
            Wp=Wp,
            M=M,
        ),
    ]
    if s > 0:
        notes.append(
            ntr(
                "Shift",
                "roll(−{n}, −{n}) moves the top {n} row and left {n} column to the end",
                "roll(−{n}, −{n}) moves the top {n} rows and left {n} columns to the end",
                s,
            )
        )
        notes.append(
            ntr(
                "Shift",
                "{k} of {n} window mixes regions → need the mask",
                "{k} of {n} windows mix regions → need the mask",
                int(mixed.size),
                k=int(mixed.sum()),
            )
        )
    else:
        reason = no_shift_reason(trace, block, s) or ""
        notes.append(tr("Shift", "{reason}: nothing is rolled, no mask", reason=reason))
    return tuple(notes)
