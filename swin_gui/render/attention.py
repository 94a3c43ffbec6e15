"""The per-head attention view: where does the selected token look, head by head?

Tiles (one `group`, wrapping at the panel width): one per head plus the mean over heads,
each the QUERY'S WINDOW in window layout — the M x M keys fill the tile, key j at (j // M,
j % M) — coloured by the attention over the image patch of every key (one RGB layer per
tile, blended here so the scene holds one image per tile; the colour bar carries the
levels, the hit region the probabilities). Every key shows its own patch, so a window the
cyclic roll wrapped around the border shows the opposite edge's patches beyond a dashed
seam (the hover names every key's real token; the "on the image" plot shows where they
really lie). Padding keys are hatched, the query is outlined, the selected head's tile
framed. A click on a tile selects that head and the key token under the cursor.
Below: the window's N x N attention (selected head, or mean) with query/key ticks every M,
masked entries drawn as masked and the query row outlined, and the selected head's
attention on the image (window pieces at their real positions).

One colour scale for everything: probability 0 … the query's largest attention over all
heads (the matrix saturates where another query attends more sharply; the notes say so).
`Figure.data` is (heads + 1, H, W): the maps on the stage grid, NaN outside the window, the
last map the mean over heads (padding keys are not on the grid; their mass is in the notes).
"""

from __future__ import annotations

import numpy as np

from ..analysis.attention import (
    QueryAttention,
    map_to_grid,
    masked_entries,
    query_attention,
    window_matrix,
)
from ..analysis.cache import TraceCache
from ..i18n import ntr, num, tr
from . import figure as F
from .attention_matrix import sequential, window_matrix_plot
from .colormap import NAN_COLOR, colormap_lut
from .common import window_pieces
from .selection import Selection, view_shift

OPACITY = 0.8  # attention colour over the image crop
CROP_PX = 8  # image pixels per key in a tile's crop (at most)
OVERVIEW_PT = 150.0  # longer side of the "on the image" plot
PAD_HATCH = "#ff00ffb0"  # padding keys / the padded border
PAD_GREY = 96  # image value drawn under padding keys (they are hatched on top)

_CACHE = TraceCache(traces=2, entries=512)  # padded images, crops, tile geometry per window


def key_pt(tiles: int) -> float:
    """Points per key in a head tile: 8 for 25 tiles (Swin-T stage 3) up to 16 for a few,
    so one key is ≥ 10 screen px at 96 dpi and 25 tiles wrap into a few rows."""
    return float(np.clip(18 - tiles / 2, 8, 16))


