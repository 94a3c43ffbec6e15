"""Patch merging (and, for stage 0, patch embedding) around the selected token.

Merging into stage s (s >= 1) takes each 2×2 neighbourhood of stage s-1 in the order
x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2] — neighbours 0..3 of token (r, c)
are (2r,2c), (2r+1,2c), (2r,2c+1), (2r+1,2c+1) — concatenates them to 4C channels and
reduces to 2C: v1 LayerNorm(4C) then Linear(4C→2C); v2 Linear(4C→2C) then LayerNorm(2C).
Odd grids are zero-padded right/bottom first. Stage 0 shows the patch embedding instead:
patch×patch pixels → one C-channel token (conv k = s = patch, then LayerNorm).

The figure: the image crop around the token with both token grids and the neighbours
numbered (a click selects a token); the operations with the model's own numbers; the
concatenated 4C vector (its four neighbours side by side) and the merged 2C vector as
colour rows whose lengths are to scale.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..i18n import tr
from . import figure as F
from .colormap import symmetric_levels
from .merging_facts import (
    NEIGHBOUR_OFFSETS,
    crop_notes,
    merge_dims,
    merge_neighbours,
    merge_notes,
    merge_parts,
    merge_steps,
    neighbour_rows,
)
from .selection import Selection

CONTEXT = 1  # stage-s tokens shown on each side of the selected one
CROP_PT = 96.0
VECTOR_PT = 300.0  # width of the 4C row; the 2C row is half as long
DIVERGING = "coolwarm"  # signed vectors: zero in the middle of the map
PAD_COLOR = "#ff7878"


def selected_token(trace, sel: Selection) -> tuple[int, int]:
    H, W = trace.stages[sel.stage].resolution
    if sel.token is None:
        return H // 2, W // 2
    return min(H - 1, sel.token[0]), min(W - 1, sel.token[1])


# ---- the image crop --------------------------------------------------------------------
def _crop(trace, stage: int, token: tuple[int, int]):
    """The (3P, 3P) image crop around `token` (zeros outside the image), its extent in
    image pixels and the rectangles outside the image (padding)."""
    P, n = trace.token_pixels(stage), 2 * CONTEXT + 1
    y0, x0 = (token[0] - CONTEXT) * P, (token[1] - CONTEXT) * P
    H, W = trace.image.shape[:2]
    crop = np.zeros((n * P, n * P, 3), np.uint8)
    ys, xs = slice(max(0, y0), min(H, y0 + n * P)), slice(max(0, x0), min(W, x0 + n * P))
    part = trace.image[ys, xs, :3]
    crop[
        ys.start - y0 : ys.start - y0 + part.shape[0], xs.start - x0 : xs.start - x0 + part.shape[1]
    ] = part
    x1, y1 = x0 + n * P, y0 + n * P
    outside = [
        (x0, y0, max(0, -x0), n * P),
        (x0, y0, n * P, max(0, -y0)),
        (W, y0, max(0, x1 - W), n * P),
        (x0, H, n * P, max(0, y1 - H)),
    ]
    pad = F.rects(r for r in outside if r[2] > 0 and r[3] > 0)
    return crop, (float(x0), float(y0), float(x1), float(y1)), pad


def _crop_tokens(trace, stage: int, token: tuple[int, int]) -> np.ndarray:
    """(3, 3, 2) stage tokens of the crop's cells; (-1, -1) off the token grid."""
    H, W = trace.stages[stage].resolution
    rr = np.arange(-CONTEXT, CONTEXT + 1) + token[0]
    cc = np.arange(-CONTEXT, CONTEXT + 1) + token[1]
    t = np.stack(np.meshgrid(rr, cc, indexing="ij"), axis=-1)
    off = (t[..., 0] < 0) | (t[..., 0] >= H) | (t[..., 1] < 0) | (t[..., 1] >= W)
    t[off] = -1
    return t


def _crop_plot(
    trace,
    stage: int,
    token: tuple[int, int],
    vectors: np.ndarray,
    fine: float,
    labels: list[F.Text],
    title: str,
) -> F.Plot:
    """The crop with a fine grid every `fine` px, the stage grid, the selected token
    outlined and `labels`; hover reads the L2 norm of the stage token `vectors[r, c]`."""
    crop, ext, pad = _crop(trace, stage, token)
    x0, y0, x1, y1 = ext
    P = trace.token_pixels(stage)
    tokens = _crop_tokens(trace, stage, token)
    norms = np.full(tokens.shape[:2], np.nan, np.float32)
    on = tokens[..., 0] >= 0
    norms[on] = np.linalg.norm(vectors[tokens[on][:, 0], tokens[on][:, 1]], axis=-1)
    sel_box = F.rects([(x0 + CONTEXT * P, y0 + CONTEXT * P, P, P)])
    layers = [F.Heatmap(crop, ext, smooth=False)]
    if len(pad):
        layers.append(F.Hatch(pad, color=PAD_COLOR))
    if fine:
        layers.append(F.Lines(F.grid_lines(x0, y0, x1, y1, fine, fine), "#ffffff70", 0.6))
    layers += [
        F.Lines(F.grid_lines(x0, y0, x1, y1, P, P), "#000000", 1.5),
        F.Rects(sel_box, edge="selected", width_pt=2.0),
        *labels,
    ]
    hit = F.HitRegion(
        "tokens",
        ext,
        tokens.shape[:2],
        norms,
        tr("Merging", "L2 norm"),
        "",
        {"tokens": tokens, "stage": stage},
    )
    return F.Plot(
        "crop", (x0, x1), (y0, y1), (CROP_PT, CROP_PT), tuple(layers), title=title, hits=(hit,)
    )


