"""The window grid view: the input image with the current block's window partition drawn
over it in image pixels (window side = M × patch × 2^stage), the padded border hatched, and
on SW-MSA the shifted partition with the 9 cyclic-shift regions tinted and labelled.

What the fit did to the photo shows too (`trace.meta`: "fit", "crop_box" in original
pixels, "content_box" in model pixels, "original_size"): a letterbox's bands are dimmed,
hatched and labelled; a centre crop marks the cut edges; the caption says which, e.g.
"centre crop 224×224 of 298×224 (37 px cut left and right)".

Data units are input pixels (x right, y down). The one hit region covers the padded token
grid: hovering reads the window a token falls in; a click selects the token.
"""

from __future__ import annotations

import numpy as np

from ..analysis.cache import TraceCache
from ..i18n import language, ntr, tr
from ..trace import BlockTrace, Trace
from . import figure as F
from .common import (
    REGION_COLORS,
    crosshair,
    mode_label,
    original_regions,
    region_boxes,
    selected_window,
    window_pieces,
)
from .selection import Selection, view_shift

DISPLAY_MAX = 2048  # the image layer is drawn from a copy at most this many pixels wide
LONG_SIDE_PT = 420.0  # the natural size of the picture's long side
DENSE_WINDOW_PT = 8.0  # windows smaller than this on the figure get thin, translucent lines
REGION_ALPHA, REGION0_ALPHA = 110, 40  # of 255: regions 1-8 (moved by the roll), region 0
LETTERBOX_FILL = "#000000a0"  # dims the letterbox bands (not the picture)
LETTERBOX_HATCH = "#9e9e9e"  # unlike the window padding's magenta hatch
CUT_COLOR = "#e53935"  # the edges where the centre crop cut the photo

_CACHE = TraceCache(traces=2, entries=64)


def _display_image(trace: Trace) -> np.ndarray:
    """The input image, subsampled to at most DISPLAY_MAX pixels on its long side: one
    array per trace, so every stage's and shift's frame shares its picture (a 12 MP photo's
    is 9 MB, and its pixmap 12 MB: one each per frame had filled the scenes' spare budget)."""
    return _CACHE.get(trace, "display", lambda: _subsampled(trace.image))


def _subsampled(image: np.ndarray) -> np.ndarray:
    step = max(1, int(np.ceil(max(image.shape[:2]) / DISPLAY_MAX)))
    return np.ascontiguousarray(image[::step, ::step]) if step > 1 else image


def extent(trace: Trace, stage: int) -> tuple[int, int]:
    """(H, W) input pixels the view covers: the image and the stage's padded token grid."""
    H, W = trace.image.shape[:2]
    tp = trace.token_pixels(stage)
    Hp, Wp = trace.stages[stage].blocks[0].padded
    return max(H, Hp * tp), max(W, Wp * tp)


def _padding_rects(trace: Trace, block: BlockTrace) -> np.ndarray:
    H, W = trace.image.shape[:2]
    tp = trace.token_pixels(block.stage)
    Hp, Wp = block.padded[0] * tp, block.padded[1] * tp
    rects = []
    if Wp > W:
        rects.append((W, 0, Wp - W, Hp))
    if Hp > H:
        rects.append((0, H, min(W, Wp), Hp - H))
    return F.rects(rects)


# ---- what the fit did ------------------------------------------------------------------------
def fit_geometry(trace: Trace) -> dict | None:
    """{"fit", "original" (W, H), "crop" (x0, y0, x1, y1) original px, "content" (x0, y0,
    x1, y1) model px} when the fit cropped, padded or stretched the photo; else None."""
    meta = trace.meta
    fit, original = meta.get("fit"), meta.get("original_size")
    if fit not in ("crop", "pad", "stretch") or not original:
        return None
    H, W = trace.image.shape[:2]
    return {
        "fit": fit,
        "original": (int(original[0]), int(original[1])),
        "crop": tuple(float(v) for v in meta.get("crop_box", (0, 0, *original))),
        "content": tuple(int(v) for v in meta.get("content_box", (0, 0, W, H))),
    }


