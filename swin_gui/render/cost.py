"""The Cost view: Swin against a ViT as the image grows, on log-log axes.

Three plots share the x axis, log10(pixels) of an s x s image, ticked at the swept sides:
time (ms), MACs and peak activation memory (MiB), each with one line per model (Swin blue,
ViT orange); the MACs plot also draws the paper's attention formulas, Ω(W-MSA) for Swin and
Ω(MSA) for ViT summed over the blocks, dashed. A dashed vertical line marks where Swin
becomes cheaper in time (if in range) and a solid one the current image's pixel count.
Hovering a point reads its value out ("time of Swin-T at 224 px 365.6 ms").
Below, a table sets the paper's figures (Swin-T 28.3 M params, 4.5 GMACs; DeiT-S 22 M,
4.6 G; DeiT-B 86 M, 17.6 G) beside our analytic counts of the same architectures, then the
rows measured here.

Without a sweep result (`result=None`) only the analytic MACs of the loaded Swin and of
DeiT-S are drawn and the notes say "press Run to measure". The analytic counts come from
`swin_gui.analysis.costs` (plain Python, equal to the torch-side counts). `data` holds one
row per model and size: (size, family 0 = Swin / 1 = ViT, params, macs, ms, peak MiB); ms
and MiB are NaN before a measurement.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..analysis.costs import swin_total_macs, swin_v1_params, vit_cost, vit_preset
from ..i18n import language, ntr, num, tr
from ..model.config import SwinConfig
from . import figure as F
from .selection import Selection

SWIN_COLOR, VIT_COLOR = "#4fc3f7", "#ffb74d"
DEFAULT_SIZES = (224, 384, 512, 768, 1024)
COMPARE_VIT = "vit_small_patch16_224"
PLOT_SIZE = (190.0, 120.0)
SWIN_T = SwinConfig(name="swin_tiny_patch4_window7_224")  # the defaults are Swin-T's shape
PAPER = (  # name, preset, published params (M), published GMACs at 224
    ("Swin-T", "swin_tiny_patch4_window7_224", 28.3, 4.5),
    ("DeiT-S", "vit_small_patch16_224", 22.0, 4.6),
    ("DeiT-B", "vit_base_patch16_224", 86.0, 17.6),
)


@lru_cache(maxsize=8)
def _analytic(cfg, sizes: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(Swin MACs, DeiT-S MACs) per size, from the analytic cost models."""
    vit = vit_preset(COMPARE_VIT)
    swin = tuple(swin_total_macs(cfg, s, s) for s in sizes)
    return swin, tuple(vit_cost(vit, s, s)["total"] for s in sizes)


@lru_cache(maxsize=2)
def _paper_rows(lang: str) -> tuple[tuple[str, ...], ...]:
    """The paper's figures beside our analytic params and MACs for the same architectures
    (in the numbers of language `lang`)."""
    rows = []
    for name, spec, params, gmacs in PAPER:
        if spec.startswith("swin"):
            cfg = SWIN_T
            ours_p, ours_m = swin_v1_params(cfg), swin_total_macs(cfg, 224, 224)
        else:
            cost = vit_cost(vit_preset(spec), 224, 224)
            ours_p, ours_m = cost["params"], cost["total"]
        ours = (f"{num(ours_p / 1e6, '.2f')} M", f"{num(ours_m / 1e9, '.2f')} G")
        rows.append((name, f"{num(params, 'g')} M", f"{num(gmacs, 'g')} G", *ours, "", ""))
    return tuple(rows)


def _series(result, trace) -> dict:
    """{family: (sizes, params, macs, ms, peak)} from a result, or analytic MACs only."""
    if result is None:
        swin, vit = _analytic(trace.config, DEFAULT_SIZES)
        nan = [math.nan] * len(DEFAULT_SIZES)
        return {
            "swin": (trace.config.name, DEFAULT_SIZES, nan, swin, nan, nan),
            "vit": (COMPARE_VIT, DEFAULT_SIZES, nan, vit, nan, nan),
        }
    out = {}
    for family, label in zip(("swin", "vit"), result.models, strict=True):
        rows = result.of(label)
        out[family] = (
            label,
            *(
                tuple(getattr(r, k) for r in rows)
                for k in ("size", "params", "macs", "ms", "peak_mb")
            ),
        )
    return out


def _log_ticks(lo: float, hi: float, fmt) -> tuple[tuple[float, str], ...]:
    """Ticks at 1-2-5 steps (or decades when the range is wide) between lo and hi (log10)."""
    steps = (1,) if hi - lo > 2.5 else (1, 2, 5)
    ticks = []
    for e in range(math.floor(lo), math.ceil(hi) + 1):
        for m in steps:
            v = math.log10(m) + e
            if lo <= v <= hi:
                ticks.append((v, fmt(m * 10.0**e)))
    return tuple(ticks)


