"""Patch merging (and, for stage 0, patch embedding) around the selected token.

Merging into stage s (s >= 1) takes each 2×2 neighbourhood of stage s-1 in the order
x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2] — neighbours 0..3 of token (r, c)
are (2r,2c), (2r+1,2c), (2r,2c+1), (2r+1,2c+1) — concatenates them to 4C channels and
reduces to 2C: v1 LayerNorm(4C) then Linear(4C→2C); v2 Linear(4C→2C) then LayerNorm(2C).
Odd grids are zero-padded right/bottom first. Stage 0 shows the patch embedding instead:
patch×patch pixels → one C-channel token (conv k = s = patch, then LayerNorm).

The picture: the image crop around the token with both grids and the neighbours
numbered; the (4, C) neighbour vectors and the merged 2C vector as colour rows; and the
channel/resolution diagram with the model's actual numbers.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from .chart import ACCENT, MUTED, arrow, box
from .colormap import apply_colormap, symmetric_levels
from .draw import BACKGROUND, FOREGROUND, draw_rect, hatch, hstack, upscale, vstack
from .selection import Picture, Selection
from .text import measure, put_text

NEIGHBOUR_OFFSETS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (0, 1), (1, 1))  # (dr, dc)
CROP_PX = 288  # side of the zoomed crop
CONTEXT = 1  # stage-s tokens shown on each side of the selected one
DIVERGING = "coolwarm"  # signed vectors: zero in the middle of the map


def merge_neighbours(row: int, col: int) -> list[tuple[int, int]]:
    """Stage s-1 tokens that merge into stage-s token (row, col), in concat order 0..3."""
    return [(2 * row + dr, 2 * col + dc) for dr, dc in NEIGHBOUR_OFFSETS]


def merge_dims(config, stage: int) -> tuple[int, int, int]:
    """(C_in, 4·C_in, C_out) of the merging into `stage` (>= 1)."""
    c = config.stage_dim(stage - 1)
    return c, 4 * c, config.stage_dim(stage)


def merge_steps(config, stage: int) -> list[str]:
    """The operations of the merging into `stage`, in this model's order."""
    _, c4, c2 = merge_dims(config, stage)
    concat = f"concat 2×2 → {c4}"
    if config.version == 1:
        return [concat, f"LayerNorm({c4})", f"Linear {c4}→{c2}"]
    return [concat, f"Linear {c4}→{c2}", f"LayerNorm({c2})"]


def _token(trace, sel: Selection) -> tuple[int, int]:
    H, W = trace.stages[sel.stage].resolution
    if sel.token is None:
        return H // 2, W // 2
    return min(H - 1, sel.token[0]), min(W - 1, sel.token[1])