def letterbox_rects(trace: Trace) -> np.ndarray:
    """(n, 4) x, y, w, h model-pixel bands a letterbox ("pad" fit) added around the photo."""
    geo = fit_geometry(trace)
    if geo is None or geo["fit"] != "pad":
        return F.rects([])
    H, W = trace.image.shape[:2]
    x0, y0, x1, y1 = geo["content"]
    bands = [(0, 0, W, y0), (0, y1, W, H - y1), (0, y0, x0, y1 - y0), (x1, y0, W - x1, y1 - y0)]
    return F.rects([b for b in bands if b[2] > 0 and b[3] > 0])


def cut_edges(trace: Trace) -> list[str]:
    """The sides ("left", "right", "top", "bottom") a centre crop cut from the photo."""
    geo = fit_geometry(trace)
    if geo is None or geo["fit"] != "crop":
        return []
    (W0, H0), (x0, y0, x1, y1) = geo["original"], geo["crop"]
    cut = {"left": x0 > 0.5, "right": x1 < W0 - 0.5, "top": y0 > 0.5, "bottom": y1 < H0 - 0.5}
    return [side for side, yes in cut.items() if yes]


def _fit_layers(trace: Trace) -> tuple[list[F.Layer], list[F.Layer]]:
    """(under the window lines: the dimmed letterbox; over them: its label, the cuts)."""
    H, W = trace.image.shape[:2]
    under: list[F.Layer] = []
    out: list[F.Layer] = []
    bands = letterbox_rects(trace)
    if len(bands):
        under += [F.Rects(bands, None, LETTERBOX_FILL), F.Hatch(bands, LETTERBOX_HATCH)]
        x, y, w, h = max(bands.tolist(), key=lambda b: b[2] * b[3])
        label = tr("Grid", "letterbox (not the photo)")
        out.append(F.Text(x + w / 2, y + h / 2, label, 10, "#ffffff", "cc", box="#000000a0"))
    lines = {
        "left": ((0, 0), (0, H)),
        "right": ((W, 0), (W, H)),
        "top": ((0, 0), (W, 0)),
        "bottom": ((0, H), (W, H)),
    }
    edges = cut_edges(trace)
    if edges:
        seg = np.asarray([lines[e] for e in edges], np.float32)
        out.append(F.Lines(seg, CUT_COLOR, 3.0, dash=True))
        where = {"left": (2, H / 2, "lc"), "right": (W - 2, H / 2, "rc")}
        where |= {"top": (W / 2, 2, "ct"), "bottom": (W / 2, H - 2, "cb")}
        for e in edges:
            x, y, anchor = where[e]
            out.append(F.Text(x, y, tr("Grid", "cut"), 10, "#ffffff", anchor, box=CUT_COLOR))
    return under, out


def fit_note(trace: Trace) -> str | None:
    """One caption line on what the fit did, or None when it did nothing to the photo."""
    geo = fit_geometry(trace)
    if geo is None:
        return None
    H, W = trace.image.shape[:2]
    (W0, H0), (x0, y0, x1, y1) = geo["original"], geo["crop"]
    if geo["fit"] == "crop":
        if not cut_edges(trace):
            return None
        return tr(
            "Grid",
            "centre crop {w}×{h} of {w0}×{h0} (original px cut: left {l}, right {r}, top {t}, "
            "bottom {b}), as timm's eval transform",
            w=W, h=H, w0=W0, h0=H0,
            l=round(x0), r=round(W0 - x1), t=round(y0), b=round(H0 - y1),
        )  # fmt: skip
    if geo["fit"] == "pad":
        cx0, cy0, cx1, cy1 = geo["content"]
        if (cx1 - cx0, cy1 - cy0) == (W, H):
            return None
        return tr(
            "Grid",
            "letterbox: {w0}×{h0} scaled to {cw}×{ch} in {w}×{h}, the rest padded (dimmed)",
            w0=W0, h0=H0, cw=cx1 - cx0, ch=cy1 - cy0, w=W, h=H,
        )  # fmt: skip
    if W0 * H == H0 * W:
        return None
    return tr(
        "Grid", "stretched {w0}×{h0} to {w}×{h}: the aspect ratio changed", w0=W0, h0=H0, w=W, h=H
    )