def _neighbour_labels(trace, stage: int, token: tuple[int, int]) -> list[F.Text]:
    """'0'..'3' on the four stage s-1 cells of the selected token (red when padding)."""
    P = trace.token_pixels(stage)
    H_prev, W_prev = trace.stages[stage - 1].resolution
    x0, y0 = (token[1] - CONTEXT) * P, (token[0] - CONTEXT) * P
    out = []
    for k, ((dr, dc), (r, c)) in enumerate(
        zip(NEIGHBOUR_OFFSETS, merge_neighbours(*token), strict=True)
    ):
        pad = r >= H_prev or c >= W_prev
        x = x0 + CONTEXT * P + dc * P / 2 + P / 4
        y = y0 + CONTEXT * P + dr * P / 2 + P / 4
        out.append(
            F.Text(
                x,
                y,
                str(k),
                9.0,
                PAD_COLOR if pad else "selected",
                "cc",
                box="#000000b0",
                bold=True,
            )
        )
    return out


# ---- the operations --------------------------------------------------------------------
def _diagram(boxes: list[tuple[str, str]], title: str) -> F.Plot:
    """A row of two-line boxes joined by arrows (the last box, the result, highlighted)."""
    n = len(boxes)
    step, bw = 100.0, 84.0
    layers: list = [
        F.Rects(F.rects((i * step, 0.08, bw, 0.84) for i in range(n - 1)), edge="fg"),
        F.Rects(F.rects([((n - 1) * step, 0.08, bw, 0.84)]), edge="selected", width_pt=1.5),
    ]
    seg = []
    for i in range(1, n):
        a, b = (i - 1) * step + bw + 1, i * step - 1
        seg += [((a, 0.5), (b, 0.5)), ((b - 4, 0.32), (b, 0.5)), ((b - 4, 0.68), (b, 0.5))]
    layers.append(F.Lines(np.asarray(seg, np.float32).reshape(-1, 2, 2), "muted", 1.2))
    for i, (top, bottom) in enumerate(boxes):
        x = i * step + bw / 2
        layers.append(F.Text(x, 0.32, top, 9.0, "fg", "cc"))
        layers.append(F.Text(x, 0.7, bottom, 9.0, "muted", "cc"))
    size = (n * 86.0, 34.0)
    return F.Plot(
        "diagram",
        (0.0, (n - 1) * step + bw),
        (0.0, 1.0),
        size,
        tuple(layers),
        title=title,
        aspect=False,
    )


# ---- the vectors -----------------------------------------------------------------------
def _segments(short: tuple[str, ...], seg: int) -> list:
    """Separators between the neighbours of a 4C row, and each one's short name inside it
    ("0 (2, 4)" / "3 pad")."""
    cuts = np.asarray([((k * seg, 0.0), (k * seg, 1.0)) for k in range(1, len(short))], np.float32)
    texts = [
        F.Text((k + 0.5) * seg, 0.5, t, 9.0, "#ffffff", "cc", box="#000000a0")
        for k, t in enumerate(short)
    ]
    return [F.Lines(cuts, "fg", 1.5), *texts]


