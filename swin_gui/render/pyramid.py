"""The feature pyramid view: every stage's output aligned to the input image, one plot per
stage, in one of three modes (`Selection.feature_mode`):

- "channel": one channel per stage (`Selection.channel` on the current stage; the top
  channel by energy elsewhere, or everywhere when it is None), unit "activation";
- "norm": the L2 norm of each token over its channels, unit "L2 norm";
- "pca": the first three principal components of the stage's tokens as R, G, B.

A stage-s token covers patch·2^s input pixels, so every plot shares the image's pixel
coordinates: stage 3 at 224 is a 7×7 mosaic over the same picture as stage 0's 56×56.
Token-grid padding beyond the image is hatched. The current stage is framed and the
selected token outlined; hovering reads the value and the token, a click selects that
stage's token (and the stage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.cache import TraceCache
from ..analysis.features import channel_energy, norm_map, pca, robust_unit
from ..i18n import language, num, tr
from . import figure as F
from .common import finite_levels
from .selection import Selection

MODES = ("channel", "norm", "pca")
PLOT_PT = 150.0  # the longer side of a stage plot at its natural size
LEGEND = 1.0  # PCA plots are this much wider: the R/G/B legend stands right of the map
PCA_LEGEND = (
    ("R: PC 1", "#ff6b6b"),
    ("G: PC 2", "#69db7c"),
    ("B: PC 3", "#74c0fc"),
)
_MAPS, _TOP = TraceCache(traces=2, entries=64), TraceCache(traces=2, entries=32)


def unit(mode: str) -> str:
    """What a mode's values are, in the current language."""
    units = {
        "channel": tr("Pyramid", "activation"),
        "norm": tr("Pyramid", "L2 norm"),
        "pca": tr("Pyramid", "PC 1 score"),
    }
    return units[mode]


@dataclass(frozen=True)
class StageMap:
    """One stage in one mode: what is drawn (`values` (H_s, W_s) or `rgb` (H_s, W_s, 3)),
    what hover reads (`hover`), and how it is labelled."""

    values: np.ndarray | None  # scalar modes
    rgb: np.ndarray | None  # PCA: uint8 colours
    hover: np.ndarray  # H_s, W_s: the value read under the mouse
    data: np.ndarray  # the numbers behind it (PCA: colours in [0, 1])
    levels: tuple[float, float] | None
    label: str  # under the plot: "ch 5 (top)" / "PC 1–3 → RGB · 41%"
    finite: bool
    detail: str  # for the notes: "channel 5 (top energy)" / "PC 1–3: 41% of the variance"


def stage_energy(trace, stage: int) -> np.ndarray:
    """(C,) `channel_energy` of the stage's output, once per trace and stage (a stage
    change reads it; it is a pass over every token: ~0.2 s at 1536²)."""
    return _TOP.get(trace, ("energy", stage), lambda: channel_energy(trace.stages[stage].out))


def strongest_channels(trace, stage: int, k: int) -> np.ndarray:
    """The k channels with the most energy, strongest first (ties by index), as
    `analysis.features.top_channels` of the stage's output."""
    return np.argsort(-stage_energy(trace, stage), kind="stable")[: max(0, k)]


def top_channel(trace, stage: int) -> int:
    """The stage's channel with the most energy (non-finite values count as 0)."""

    def build() -> int:
        energy = stage_energy(trace, stage)
        if not np.isfinite(energy).all():  # recount with the non-finite values as 0
            f = trace.stages[stage].out
            energy = channel_energy(np.nan_to_num(f, posinf=0, neginf=0))
        return int(np.argmax(energy))

    return _TOP.get(trace, stage, build)


def stage_channel(trace, sel: Selection, stage: int) -> int | None:
    """The channel shown for `stage` in channel mode (None for the other modes)."""
    if sel.feature_mode != "channel":
        return None
    dim = trace.stages[stage].dim
    if sel.channel is not None and stage == sel.stage:
        return max(0, min(dim - 1, int(sel.channel)))
    return top_channel(trace, stage)