def _region_layer(trace: Trace, block: BlockTrace, shift: int) -> F.Heatmap:
    """The 9 regions as an RGBA layer at token resolution (region 0 faint)."""
    labels = original_regions(block, shift)  # Hp, Wp
    palette = np.array(
        [[int(c[i : i + 2], 16) for i in (1, 3, 5)] + [REGION_ALPHA] for c in REGION_COLORS],
        np.uint8,
    )
    palette[0, 3] = REGION0_ALPHA
    words = palette.view(np.uint32).reshape(-1)  # one RGBA word per region
    rgba = np.take(words, labels).view(np.uint8).reshape(*labels.shape, 4)  # one lookup
    tp = trace.token_pixels(block.stage)
    Hp, Wp = block.padded
    return F.Heatmap(rgba, (0, 0, Wp * tp, Hp * tp))


def _window_lines(trace: Trace, block: BlockTrace, shift: int) -> list[F.Layer]:
    """Faint token lines (when tokens are big enough to see), then the window boundaries
    (thin and translucent when the windows are only a few points wide: a 12 MP photo's
    stage 0 has 143 windows across)."""
    tp = trace.token_pixels(block.stage)
    Hp, Wp = block.padded
    M = block.window
    X, Y = Wp * tp, Hp * tp
    out: list[F.Layer] = []
    if max(Hp, Wp) <= 64:
        out.append(F.Lines(F.grid_lines(0, 0, X, Y, tp, tp), "#8a8f94", 0.5))  # opaque: fast
    rows = sorted({0, Y, *((k * M + shift) * tp for k in range(Hp // M))})
    cols = sorted({0, X, *((k * M + shift) * tp for k in range(Wp // M))})
    seg = [((0, y), (X, y)) for y in rows] + [((x, 0), (x, Y)) for x in cols]
    window_pt = M * tp * LONG_SIDE_PT / max(extent(trace, block.stage))
    if window_pt < DENSE_WINDOW_PT:  # 1.5 pt lines every few pt would hide the image
        out.append(F.Lines(np.asarray(seg, np.float32), "#ffffff80", 0.5))
    else:
        out.append(F.Lines(np.asarray(seg, np.float32), "grid", 1.5))
    return out


def _region_labels(trace: Trace, block: BlockTrace, shift: int) -> list[F.Text]:
    tp = trace.token_pixels(block.stage)
    out = []
    for k, (r0, c0, r1, c1) in region_boxes(original_regions(block, shift)).items():
        x, y = (c0 + c1) * tp / 2, (r0 + r1) * tp / 2
        out.append(F.Text(x, y, str(k), 10, "#ffffff", "cc", box=REGION_COLORS[k], bold=True))
    return out


def _static_layers(trace: Trace, block: BlockTrace, shift: int) -> tuple[F.Layer, ...]:
    """Everything that does not depend on the selected token (cached per block and shift)."""
    H, W = trace.image.shape[:2]
    layers: list[F.Layer] = [F.Heatmap(_display_image(trace), (0, 0, W, H), smooth=True)]
    if shift > 0:
        layers.append(_region_layer(trace, block, shift))
    fit_under, fit_over = _fit_layers(trace)
    layers += fit_under
    pad = _padding_rects(trace, block)
    if len(pad):
        layers.append(F.Hatch(pad))
    layers += _window_lines(trace, block, shift) + fit_over
    if shift > 0:
        layers += _region_labels(trace, block, shift)
    return tuple(layers)


def _hit(trace: Trace, block: BlockTrace, shift: int) -> F.HitRegion:
    tp = trace.token_pixels(block.stage)
    Hp, Wp = block.padded
    M = block.window
    rr = (np.arange(Hp) - shift) % Hp // M
    cc = (np.arange(Wp) - shift) % Wp // M
    windows = (rr[:, None] * (Wp // M) + cc[None, :]).astype(np.float32)  # Hp, Wp
    return F.HitRegion(
        "token",
        (0, 0, Wp * tp, Hp * tp),
        (Hp, Wp),
        windows,
        tr("Grid", "window"),
        "",
        {"origin": (0, 0), "stage": block.stage},
    )


def _selection_layers(trace: Trace, block: BlockTrace, sel: Selection, shift: int):
    tp = trace.token_pixels(block.stage)
    w = selected_window(block, sel, shift)
    boxes = [
        (c0 * tp, r0 * tp, (c1 - c0) * tp, (r1 - r0) * tp)
        for r0, c0, r1, c1 in window_pieces(block, w, shift)
    ]
    layers: list[F.Layer] = [F.Rects(F.rects(boxes), "selected", None, 2.5)]
    if sel.token is not None:
        layers.append(crosshair(sel.token, tp))
    return layers, w


def figure_grid(trace: Trace, sel: Selection) -> F.Figure:
    """The image with the current block's window partition, in image pixels."""
    block = trace.block(sel.stage, sel.block)
    shift = view_shift(block, sel)
    He, We = extent(trace, sel.stage)
    # the blocks of a stage share the grid, so its frame (one set of layer objects, whose
    # scene items come back when another block with the same shift is shown)
    frame = ("static", sel.stage, block.window, shift)
    static = _CACHE.get(trace, frame, lambda: _static_layers(trace, block, shift))
    key = ("hit", sel.stage, block.window, shift, language())  # the region names "window"
    hit = _CACHE.get(trace, key, lambda: _hit(trace, block, shift))
    chosen, window = _selection_layers(trace, block, sel, shift)
    k = LONG_SIDE_PT / max(He, We)
    step = block.window * trace.token_pixels(sel.stage)  # one window, in input pixels
    plot = F.Plot(
        key="image",
        xlim=(0, We),
        ylim=(0, He),
        size=(We * k, He * k),
        layers=static + tuple(chosen),
        fill=True,
        hits=(hit,),
        xticks=pixel_ticks(We, step, shift * trace.token_pixels(sel.stage)),
        yticks=pixel_ticks(He, step, shift * trace.token_pixels(sel.stage)),
    )
    H, W = block.resolution
    return F.Figure(
        title=tr(
            "Grid",
            "Window grid · stage {stage} · block {block} · {mode} · M={m} · s={s}",
            stage=block.stage,
            block=block.index,
            mode=mode_label(trace, block, shift),
            m=block.window,
            s=shift,
        ),
        plots=(plot,),
        notes=_notes(trace, block, shift, window),
        data=lambda: hit.values[:H, :W].astype(np.int64),  # window of each token
        view="grid",
    )


def pixel_ticks(extent: int, step: int, offset: int, most: int = 8) -> tuple:
    """Ticks in input pixels at the window boundaries (every k-th when there are many)."""
    edges = [offset + i * step for i in range(-1, extent // step + 2)]
    edges = [e for e in edges if 0 <= e <= extent]
    k = max(1, -(-len(edges) // most))
    return tuple((float(e), f"{e}") for e in edges[::k])


def _notes(trace: Trace, block: BlockTrace, shift: int, window: int) -> tuple[str, ...]:
    H, W = block.resolution
    Hp, Wp = block.padded
    nWh, nWw = block.window_grid
    tp = trace.token_pixels(block.stage)
    Hi, Wi = trace.image.shape[:2]
    n = nWh * nWw
    M = block.window
    windows = ntr(
        "Grid",
        "{n} window ({a}×{b}) of {m}×{m} tokens = {px} px; token = {tp} px",
        "{n} windows ({a}×{b}) of {m}×{m} tokens = {px} px; token = {tp} px",
        n,
        a=nWh,
        b=nWw,
        m=M,
        px=M * tp,
        tp=tp,
    )
    size = {"wi": Wi, "hi": Hi, "h": H, "w": W, "hp": Hp, "wp": Wp}
    if (Hp * tp, Wp * tp) != (Hi, Wi):
        image = tr(
            "Grid",
            "image {wi}×{hi} px (W×H); tokens {h}×{w} (H×W) padded to {hp}×{wp} (hatched: padding)",
            **size,
        )
    else:
        image = tr("Grid", "image {wi}×{hi} px (W×H) = {h}×{w} tokens (H×W), no padding", **size)
    notes = [windows, image, tr("Grid", "selected window {w}", w=window)]
    if shift > 0:
        notes.append(
            tr(
                "Grid",
                "windows start at token {s} (roll by −{s}); tint = 9 shift regions",
                s=shift,
            )
        )
    fit = fit_note(trace)
    if fit is not None:
        notes.insert(1, fit)
    return tuple(notes)