def _vector_plot(
    key: str,
    row: np.ndarray,
    names: tuple[str, ...],
    width: float,
    title: str,
    short: tuple[str, ...] = (),
) -> F.Plot:
    """A (K,) vector as one colour row of `len(names)` equal segments (K / segment
    channels each), named inside (`short`); symmetric levels, unit "activation"."""
    K, seg = len(row), len(row) // len(names)
    data = np.asarray(row, np.float32)[None]
    levels = symmetric_levels(np.where(np.isfinite(data), data, 0.0))
    ext = (0.0, 0.0, float(K), 1.0)
    activation = tr("Merging", "activation")
    layers: list = [F.Heatmap(data, ext, DIVERGING, levels, activation)]
    if len(names) > 1:
        layers += _segments(short or names, seg)
        ticks = tuple((float(k * seg), str(k * seg)) for k in range(len(names)))
    else:
        ticks = ((0.0, "0"), (K / 2, str(K // 2)))
    pay = {"segment": seg, "names": names}
    hit = F.HitRegion("vector", ext, (1, K), data, activation, "", pay)
    bar = F.ColorBar(DIVERGING, levels, activation, ticks=levels)
    return F.Plot(
        key,
        (0.0, float(K)),
        (0.0, 1.0),
        (width, 24.0),
        tuple(layers),
        title=title,
        aspect=False,
        xticks=ticks,
        colorbar=bar,
        hits=(hit,),
    )


# ---- the two figures -------------------------------------------------------------------
def _figure_merge(trace, sel: Selection) -> F.Figure:
    s, token = sel.stage, selected_token(trace, sel)
    c, c4, c2 = merge_dims(trace.config, s)
    rows, names, short, pads = neighbour_rows(trace, s, token)
    merged = np.asarray(trace.stages[s].merge_out[token], np.float32)  # 2C
    notes = merge_notes(trace, s)
    channels, resolution = merge_parts(trace, s)
    boxes = [
        (tr("Merging", "stage {s}", s=s - 1), tr("Merging", "{c} ch", c=c)),
        *merge_steps(trace.config, s),
        (tr("Merging", "stage {s}", s=s), tr("Merging", "{c} ch", c=c2)),
    ]
    labels = _neighbour_labels(trace, s, token)
    P = trace.token_pixels(s)
    at = f"({token[0]}, {token[1]})"
    plots = (
        _crop_plot(
            trace,
            s,
            token,
            trace.stages[s].merge_out,
            P / 2,
            labels,
            tr("Merging", "token {at}", at=at),
        ),
        _diagram(boxes, f"v{trace.config.version}: {channels} · {notes[1]}"),
        _vector_plot(
            "concat",
            rows.reshape(-1),
            tuple(names),
            VECTOR_PT,
            tr("Merging", "4 neighbours concatenated: 4 × {c} = {c4}", c=c, c4=c4),
            tuple(short),
        ),
        _vector_plot(
            "merged",
            merged,
            (tr("Merging", "merged {at}", at=at),),
            VECTOR_PT * c2 / c4,
            tr("Merging", "merged token: {c} ch", c=c2),
        ),
    )
    notes += crop_notes(s, pads, rows, merged)
    title = tr(
        "Merging",
        "Patch merging into stage {s} · {c} → {c4} → {c2} · {resolution}",
        s=s,
        c=c,
        c4=c4,
        c2=c2,
        resolution=resolution,
    )
    return F.Figure(title, plots, tuple(notes), merged, "merging")


def _figure_embed(trace, sel: Selection) -> F.Figure:
    cfg, token = trace.config, selected_token(trace, sel.with_(stage=0))
    p, C, k = cfg.patch_size, cfg.embed_dim, cfg.patch_size**2 * cfg.in_chans
    H0, W0 = trace.stages[0].resolution
    H, W = trace.image.shape[:2]
    vec = np.asarray(trace.embed[token], np.float32)  # C
    res = tr("Merging", "{H}×{W} px → {H0}×{W0} tokens (H×W)", H=H, W=W, H0=H0, W0=W0)
    notes = [
        tr(
            "Merging",
            "patch embedding: {p}×{p} pixels → 1 token with {C} channels",
            p=p,
            C=C,
        ),
        res,
    ]
    if H % p or W % p:
        notes.append(
            tr(
                "Merging",
                "image zero-padded right/bottom to {H}×{W} (a multiple of {p})",
                H=H0 * p,
                W=W0 * p,
                p=p,
            )
        )
    ch = tr("Merging", "{c} ch", c=C)
    boxes = [
        (tr("Merging", "{p}×{p} px × 3", p=p), tr("Merging", "{k} values", k=k)),
        (f"Conv k=s={p}", f"{k} → {C}"),
        ("LayerNorm", f"({C})"),
        (tr("Merging", "stage 0 token"), ch),
    ]
    fine = 1.0 if p <= 8 else 0.0  # the pixel grid while pixels are big enough to see
    at = f"({token[0]}, {token[1]})"
    plots = (
        _crop_plot(trace, 0, token, trace.embed, fine, [], tr("Merging", "patch {at}", at=at)),
        _diagram(boxes, tr("Merging", "{k} → {C} channels · {res}", k=k, C=C, res=res)),
        _vector_plot(
            "merged",
            vec,
            (tr("Merging", "embedded {at}", at=at),),
            VECTOR_PT,
            tr("Merging", "embedded token: {c} ch", c=C),
        ),
    )
    notes.append(tr("Merging", "crop: thin lines = pixels, thick = stage 0 tokens (patches)"))
    title = tr("Merging", "Patch embed · {k} → {C} · {res}", k=k, C=C, res=res)
    return F.Figure(title, plots, tuple(notes), vec, "merging")


def figure_merging(trace, sel: Selection) -> F.Figure:
    """Patch merging into `sel.stage` around `sel.token` (patch embed for stage 0).
    `data` is the merged (or embedded) token vector. On the navigator's own step
    (`sel.step` "merge" or "embed") the operations are framed."""
    embed = sel.stage == 0 or trace.stages[sel.stage].merge_in is None
    fig = _figure_embed(trace, sel) if embed else _figure_merge(trace, sel)
    if sel.step != ("embed" if embed else "merge"):
        return fig
    plots = tuple(replace(p, frame="selected") if p.key == "diagram" else p for p in fig.plots)
    return replace(fig, plots=plots, notes=(*fig.notes, tr("Merging", "navigator: this step")))