def _pca_map(f: np.ndarray, finite: bool) -> StageMap:
    res = pca(f if finite else np.nan_to_num(f, nan=0.0, posinf=0.0, neginf=0.0), 3)
    unit = np.stack([robust_unit(res.scores[:, :, i]) for i in range(3)], axis=2)  # H, W, 3
    rgb = np.round(unit * 255).astype(np.uint8)
    share = num(float(res.explained.sum()), ".0%")
    label = f"PC 1–3: {share}"
    detail = tr("Pyramid", "PC 1–3: {share} of the variance", share=share)
    return StageMap(None, rgb, res.scores[:, :, 0], unit, None, label, finite, detail)


def _stage_map(trace, stage: int, mode: str, channel: int | None) -> StageMap:
    f = trace.stages[stage].out
    finite = bool(np.isfinite(f).all())
    if mode == "pca":
        return _pca_map(f, finite)
    if mode == "norm":
        values, label, detail = norm_map(f), "", tr("Pyramid", "L2 norm over channels")
    else:
        values = np.ascontiguousarray(f[:, :, channel], np.float32)
        if channel == top_channel(trace, stage):
            label = tr("Pyramid", "ch {c} (top)", c=channel)
            detail = tr("Pyramid", "channel {c} (top energy)", c=channel)
        else:
            label = tr("Pyramid", "ch {c}", c=channel)
            detail = tr("Pyramid", "channel {c}", c=channel)
    return StageMap(values, None, values, values, finite_levels(values), label, finite, detail)


def stage_map(trace, stage: int, mode: str, channel: int | None) -> StageMap:
    """Cached per (trace, stage, mode, channel): the selection-independent work."""
    if mode not in MODES:
        raise ValueError(
            tr(
                "Pyramid",
                "unknown feature mode {mode!r}; choose one of {modes}",
                mode=mode,
                modes=", ".join(MODES),
            )
        )
    key = (stage, mode, channel, language())  # the labels are text
    return _MAPS.get(trace, key, lambda: _stage_map(trace, stage, mode, channel))


def extent(trace) -> tuple[float, float]:
    """(width, height) in image pixels that every stage plot spans: the image, or the
    largest token grid when padding makes it larger."""
    H, W = trace.image.shape[:2]
    for st in trace.stages:
        P = trace.token_pixels(st.index)
        H, W = max(H, st.resolution[0] * P), max(W, st.resolution[1] * P)
    return float(W), float(H)


def _padding(trace, xmax: float, ymax: float) -> np.ndarray:
    """(x, y, w, h) rectangles of the plot that lie outside the image."""
    H, W = trace.image.shape[:2]
    boxes = []
    if xmax > W:
        boxes.append((W, 0, xmax - W, ymax))
    if ymax > H:
        boxes.append((0, H, W, ymax - H))
    return F.rects(boxes)


def _stage_layers(trace, sel: Selection, stage: int, m: StageMap, xmax: float, ymax: float):
    """The map over its tokens, padding hatched, the selected token outlined on the
    current stage and, for PCA, the R/G/B legend right of the map."""
    (Hs, Ws), P = trace.stages[stage].resolution, trace.token_pixels(stage)
    ext = (0.0, 0.0, float(Ws * P), float(Hs * P))
    if m.rgb is not None:
        layers: list = [F.Heatmap(m.rgb, ext)]
        layers += [
            F.Text(xmax * 1.08, ymax * (0.2 + 0.3 * i), text, 9.0, color, "lc")
            for i, (text, color) in enumerate(PCA_LEGEND)
        ]
    else:
        layers = [F.Heatmap(m.values, ext, sel.colormap, m.levels, unit(sel.feature_mode))]
    pad = _padding(trace, xmax, ymax)
    if len(pad):
        layers.append(F.Hatch(pad, color="muted"))
    if stage == sel.stage and sel.token is not None:
        r, c = min(sel.token[0], Hs - 1), min(sel.token[1], Ws - 1)
        layers.append(F.Rects(F.rects([(c * P, r * P, P, P)]), edge="selected", width_pt=1.5))
    return layers


