"""The cyclic-shift view: the padded token grid of the current stage BEFORE and AFTER
`roll(-s, -s)`, side by side, coloured by the 9 shift regions (numbered), with the
windows drawn on the rolled grid and the windows that mix regions starred — those are the
windows that need the attention mask. Plus the shift ablation: how much the block output
changes when the shift is switched off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..model.geometry import shift_regions
from ..trace import BlockTrace, Trace
from .cache import TraceCache
from .chart import colorbar
from .colormap import apply_colormap
from .draw import (
    FOREGROUND,
    canvas,
    draw_hlines,
    draw_rect,
    draw_vlines,
    hatch,
    paste,
    upscale,
    vstack,
)
from .grid import (
    REGION_COLORS,
    SELECTED,
    WINDOW_LINE,
    draw_cross,
    mode_label,
    no_shift_reason,
    original_regions,
    region_boxes,
    selected_window,
    window_pieces,
)
from .selection import Picture, Selection, view_shift
from .text import Label, draw_labels

MARGIN, GAP, BANNER, CAPTION, LEGEND = 8, 28, 24, 20, 44
MIXED: tuple[int, int, int] = (0, 0, 0)
REGION_MIX = 150  # of 256: how strongly region colours cover the token colours


@dataclass(frozen=True)
class ShiftLayout:
    """Where the two token grids lie in the shift picture (picture pixels)."""

    cell: int  # pixels per token
    before: tuple[int, int]  # (x, y) of the BEFORE grid's top-left corner
    after: tuple[int, int]  # (x, y) of the AFTER grid's top-left corner
    padded: tuple[int, int]  # Hp, Wp
    shift: int
    size: tuple[int, int]  # height, width of the shift part of the picture

    def token_at(self, x: float, y: float) -> tuple[int, int] | None:
        """ORIGINAL (row, col) of the token under a pixel of either grid, or None."""
        Hp, Wp = self.padded
        for (ox, oy), rolled in ((self.before, False), (self.after, True)):
            r, c = int((y - oy) // self.cell), int((x - ox) // self.cell)
            if x >= ox and y >= oy and r < Hp and c < Wp:
                s = self.shift if rolled else 0
                return (r + s) % Hp, (c + s) % Wp
        return None

    def token_rects(self, r: int, c: int) -> list[tuple[int, int, int, int]]:
        """(x, y, w, h) of an original token in the BEFORE grid and at its rolled place."""
        Hp, Wp = self.padded
        k, s = self.cell, self.shift
        (bx, by), (ax, ay) = self.before, self.after
        return [
            (bx + c * k, by + r * k, k, k),
            (ax + (c - s) % Wp * k, ay + (r - s) % Hp * k, k, k),
        ]


def shift_layout(trace: Trace, sel: Selection) -> ShiftLayout:
    block = trace.block(sel.stage, sel.block)
    Hp, Wp = block.padded
    cell = int(np.clip(round(360 / max(Hp, Wp)), 3, 40))
    y = MARGIN + BANNER + CAPTION
    after_x = MARGIN + Wp * cell + GAP
    width = max(after_x + Wp * cell + MARGIN, 560)
    height = y + Hp * cell + 8 + LEGEND
    return ShiftLayout(
        cell, (MARGIN, y), (after_x, y), (Hp, Wp), view_shift(block, sel), (height, width)
    )


def mixed_windows(block: BlockTrace, shift: int) -> np.ndarray:
    """(nW,) bool: windows of the rolled grid whose tokens come from more than one region."""
    Hp, Wp = block.padded
    M = block.window
    labels = shift_regions(Hp, Wp, M, shift).numpy()  # Hp, Wp
    win = labels.reshape(Hp // M, M, Wp // M, M).transpose(0, 2, 1, 3).reshape(-1, M * M)
    return (win != win[:, :1]).any(axis=1)


_CACHE = TraceCache(traces=2, entries=32)  # token colours and selection-free bases


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


def _grid_rgb(colours: np.ndarray, labels: np.ndarray, pad: np.ndarray, cell: int, tinted: bool):
    """One token grid: token colours under region colours, padding hatched, upscaled."""
    rgb = colours.astype(np.uint16)
    if tinted:
        tint = np.asarray(REGION_COLORS, np.uint16)[labels]  # Hp, Wp, 3
        rgb = (rgb * (256 - REGION_MIX) + tint * REGION_MIX) >> 8
    rgb = upscale(rgb.astype(np.uint8), cell)
    hatch(rgb, upscale(pad, cell), period=max(4, cell // 2 * 2))
    if cell >= 10:
        rgb[::cell] = (rgb[::cell] * 0.75).astype(np.uint8)
        rgb[:, ::cell] = (rgb[:, ::cell] * 0.75).astype(np.uint8)
    return rgb


def _region_numbers(labels: np.ndarray, origin: tuple[int, int], cell: int) -> list[Label]:
    ox, oy = origin
    out: list[Label] = []
    for k, (r0, c0, r1, c1) in region_boxes(labels).items():
        x, y = ox + (c0 + c1) * cell // 2 - 3, oy + (r0 + r1) * cell // 2 - 6
        out.append(((x, y), str(k), (255, 255, 255), 11, (20, 20, 20)))
    return out


def _window_lines(rgb: np.ndarray, origin, padded, M: int, offset: int, width: int, cell: int):
    ox, oy = origin
    Hp, Wp = padded
    area = rgb[oy : oy + Hp * cell, ox : ox + Wp * cell]
    rows = sorted({0, Hp * cell, *((k * M + offset) % Hp * cell for k in range(Hp // M))})
    cols = sorted({0, Wp * cell, *((k * M + offset) % Wp * cell for k in range(Wp // M))})
    draw_hlines(area, rows, WINDOW_LINE, width)
    draw_vlines(area, cols, WINDOW_LINE, width)


def _mark_mixed(rgb: np.ndarray, lay: ShiftLayout, block: BlockTrace, mixed: np.ndarray):
    """Thick dark outline + '*' on every rolled window that mixes regions."""
    M, k = block.window, lay.cell
    nWw = block.window_grid[1]
    ax, ay = lay.after
    labels: list[Label] = []
    for w in np.flatnonzero(mixed):
        wr, wc = divmod(int(w), nWw)
        x, y = ax + wc * M * k, ay + wr * M * k
        draw_rect(rgb, x + 2, y + 2, M * k - 3, M * k - 3, MIXED, width=2)
        labels.append(((x + 4, y + 2), "*", (255, 255, 255), 14, MIXED))
    return labels


def _mark_selection(rgb: np.ndarray, lay: ShiftLayout, block: BlockTrace, sel: Selection):
    """The selected window (rolled, and its pieces in the original grid) and token."""
    s, k, M = lay.shift, lay.cell, block.window
    w = selected_window(block, sel, s)
    (bx, by), (ax, ay) = lay.before, lay.after
    for r0, c0, r1, c1 in window_pieces(block, w, s):
        draw_rect(rgb, bx + c0 * k, by + r0 * k, (c1 - c0) * k, (r1 - r0) * k, SELECTED, 3)
    wr, wc = divmod(w, block.window_grid[1])
    draw_rect(rgb, ax + wc * M * k, ay + wr * M * k, M * k, M * k, SELECTED, 3)
    if sel.token is not None:
        for x, y, _, _ in lay.token_rects(*sel.token):
            draw_cross(rgb, x + k // 2, y + k // 2, max(4, k // 2))


def _legend(lay: ShiftLayout, y: int, shifted: bool) -> tuple[list[Label], list]:
    """Legend labels and swatches: the 9 region colours, padding, mixed windows."""
    labels: list[Label] = []
    swatches = []
    x = MARGIN
    if shifted:
        labels.append(((x, y), "regions:", FOREGROUND, 12, None))
        x += 58
        for k, col in enumerate(REGION_COLORS):
            swatches.append((x, y, col))
            labels.append(((x + 4, y), str(k), (255, 255, 255), 11, None))
            x += 22
        labels.append(((x + 6, y), "* = window mixes regions (masked)", FOREGROUND, 12, None))
    labels.append(((MARGIN + 22, y + 20), "= padding token (zeros, cropped after attention)",
                   FOREGROUND, 12, None))  # fmt: skip
    swatches.append((MARGIN, y + 20, None))
    return labels, swatches


def _shift_base(trace: Trace, sel: Selection, lay: ShiftLayout) -> tuple[np.ndarray, np.ndarray]:
    """(picture without the selection marks, mixed-window flags), cached per trace/block."""
    return _CACHE.get(
        trace, ("base", sel.stage, sel.block, lay.shift), lambda: _make_base(trace, sel, lay)
    )


def _make_base(trace: Trace, sel: Selection, lay: ShiftLayout) -> tuple[np.ndarray, np.ndarray]:
    block = trace.block(sel.stage, sel.block)
    s, k, M = lay.shift, lay.cell, block.window
    Hp, Wp = block.padded
    H, W = block.resolution
    colours = token_colours(trace, sel.stage)
    before_lab, after_lab = original_regions(block, s), shift_regions(Hp, Wp, M, s).numpy()
    pad = np.ones((Hp, Wp), bool)
    pad[:H, :W] = False
    rgb = canvas(*lay.size)
    for (ox, oy), lab, roll in ((lay.before, before_lab, 0), (lay.after, after_lab, s)):
        cols, p = np.roll(colours, (-roll, -roll), (0, 1)), np.roll(pad, (-roll, -roll), (0, 1))
        rgb[oy : oy + Hp * k, ox : ox + Wp * k] = _grid_rgb(cols, lab, p, k, s > 0)
    _window_lines(rgb, lay.before, (Hp, Wp), M, s, 1, k)
    _window_lines(rgb, lay.after, (Hp, Wp), M, 0, 2, k)
    mixed = mixed_windows(block, s)
    labels = _mark_mixed(rgb, lay, block, mixed) + _texts(trace, block, lay, mixed)
    legend_labels, swatches = _legend(lay, lay.before[1] + Hp * k + 8, s > 0)
    for x, y, col in swatches:
        _swatch(rgb, x, y, col)
    draw_labels(rgb, labels + legend_labels)
    return rgb, mixed


def render_shift(trace: Trace, sel: Selection) -> Picture:
    """The token grid before and after the cyclic shift, regions coloured and numbered."""
    block = trace.block(sel.stage, sel.block)
    lay = shift_layout(trace, sel)
    base, mixed = _shift_base(trace, sel, lay)
    rgb = base.copy()
    _mark_selection(rgb, lay, block, sel)
    Hp, Wp = block.padded
    return Picture(
        rgb=rgb,
        data=shift_regions(Hp, Wp, block.window, lay.shift).numpy().astype(np.int64),
        title=f"Cyclic shift · stage {block.stage} · block {block.index} · "
        f"{mode_label(trace, block, lay.shift)} · M={block.window} · s={lay.shift}",
        units="shift region (0-8)",
        scale=float(lay.cell),
        notes=_notes(trace, block, lay.shift, mixed),
    )


def _swatch(rgb: np.ndarray, x: int, y: int, color) -> None:
    rgb[y : y + 16, x : x + 18] = color if color is not None else (90, 90, 96)
    if color is None:
        hatch(rgb[y : y + 16, x : x + 18], np.ones((16, 18), bool), period=6)


def _texts(trace: Trace, block: BlockTrace, lay: ShiftLayout, mixed: np.ndarray) -> list[Label]:
    """Banner (what the shift is, or why there is none), grid captions, region numbers."""
    s = lay.shift
    reason = no_shift_reason(trace, block, s)
    y0 = MARGIN + BANNER
    if reason is None:
        banner = f"cyclic shift: roll(−{s}, −{s}) moves the top-left {s} rows/cols to the end"
        color = FOREGROUND
    else:
        banner, color = reason.upper() + " — nothing is rolled, no mask", (255, 214, 0)
    out: list[Label] = [((MARGIN, MARGIN), banner, color, 14, None)]
    out.append(((lay.before[0], y0), "BEFORE: original token positions", FOREGROUND, 12, None))
    after = f"AFTER roll(−{s}, −{s}): windows of M={block.window}" if s else "AFTER: same grid"
    out.append(((lay.after[0], y0), after, FOREGROUND, 12, None))
    if s > 0:
        Hp, Wp = block.padded
        out += _region_numbers(original_regions(block, s), lay.before, lay.cell)
        out += _region_numbers(shift_regions(Hp, Wp, block.window, s).numpy(), lay.after, lay.cell)
    return out


def _notes(trace: Trace, block: BlockTrace, s: int, mixed: np.ndarray) -> tuple[str, ...]:
    Hp, Wp = block.padded
    n, nW = int(mixed.sum()), mixed.size
    notes = [f"padded token grid {Hp}×{Wp}; {nW} windows of {block.window}×{block.window}"]
    if s > 0:
        notes.append(f"{n} of {nW} windows mix regions → need the mask")
        notes.append("tokens of different regions share a window only through the wrap-around")
    else:
        notes.append(no_shift_reason(trace, block, s) or "")
    return tuple(notes)


# ---- ablation ------------------------------------------------------------------------------
def ablation_applies(trace: Trace, sel: Selection) -> bool:
    """True on a real SW-MSA block viewed with the shift toggled off."""
    block = trace.block(sel.stage, sel.block)
    return block.shift > 0 and view_shift(block, sel) == 0


def render_ablation(trace: Trace, sel: Selection, ablation: np.ndarray) -> Picture:
    """Heatmap of ||out_noshift - out|| per token for the current block, with a colour bar."""
    block = trace.block(sel.stage, sel.block)
    delta = np.linalg.norm(ablation - block.out, axis=-1)  # H, W
    rel = float(np.linalg.norm(ablation - block.out) / max(np.linalg.norm(block.out), 1e-12))
    hi = float(delta.max()) or 1.0
    cell = int(np.clip(round(360 / max(block.padded)), 3, 40))
    heat = upscale(apply_colormap(delta, sel.colormap, levels=(0.0, hi)), cell)
    h, w = heat.shape[:2]
    bar = colorbar(sel.colormap, (0.0, hi), "‖Δout‖₂ per token", height=h)
    rgb = canvas(h + 2 * MARGIN + 2 * CAPTION, w + 150)
    top = MARGIN + 2 * CAPTION
    rgb[top : top + h, MARGIN : MARGIN + w] = heat
    paste(rgb, bar, MARGIN + w + 10, top - (bar.shape[0] - h - 9))  # ramp level with the map
    labels: list[Label] = [
        ((MARGIN, MARGIN), f"Shift ablation: block output with s=0 instead of s={block.shift}",
         FOREGROUND, 13, None),
        ((MARGIN, MARGIN + CAPTION), f"relative change ‖Δout‖ / ‖out‖ = {100 * rel:.1f} %",
         (255, 214, 0), 12, None),
    ]  # fmt: skip
    return Picture(
        rgb=draw_labels(rgb, labels),
        data=delta.astype(np.float32),
        title=f"Shift ablation · stage {block.stage} · block {block.index}",
        units="‖out(no shift) − out‖₂ per token",
        levels=(0.0, hi),
        colormap=sel.colormap,
        scale=float(cell),
        notes=(f"relative change {100 * rel:.1f} % of the block output norm",),
    )


def _pending_strip(width: int) -> np.ndarray:
    strip = canvas(40, width)
    text = "computing ablation… (block re-run with the shift off)"
    return draw_labels(strip, [((MARGIN, 12), text, (255, 214, 0), 13, None)])


def render_shift_view(trace: Trace, sel: Selection, ablation: np.ndarray | None) -> Picture:
    """What the shift panel shows: `render_shift`, plus the ablation below it when the
    shift of an SW-MSA block is toggled off ("computing ablation…" until it arrives)."""
    pic = render_shift(trace, sel)
    if not ablation_applies(trace, sel):
        return pic
    block = trace.block(sel.stage, sel.block)
    if ablation is None or ablation.shape != block.out.shape:
        return replace(pic, rgb=vstack([pic.rgb, _pending_strip(pic.rgb.shape[1])]))
    abl = render_ablation(trace, sel, ablation)
    return replace(pic, rgb=vstack([pic.rgb, abl.rgb]), notes=pic.notes + abl.notes)