def _crop(trace, stage: int, token: tuple[int, int]) -> tuple[np.ndarray, int, int, int]:
    """Image crop of (2·CONTEXT+1)² stage-s tokens around `token`, upscaled; pixels
    outside the image are hatched as padding. Returns (rgb, zoom, x0, y0) with (x0, y0)
    the crop's top-left in image pixels."""
    P = trace.token_pixels(stage)
    n = 2 * CONTEXT + 1
    y0, x0 = (token[0] - CONTEXT) * P, (token[1] - CONTEXT) * P
    H, W = trace.image.shape[:2]
    crop = np.zeros((n * P, n * P, 3), np.uint8)
    outside = np.ones((n * P, n * P), bool)
    ys, xs = slice(max(0, y0), min(H, y0 + n * P)), slice(max(0, x0), min(W, x0 + n * P))
    dy, dx = ys.start - y0, xs.start - x0
    part = trace.image[ys, xs]
    crop[dy : dy + part.shape[0], dx : dx + part.shape[1]] = part
    outside[dy : dy + part.shape[0], dx : dx + part.shape[1]] = False
    zoom = max(1, CROP_PX // (n * P))
    rgb = upscale(crop, zoom)
    hatch(rgb, upscale(outside[..., None], zoom)[..., 0], period=8)
    return rgb, zoom, x0, y0


def _grid(rgb: np.ndarray, step: float, color, width: int) -> None:
    for k in range(int(rgb.shape[0] / step) + 1):
        rgb[max(0, int(k * step) - width // 2) : int(k * step) + (width + 1) // 2] = color
        rgb[:, max(0, int(k * step) - width // 2) : int(k * step) + (width + 1) // 2] = color


def _merge_crop(trace, stage: int, token: tuple[int, int]) -> np.ndarray:
    """Crop with the stage s-1 grid (thin), stage s grid (thick) and neighbours 0..3."""
    rgb, zoom, _, _ = _crop(trace, stage, token)
    P = trace.token_pixels(stage) * zoom  # picture pixels per stage-s token
    _grid(rgb, P / 2, (200, 200, 200), 1)
    _grid(rgb, P, (20, 20, 20), 3)
    x, y = CONTEXT * P, CONTEXT * P
    H_prev, W_prev = trace.stages[stage - 1].resolution
    img = Image.fromarray(rgb)
    d = ImageDraw.Draw(img)
    for k, (dr, dc) in enumerate(NEIGHBOUR_OFFSETS):
        r, c = 2 * token[0] + dr, 2 * token[1] + dc
        cx, cy = x + dc * P / 2 + P / 4, y + dr * P / 2 + P / 4
        pad = r >= H_prev or c >= W_prev
        label = f"{k} pad" if pad else str(k)
        half = measure(label, 13)[0] / 2 + 5
        d.rectangle([cx - half, cy - 9, cx + half, cy + 9], fill=(0, 0, 0))
        put_text(d, (cx, cy), label, (255, 120, 120) if pad else ACCENT, 13, anchor="mm")
    out = np.asarray(img).copy()
    draw_rect(out, int(x), int(y), int(P), int(P), ACCENT, 3)
    return _captioned(out, f"image · thin: stage {stage - 1} tokens · thick: stage {stage}")


def _embed_crop(trace, token: tuple[int, int]) -> np.ndarray:
    """Crop with the pixel grid (thin) and the patch grid (thick) around the token."""
    rgb, zoom, _, _ = _crop(trace, 0, token)
    P = trace.token_pixels(0) * zoom
    if zoom >= 6:
        _grid(rgb, zoom, (90, 90, 90), 1)
    _grid(rgb, P, (20, 20, 20), 3)
    draw_rect(rgb, CONTEXT * P, CONTEXT * P, P, P, ACCENT, 3)
    return _captioned(rgb, "image · thin: pixels · thick: stage 0 tokens (patches)")


def _captioned(rgb: np.ndarray, caption: str) -> np.ndarray:
    """`rgb` with a one-line caption under it; hatching marks padding."""
    strip = Image.new("RGB", (rgb.shape[1], 18), BACKGROUND)
    put_text(ImageDraw.Draw(strip), (2, 3), caption, MUTED, 11)
    return vstack([rgb, np.asarray(strip)], gap=2)


def _vector_rows(rows: np.ndarray, labels: list[str], cmap: str, title: str) -> np.ndarray:
    """(k, C) vectors as k colour rows (symmetric levels), labelled on the left."""
    C = rows.shape[1]
    sx = max(1, 384 // C)
    levels = symmetric_levels(rows)
    cells = upscale(apply_colormap(rows, cmap, levels), 1)  # k, C, 3
    cells = np.repeat(np.repeat(cells, 14, axis=0), sx, axis=1)
    left = max(measure(lab, 11)[0] for lab in labels) + 10
    img = Image.new("RGB", (cells.shape[1] + left, cells.shape[0] + 22), BACKGROUND)
    img.paste(Image.fromarray(cells), (left, 18))
    d = ImageDraw.Draw(img)
    put_text(d, (0, 2), f"{title} (±{levels[1]:.3g})", FOREGROUND, 11)
    for i, lab in enumerate(labels):
        put_text(d, (2, 18 + 14 * i + 1), lab, MUTED, 11)
    return np.asarray(img).copy()


@lru_cache(maxsize=64)
def _diagram(
    boxes: tuple[tuple[str, ...], ...], captions: tuple[str, ...], width: int = 600
) -> np.ndarray:
    """A row of boxes joined by arrows, with caption lines under it (cached: it depends
    only on the model's numbers, not on the token)."""
    img = Image.new("RGB", (width, 68 + 18 * len(captions)), BACKGROUND)
    d = ImageDraw.Draw(img)
    bw, gap = (width - 8) // len(boxes) - 24, 24
    for i, lines in enumerate(boxes):
        x0 = 4 + i * (bw + gap)
        box(d, (x0, 6, x0 + bw, 58), lines, ACCENT if i == len(boxes) - 1 else FOREGROUND, size=12)
        if i:
            arrow(d, (x0 - gap + 2, 32), (x0 - 2, 32))
    for i, caption in enumerate(captions):
        put_text(d, (4, 68 + 18 * i), caption, FOREGROUND if i == 0 else (255, 120, 120), 12)
    return np.asarray(img).copy()


def _picture(parts: list[np.ndarray], vector: np.ndarray, title: str, notes: list[str]) -> Picture:
    """Crop on the left, diagram and vector rows stacked on the right; `data` = the
    embedded or merged token vector."""
    return Picture(
        rgb=hstack([parts[0], vstack(parts[1:], gap=10)], gap=14),
        data=np.ascontiguousarray(vector, dtype=np.float32),
        title=title,
        units="activation",
        notes=tuple(notes),
    )


def _render_embed(trace, sel: Selection) -> Picture:
    cfg, token = trace.config, _token(trace, sel)
    p, C, k = cfg.patch_size, cfg.embed_dim, cfg.patch_size**2 * cfg.in_chans
    H0, W0 = trace.stages[0].resolution
    H, W = trace.image.shape[:2]
    vec = trace.embed[token]  # C
    res = f"{H}×{W} px → {H0}×{W0} tokens (H×W)"
    notes = [f"patch embedding: {p}×{p} pixels → 1 token with {C} channels", res]
    if H % p or W % p:
        notes.append(f"image zero-padded right/bottom to {H0 * p}×{W0 * p} (a multiple of {p})")
    boxes = (
        (f"{p}×{p} px × 3", f"{k} values"),
        (f"Conv k=s={p}", f"{k} → {C}"),
        (f"LayerNorm({C})",),
        ("stage 0 token", f"{C} ch"),
    )
    parts = [
        _embed_crop(trace, token),
        _diagram(boxes, (f"{k} → {C} ch · {res}", *notes[2:])),
        _vector_rows(vec[None], ["token"], DIVERGING, f"embedded token {token}, {C} ch"),
    ]
    return _picture(parts, vec, f"Patch embed · {k} → {C} · {res}", notes)


def _neighbour_rows(trace, stage: int, token: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
    """(4, C) stage s-1 vectors entering the merge (zeros for padding) and their labels."""
    x = trace.stages[stage].merge_in  # H_{s-1}, W_{s-1}, C
    H, W = x.shape[:2]
    rows, labels = np.zeros((4, x.shape[2]), np.float32), []
    for k, (r, c) in enumerate(merge_neighbours(*token)):
        if r < H and c < W:
            rows[k] = x[r, c]
            labels.append(f"{k} ({r},{c})")
        else:
            labels.append(f"{k} pad")
    return rows, labels


def merge_notes(trace, stage: int) -> list[str]:
    """Resolution change, channel change and padding, as one-line notes."""
    c, c4, c2 = merge_dims(trace.config, stage)
    (Hi, Wi), (Ho, Wo) = trace.stages[stage - 1].resolution, trace.stages[stage].resolution
    order = "LayerNorm then Linear" if trace.config.version == 1 else "Linear then LayerNorm"
    notes = [
        f"{c} → {c4} → {c2} channels (v{trace.config.version}: {order})",
        f"{Hi}×{Wi} → {Ho}×{Wo} tokens (H×W)",
        "neighbour order 0..3 = x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2]",
    ]
    if Hi % 2 or Wi % 2:
        notes.append(
            f"stage {stage - 1} grid {Hi}×{Wi} is odd: zero-padded to "
            f"{Hi + Hi % 2}×{Wi + Wi % 2} before merging"
        )
    return notes


def _render_merge(trace, sel: Selection) -> Picture:
    s, token = sel.stage, _token(trace, sel)
    c, c4, c2 = merge_dims(trace.config, s)
    rows, labels = _neighbour_rows(trace, s, token)
    merged = trace.stages[s].merge_out[token]  # 2C
    norms = np.linalg.norm(rows, axis=1)
    labels = [f"{lab}  norm {n:.2f}" for lab, n in zip(labels, norms, strict=True)]
    notes = merge_notes(trace, s)
    boxes = (
        (f"stage {s - 1}", f"{c} ch"),
        *((step,) for step in merge_steps(trace.config, s)),
        (f"stage {s}", f"{c2} ch"),
    )
    parts = [
        _merge_crop(trace, s, token),
        _diagram(boxes, (f"{notes[0]} · {notes[1]}", *notes[3:]), width=720),
        _vector_rows(rows, labels, DIVERGING, f"4 neighbours of token {token} (4 × {c} = {c4})"),
        _vector_rows(merged[None], ["merged"], DIVERGING, f"merged token {token}, {c2} ch"),
    ]
    title = f"Patch merging into stage {s} · {c} → {c4} → {c2} · {notes[1]}"
    notes.append("norm = L2 norm of each neighbour vector (before merging)")
    return _picture(parts, merged, title, notes)


def crop_token_pixels(trace, stage: int) -> int:
    """Picture pixels per stage-`stage` token in the zoomed crop (it starts at (0, 0))."""
    P = trace.token_pixels(stage)
    return P * max(1, CROP_PX // ((2 * CONTEXT + 1) * P))


def merging_hit(trace, sel: Selection, x: float, y: float) -> tuple[int, int] | None:
    """The stage token under picture pixel (x, y) of the crop, or None (outside the crop
    or the token grid)."""
    p = crop_token_pixels(trace, sel.stage)
    n = 2 * CONTEXT + 1
    if not (0 <= x < n * p and 0 <= y < n * p):
        return None
    r0, c0 = _token(trace, sel)
    r, c = r0 + int(y // p) - CONTEXT, c0 + int(x // p) - CONTEXT
    H, W = trace.stages[sel.stage].resolution
    return (r, c) if 0 <= r < H and 0 <= c < W else None


def render_merging(trace, sel: Selection) -> Picture:
    """Patch merging into `sel.stage` around `sel.token` (patch embed for stage 0).
    `data` is the merged (or embedded) token vector."""
    if sel.stage == 0 or trace.stages[sel.stage].merge_in is None:
        return _render_embed(trace, sel)
    return _render_merge(trace, sel)