def _stage_plot(trace, sel: Selection, stage: int, m: StageMap, box: tuple) -> F.Plot:
    (Hs, Ws), P = trace.stages[stage].resolution, trace.token_pixels(stage)
    xmax, ymax, size = box
    current = stage == sel.stage
    payload: dict = {"origin": (0, 0), "stage": stage}
    if not current:  # a click there goes to that stage's first block
        payload["select"] = {"block": 0, "step": "block"}
    ext = (0.0, 0.0, float(Ws * P), float(Hs * P))
    hit = F.HitRegion("tokens", ext, (Hs, Ws), m.hover, unit(sel.feature_mode), "", payload)
    bar = None if m.levels is None else F.ColorBar(sel.colormap, m.levels, unit(sel.feature_mode))
    wide = 1.0 if m.rgb is None else 1.0 + LEGEND
    layers = tuple(_stage_layers(trace, sel, stage, m, xmax, ymax))
    return F.Plot(
        key=f"stage{stage}",
        xlim=(0.0, xmax * wide),
        ylim=(0.0, ymax),
        size=(size[0] * wide, size[1]),
        layers=layers,
        title=tr("Pyramid", "stage {s} · {H}×{W}", s=stage, H=Hs, W=Ws),
        group="stages",
        fill=True,
        xlabel=m.label,
        colorbar=bar,
        hits=(hit,),
        frame="selected" if current else None,
    )


def figure_pyramid(trace, sel: Selection) -> F.Figure:
    """All stages in `sel.feature_mode`, aligned to the image; data: the current stage's map."""
    mode = sel.feature_mode
    maps = [
        stage_map(trace, s, mode, stage_channel(trace, sel, s)) for s in range(len(trace.stages))
    ]
    xmax, ymax = extent(trace)
    k = PLOT_PT / max(xmax, ymax)
    box = (xmax, ymax, (xmax * k, ymax * k))
    plots = tuple(_stage_plot(trace, sel, s, m, box) for s, m in enumerate(maps))
    cur = maps[min(sel.stage, len(maps) - 1)]
    return F.Figure(
        title=tr(
            "Pyramid",
            "Feature pyramid · {what}",
            what="PCA → RGB" if mode == "pca" else unit(mode),
        ),
        plots=plots,
        notes=_notes(trace, sel, maps),
        data=cur.data,
        view="pyramid",
    )


def _notes(trace, sel: Selection, maps: list[StageMap]) -> tuple[str, ...]:
    H, W = trace.image.shape[:2]
    notes = [
        tr(
            "Pyramid",
            "each stage aligned to the {H}×{W} (H×W) input; a stage-s token covers {p}·2^s px",
            H=H,
            W=W,
            p=trace.config.patch_size,
        ),
        tr(
            "Pyramid",
            "channels per stage: {dims}",
            dims=", ".join(str(st.dim) for st in trace.stages),
        ),
    ]
    cur = maps[min(sel.stage, len(maps) - 1)]
    if sel.feature_mode == "pca":
        notes.append(
            tr("Pyramid", "PCA: first 3 components → RGB (per stage; colours are not comparable)")
        )
        notes.append(tr("Pyramid", "stage {s}: {detail}", s=sel.stage, detail=cur.detail))
    else:
        lo, hi = cur.levels
        notes.append(
            tr(
                "Pyramid",
                "stage {s}: {detail}, {lo} to {hi} {unit}",
                s=sel.stage,
                detail=cur.detail,
                lo=num(lo, ".3g"),
                hi=num(hi, ".3g"),
                unit=unit(sel.feature_mode),
            )
        )
    if any(not m.finite for m in maps):
        bad = [str(s) for s, m in enumerate(maps) if not m.finite]
        notes.append(
            tr(
                "Pyramid",
                "non-finite features on stage {stages} (drawn in the masked colour)",
                stages=", ".join(bad),
            )
        )
    if sel.token is not None:
        r, c = sel.token
        notes.append(tr("Pyramid", "token ({r}, {c}) on stage {s}", r=r, c=c, s=sel.stage))
    return tuple(notes)