# ---- cached, selection-independent pieces -----------------------------------------------------
def padded_crop(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """`image[rows][:, cols]` on the padded token grid: rows and columns beyond the image
    are padding, grey (a padded copy of a 12 MP photo per stage took 80 ms on the GUI
    thread, for one window's pixels)."""
    h, w = image.shape[:2]
    out = image[np.minimum(rows, h - 1)][:, np.minimum(cols, w - 1)]
    out[rows >= h] = PAD_GREY
    out[:, cols >= w] = PAD_GREY
    return out


class WindowGeometry:
    """What a head tile draws that depends on the window only: the image crop in window
    layout, the key tokens (M, M, 2; −1 for padding), padding rects and the seams."""

    def __init__(self, trace, stage: int, block: int, window: int) -> None:
        bt = trace.block(stage, block)
        M, tp = bt.window, trace.token_pixels(stage)
        H, W = bt.resolution
        keys = bt.window_tokens(window)  # N, 2 (the shift the block computed with)
        self.keys = keys
        self.padding = (keys[:, 0] >= H) | (keys[:, 1] >= W)
        rows, cols = keys[::M, 0], keys[:M, 1]  # real row of each window row, col of each col
        p = min(tp, CROP_PX)
        sub = np.arange(p) * tp // p
        r_idx = (rows[:, None] * tp + sub[None, :]).reshape(-1)
        c_idx = (cols[:, None] * tp + sub[None, :]).reshape(-1)
        self.crop = padded_crop(trace.image, r_idx, c_idx)  # M*p, M*p, 3
        self.p = p
        under = np.floor(self.crop.astype(np.float32) * (1 - OPACITY)).astype(np.uint8)
        self.under = _packed(under.reshape(-1, 3), 0)  # (M*p)^2 uint32 RGBA, alpha 0
        key = np.arange(M * p) // p
        self.pixel_key = (key[:, None] * M + key[None, :]).reshape(-1)  # key of each pixel
        tokens = keys.reshape(M, M, 2).copy()
        tokens[self.padding.reshape(M, M)] = -1
        self.tokens = tokens
        self.padding_rects = merged_rects(self.padding.reshape(M, M))
        seams = [((j + 1, 0), (j + 1, M)) for j in range(M - 1) if cols[j + 1] != cols[j] + 1]
        seams += [((0, i + 1), (M, i + 1)) for i in range(M - 1) if rows[i + 1] != rows[i] + 1]
        self.seams = np.asarray(seams, np.float32).reshape(-1, 2, 2)
        self.wrapped = len(seams) > 0


def merged_rects(cells: np.ndarray) -> np.ndarray:
    """(n, 4) rects (x, y, w, h) covering the True cells of a bool grid: runs along each
    row, merged down while the rows below repeat them (padding is a few bands)."""
    cells = np.asarray(cells, bool)
    if not cells.any():
        return F.rects([])
    steps = np.diff(np.pad(cells.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    out: dict[tuple[int, int], list[int]] = {}  # (c0, c1) -> [x, y, w, h] still growing
    done = []
    for i, row in enumerate(steps):
        edges = np.flatnonzero(row)
        runs = {(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)}
        for key in list(out):
            if key not in runs:
                done.append(out.pop(key))
        for c0, c1 in runs:
            if (c0, c1) in out:
                out[(c0, c1)][3] += 1
            else:
                out[(c0, c1)] = [c0, i, c1 - c0, 1]
    return F.rects(done + list(out.values()))


def window_geometry(trace, stage: int, block: int, window: int) -> WindowGeometry:
    return _CACHE.get(
        trace,
        ("window", stage, block, window),
        lambda: WindowGeometry(trace, stage, block, window),
    )


def _thumbnail(trace, side_px: int = 320) -> np.ndarray:
    """The input image subsampled to at most `side_px` on its longer side."""
    step = max(1, int(np.ceil(max(trace.image.shape[:2]) / side_px)))
    return np.ascontiguousarray(trace.image[::step, ::step])


# ---- plots ------------------------------------------------------------------------------------
def _packed(rgb: np.ndarray, alpha: int) -> np.ndarray:
    """(n, 3) uint8 -> (n,) uint32 holding RGBA bytes (so colours add as one integer)."""
    rgba = np.empty((len(rgb), 4), np.uint8)
    rgba[:, :3], rgba[:, 3] = rgb, alpha
    return rgba.view(np.uint32).reshape(-1)


def blended_tiles(geo: WindowGeometry, rows: np.ndarray, cmap: str, levels) -> np.ndarray:
    """(K, M*p, M*p, 4) uint8 RGBA: every head's attention row (K, N) through the colour
    map, OPACITY over the window's image crop; non-finite values in the masked grey. Each
    channel is floor(OPACITY * colour) + floor((1 - OPACITY) * image) <= 255, so the packed
    RGBA words add without carries."""
    K = rows.shape[0]
    M, p = geo.tokens.shape[0], geo.p
    lo, hi = levels
    lut = np.vstack([colormap_lut(cmap), np.array([NAN_COLOR], np.uint8)]).astype(np.float32)
    lut = _packed(np.floor(lut * OPACITY).astype(np.uint8), 255)  # 257 (last: non-finite)
    with np.errstate(invalid="ignore"):
        idx = np.clip(np.rint((rows - lo) / (hi - lo) * 255), 0, 255)
    idx = np.where(np.isfinite(rows), idx, 256).astype(np.intp)
    out = lut[idx[:, geo.pixel_key]] + geo.under  # K, (M*p)^2 uint32
    return np.ascontiguousarray(out).view(np.uint8).reshape(K, M * p, M * p, 4)


def _tile(geo: WindowGeometry, q: QueryAttention, k: int, rgb, size: float, look) -> F.Plot:
    """Head k's tile (k == heads: the mean over heads) over the window's M x M keys."""
    M = geo.tokens.shape[0]
    cmap, levels, selected = look
    head = None if k == q.heads else k
    values = q.rows[k].reshape(M, M)
    qi, qj = divmod(q.position, M)
    layers: list[F.Layer] = [
        F.Heatmap(rgb, (0, 0, M, M)),
    ]
    if len(geo.padding_rects):
        layers.append(F.Hatch(geo.padding_rects, PAD_HATCH))
    if geo.wrapped:
        layers.append(F.Lines(geo.seams, "#ffffff", 1.2, dash=True))
    box = F.rects([(qj, qi, 1, 1)])
    layers.append(F.Rects(box, "#ffffff", None, 1.2, halo="#000000"))
    hit = F.HitRegion(
        "key",
        (0, 0, M, M),
        (M, M),
        values,
        tr("Attention", "probability"),
        "",
        {"tokens": geo.tokens, "select": {"head": head}},
    )
    return F.Plot(
        "mean" if head is None else f"head{k}",
        (0, M),
        (0, M),
        (size, size),
        tuple(layers),
        tr("Attention", "mean") if head is None else tr("Attention", "head {k}", k=k),
        "tiles",
        hits=(hit,),
        frame="selected" if head == selected else None,
        colorbar=F.ColorBar(cmap, levels, tr("Attention", "probability")) if head is None else None,
    )


def _overview(trace, sel: Selection, q: QueryAttention, look) -> F.Plot:
    """The selected head's attention at the keys' real positions on the image (the window's
    pieces: up to four when the roll wrapped it), the padded border hatched."""
    cmap, levels, _ = look
    bt = trace.block(sel.stage, sel.block)
    H, W = bt.resolution
    Hp, Wp = bt.padded
    tp = trace.token_pixels(sel.stage)
    ih, iw = trace.image.shape[0] / tp, trace.image.shape[1] / tp
    thumb = _CACHE.get(trace, "thumbnail", lambda: _thumbnail(trace))
    row = q.rows[q.heads if sel.head is None else sel.head]
    layers: list[F.Layer] = [F.Heatmap(thumb, (0, 0, iw, ih), smooth=True)]
    hits = [F.HitRegion("token", (0, 0, W, H), (H, W), None, payload={"origin": (0, 0)})]
    outlines = []
    probability = tr("Attention", "probability")
    for r0, c0, r1, c1 in window_pieces(bt, q.window, bt.shift):
        part = map_to_grid(row[None], q.keys - (r0, c0), (r1 - r0, c1 - c0))[0][0]
        layers.append(F.Heatmap(part, (c0, r0, c1, r1), cmap, levels, probability, opacity=OPACITY))
        outlines.append((c0, r0, c1 - c0, r1 - r0))
        hits.append(
            F.HitRegion(
                "token",
                (c0, r0, c1, r1),
                part.shape,
                part,
                probability,
                payload={"origin": (r0, c0)},
            )
        )
    pad = [(iw, 0, Wp - iw, Hp), (0, ih, iw, Hp - ih)]
    pad = [r for r in pad if r[2] > 1e-6 and r[3] > 1e-6]
    if pad:
        layers.append(F.Hatch(F.rects(pad), PAD_HATCH))
    layers.append(F.Rects(F.rects(outlines), "fg", None, 1.0))
    r, c = q.token
    layers.append(F.Rects(F.rects([(c, r, 1, 1)]), "#ffffff", None, 1.2, halo="#000000"))
    scale = OVERVIEW_PT / max(Hp, Wp)
    head = tr("Attention", "mean") if sel.head is None else tr("Attention", "head {k}", k=sel.head)
    return F.Plot(
        "image",
        (0, Wp),
        (0, Hp),
        (Wp * scale, Hp * scale),
        tuple(layers),
        tr("Attention", "on the image · {head}", head=head),
        "matrix",
        hits=tuple(hits),
        xticks=((0.5, "0"), (W - 0.5, str(W - 1))),
        yticks=((0.5, "0"), (H - 0.5, str(H - 1))),
    )


# ---- text -------------------------------------------------------------------------------------
def _notes(trace, sel: Selection, q: QueryAttention, hi: float, masked: int, geo) -> tuple:
    bt = trace.block(sel.stage, sel.block)
    notes = [
        tr(
            "Attention",
            "colour: probability 0 … {hi} (this query's largest, all heads; "
            "the matrix saturates above it)",
            hi=num(hi, ".3g"),
        )
    ]
    shown = view_shift(bt, sel)
    if shown != bt.shift:
        notes.append(
            tr(
                "Attention",
                "the shift toggle draws shift {shown}; attention is shown as the block "
                "computed it (shift {s})",
                shown=shown,
                s=bt.shift,
            )
        )
    if bt.nominal_shift and not bt.shift:
        H, W = bt.resolution
        notes.append(
            tr(
                "Attention",
                "no shift here: the grid {H}×{W} fits in one window (M = {M})",
                H=H,
                W=W,
                M=bt.window,
            )
        )
    if geo.wrapped:
        notes.append(
            tr(
                "Attention",
                "this window wraps around the border (cyclic shift): keys beyond the "
                "dashed seam come from the opposite edge ('on the image' shows where)",
            )
        )
    if q.padding.any():
        mass = q.padding_mass()  # heads+1
        notes.append(
            ntr(
                "Attention",
                "{n} padding key (hatched, not on the image) takes {mean} of the attention "
                "on average (heads {lo} … {hi})",
                "{n} padding keys (hatched, not on the image) take {mean} of the attention "
                "on average (heads {lo} … {hi})",
                int(q.padding.sum()),
                mean=num(mass[-1], ".1%"),
                lo=num(mass[:-1].min(), ".1%"),
                hi=num(mass[:-1].max(), ".1%"),
            )
        )
    if masked:
        notes.append(
            tr(
                "Attention",
                "{n} of {total} matrix entries masked by the shift mask",
                n=masked,
                total=bt.tokens_per_window**2,
            )
        )
    return tuple(notes)


def _levels(q: QueryAttention) -> tuple[float, float]:
    f = q.rows[np.isfinite(q.rows)]
    hi = float(f.max()) if f.size else 1.0
    return 0.0, hi if hi > 0 else 1.0


def figure_attention(trace, selection: Selection) -> F.Figure:
    """Per-head attention of the selected token (default: the centre token) over its window,
    each head and the mean as a tile of the window, plus the window's N x N matrix."""
    bt = trace.block(selection.stage, selection.block)
    head_ok = selection.head is None or 0 <= selection.head < bt.heads
    sel = selection if head_ok else selection.with_(head=None)
    M = bt.window
    cmap = sequential(sel.colormap)
    q = query_attention(bt, sel.token)
    levels = _levels(q)
    look = (cmap, levels, sel.head)
    geo = window_geometry(trace, sel.stage, sel.block, q.window)
    size = M * key_pt(q.heads + 1)
    rgb = blended_tiles(geo, q.rows, cmap, levels)
    tiles = [_tile(geo, q, k, rgb[k], size, look) for k in range(q.heads + 1)]
    masked = masked_entries(bt, q.window)  # N, N
    if sel.head is None:
        head = tr("Attention", "mean of heads")
    else:
        head = tr("Attention", "head {k}", k=sel.head)
    qi, qj = divmod(q.position, M)
    matrix = window_matrix_plot(
        "matrix",
        window_matrix(bt, q.window, sel.head),
        title=tr(
            "Attention",
            "window {w} · {head} · query i = {i} = ({qi}, {qj})",
            w=q.window,
            head=head,
            i=q.position,
            qi=qi,
            qj=qj,
        ),
        window=M,
        cmap=cmap,
        levels=levels,
        quantity=tr("Attention", "probability"),
        unit="",
        keys=q.keys,
        padding=q.padding,
        query=q.position,
        masked=masked,
    )
    r, c = q.token
    return F.Figure(
        title=tr(
            "Attention",
            "Attention · stage {stage} · block {block} ({kind}, shift {s}) · query ({r}, {c}) · "
            "{head}",
            stage=sel.stage,
            block=sel.block,
            kind=bt.kind,
            s=bt.shift,
            r=r,
            c=c,
            head=head,
        ),
        plots=(*tiles, matrix, _overview(trace, sel, q, look)),
        notes=_notes(trace, sel, q, levels[1], int(masked.sum()), geo),
        data=lambda: map_to_grid(q.rows, q.keys, bt.resolution)[0],  # heads+1, H, W
        view="attention",
    )