def _si(v: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{num(v / scale, 'g')} {unit}"
    return num(v, "g")


def _polyline(xs, ys) -> np.ndarray:
    pts = np.array([(x, y) for x, y in zip(xs, ys, strict=True) if np.isfinite(y)], float)
    if len(pts) < 2:
        return np.zeros((0, 2, 2))
    return np.stack([pts[:-1], pts[1:]], axis=1)


def _log(values) -> np.ndarray:
    a = np.asarray(values, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, np.log10(np.where(a > 0, a, 1)), np.nan)


def _markers(x: float, label: str, color: str, xlim, ylim, dash: bool) -> list:
    """A vertical line at x, labelled at the top on the side with more room."""
    seg = np.array([[[x, ylim[0]], [x, ylim[1]]]])
    right_half = x > (xlim[0] + xlim[1]) / 2
    text = F.Text(
        x,
        ylim[1],
        f"{label} " if right_half else f" {label}",
        9,
        color,
        "rt" if right_half else "lt",
    )
    return [F.Lines(seg, color, 1.0, dash), text]


def _point_hits(series, names, readout, xlim, ylim) -> tuple[F.HitRegion, ...]:
    """A small hit box around every measured point: hovering reads the value out."""
    quantity, unit, scale = readout
    dx, dy = 0.025 * (xlim[1] - xlim[0]), 0.05 * (ylim[1] - ylim[0])
    hits = []
    for (xs, ys, _, _), name in zip(series, names, strict=True):
        for x, y in zip(xs, ys, strict=True):
            if np.isfinite(y):
                side = round(math.sqrt(10**x))
                what = tr(
                    "Cost",
                    "{quantity} of {name} at {side} px",
                    quantity=quantity,
                    name=name,
                    side=side,
                )
                box = (x - dx, y - dy, x + dx, y + dy)
                hits.append(
                    F.HitRegion("point", box, (1, 1), np.array([[10**y * scale]]), what, unit)
                )
    return tuple(hits)


def _plot(key: str, title: str, series, marks, fmt, extra=(), names=(), readout=None) -> F.Plot:
    """One log-log plot: curves [(xs, log ys, colour, dashed)], vertical marks; with
    `names` and `readout` (quantity, unit, scale) the points of `series` read out on hover."""
    ys = np.concatenate([y for _, y, _, _ in series + list(extra)])
    finite = ys[np.isfinite(ys)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    pad = max(0.08, 0.08 * (hi - lo))
    ylim = (lo - pad, hi + pad)
    xs = np.concatenate([x for x, _, _, _ in series])
    xlim = (xs.min() - 0.08, xs.max() + 0.08)
    layers = []
    for x, y, color, dash in series + list(extra):
        layers.append(F.Lines(_polyline(x, y), color, 1.6 if not dash else 1.0, dash))
    for x, label, color, dash in marks:
        if xlim[0] <= x <= xlim[1]:
            layers += _markers(x, label, color, xlim, ylim, dash)
    hits = _point_hits(series, names, readout, xlim, ylim) if readout else ()
    sides = sorted({round(math.sqrt(10**v)) for v in xs})
    xticks = tuple((math.log10(s * s), str(s)) for s in sides)
    return F.Plot(
        key,
        xlim,
        ylim,
        PLOT_SIZE,
        tuple(layers),
        title,
        group="plots",
        aspect=False,
        y_up=True,
        xticks=xticks,
        yticks=_log_ticks(*ylim, fmt),
        xlabel=tr("Cost", "image side (px), log pixels"),
        hits=hits,
    )


def _table(result, series) -> F.Plot:
    group = ("", "", tr("Cost", "paper"), "", tr("Cost", "ours"), "", tr("Cost", "measured"))
    params = tr("Cost", "params")
    head = ("", params, "MACs", params, "MACs", tr("Cost", "ms"), tr("Cost", "MiB"))
    curves = tr("Cost", "curves: ")
    rows = [
        (curves + series["swin"][0][:24], "", "", "", "", "", ""),
        (curves + series["vit"][0][:24], "", "", "", "", "", ""),
        group,
        head,
        *_paper_rows(language()),
    ]
    if result is not None:
        size = 224 if 224 in result.sizes else result.sizes[0]
        rows.append((tr("Cost", "measured here at {size} px", size=size), "", "", "", "", "", ""))
        for r in (r for r in result.rows if r.size == size):
            rows.append(
                (
                    r.model[:24],
                    "",
                    "",
                    f"{num(r.params / 1e6, '.2f')} M",
                    f"{num(r.macs / 1e9, '.2f')} G",
                    num(r.ms, ".1f"),
                    num(r.peak_mb, ".1f"),
                )
            )
    xs = (0, 50, 64, 78, 92, 106, 120)  # the name column, then right edges
    layers = []
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell:
                anchor = "lc" if j == 0 else "rc"
                color = (
                    "muted"
                    if row in (group, head)
                    else _row_color(cell.removeprefix(curves), series)
                )
                layers.append(F.Text(xs[j], i + 0.5, cell, 9, color, anchor))
    return F.Plot(
        "table",
        (0, 121),
        (0, len(rows)),
        (400.0, 15.0 * len(rows)),
        tuple(layers),
        tr("Cost", "paper vs ours (MACs at 224 px)"),
        group="table",
        aspect=False,
    )


def _row_color(cell: str, series) -> str:
    if cell == series["swin"][0][:24]:
        return SWIN_COLOR
    if cell == series["vit"][0][:24]:
        return VIT_COLOR
    return "fg"


def _notes(result, series, image_px: int) -> tuple[str, ...]:
    swin, vit = series["swin"][0], series["vit"][0]
    legend = tr(
        "Cost",
        "blue: {swin} · orange: {vit} · dashed: the paper's Ω(W-MSA) / Ω(MSA) per block",
        swin=swin,
        vit=vit,
    )
    if result is None:
        return (
            tr("Cost", "press Run to measure: only the analytic MACs are drawn"),
            legend,
            tr(
                "Cost",
                "the seed notes say Swin is “3–5× faster than ViT”; timm's published GPU "
                "benchmark has DeiT-S 2.9× faster than Swin-T at equal MACs: cost grows "
                "linearly vs quadratically, with a crossover, not by a constant factor",
            ),
        )
    rows = {r.model: r for r in result.rows if r.size == result.sizes[0]}
    ratio = rows[vit].ms / rows[swin].ms if rows[swin].ms else math.nan
    slopes = tr("Cost", " vs ").join(
        tr("Cost", "{model} tokens^{slope}", model=m, slope=num(s, ".2f"))
        for m, s in result.slopes.items()
    )
    cross = next(c for c in result.crossovers if c.quantity == "time")
    measured = tr(
        "Cost",
        "the seed notes say Swin is “3–5× faster than ViT”; measured here: at {size} px "
        "ViT/Swin time = {ratio}×, time grows as {slopes}; {crossover}",
        size=result.sizes[0],
        ratio=num(ratio, ".2f"),
        slopes=slopes,
        crossover=cross.text(),
    )
    return (
        measured,
        legend,
        ntr(
            "Cost",
            "this image: {px} px · sweep {s} s, {n} thread; memory = live tensor storage "
            "(see `swin-gui cost`)",
            "this image: {px} px · sweep {s} s, {n} threads; memory = live tensor storage "
            "(see `swin-gui cost`)",
            result.threads,
            px=num(image_px, ",d"),
            s=num(result.wall_s, ".0f"),
        ),
    )


def figure_cost(trace, selection: Selection | None = None, result=None) -> F.Figure:
    """The Cost figure for `trace`'s Swin and image size; `result` is a `SweepResult`."""
    series = _series(result, trace)
    h, w = trace.image.shape[:2]
    marks = [(math.log10(h * w), tr("Cost", "this image {w}×{h}", w=w, h=h), "selected", False)]
    if result is not None:
        cross = next(c for c in result.crossovers if c.quantity == "time")
        if cross.status == "crossover":
            px = tr("Cost", "≈ {size} px", size=num(cross.size, ".0f"))
            marks.append((math.log10(cross.size**2), px, "fg", True))
    curves = {}
    for key, idx in (("ms", 4), ("macs", 3), ("peak", 5)):
        curves[key] = [
            (_log(np.square(s[1])), _log(s[idx]), c, False)
            for s, c in ((series["swin"], SWIN_COLOR), (series["vit"], VIT_COLOR))
        ]
    formula = []
    if result is not None:
        for fam, color in (("swin", SWIN_COLOR), ("vit", VIT_COLOR)):
            rows = result.of(series[fam][0])
            formula.append(
                (_log([r.size**2 for r in rows]), _log([r.formula_attn for r in rows]), color, True)
            )
    names = (series["swin"][0], series["vit"][0])
    plots = [
        _plot(
            "macs",
            tr("Cost", "MACs (analytic)"),
            curves["macs"],
            marks,
            _si,
            formula,
            names,
            ("MACs", "G", 1e-9),
        )
    ]
    if result is not None:
        ms, mib = tr("Cost", "ms"), tr("Cost", "MiB")
        readout = (tr("Cost", "time"), ms, 1)
        time_ = _plot("time", tr("Cost", "time (ms)"), curves["ms"], marks, _si, (), names, readout)
        memory = _plot(
            "memory",
            tr("Cost", "peak activation (MiB)"),
            curves["peak"],
            marks,
            _si,
            (),
            names,
            (tr("Cost", "peak activation"), mib, 1),
        )
        plots = [time_, *plots, memory]
    plots.append(_table(result, series))
    data = np.array(
        [
            (size, fam == "vit", p, m, t, mem)
            for fam in ("swin", "vit")
            for size, p, m, t, mem in zip(*series[fam][1:], strict=True)
        ],
        float,
    )
    if result is not None:
        title = tr("Cost", "Cost lab · measured")
    else:
        title = tr("Cost", "Cost lab · analytic MACs only")
    return F.Figure(title, tuple(plots), _notes(result, series, h * w), data, "cost")
