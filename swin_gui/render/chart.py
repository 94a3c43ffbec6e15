"""Small Pillow drawing helpers for the diagram-like views (block internals, patch merging,
predictions, pyramid labels): boxes and arrows, the two colour bars (a horizontal strip
with its range and units, a vertical bar with ticks), and a line/bar chart with axes and a
legend. Text goes through `text.py` (one font, glyph-safe). Qt-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .colormap import apply_colormap, colormap_lut
from .draw import BACKGROUND, FOREGROUND, Color, canvas, draw_rect, paste
from .text import measure, put_text, text_strip

MUTED: Color = (154, 160, 166)
ACCENT: Color = (255, 235, 59)  # the current stage / block, as on the canvas highlight
WARNING: Color = (229, 57, 53)
COLORBAR_WIDTH = 14  # of the vertical colour bar


def box(
    d: ImageDraw.ImageDraw,
    xy: tuple[int, int, int, int],
    lines: Sequence[str],
    outline: Color = FOREGROUND,
    fill: Color | None = None,
    size: int = 12,
    color: Color = FOREGROUND,
) -> None:
    """A rectangle (x0, y0, x1, y1) with centred lines of text."""
    d.rectangle(xy, outline=outline, fill=fill, width=2)
    cx, cy = (xy[0] + xy[2]) / 2, (xy[1] + xy[3]) / 2
    step = size + 4
    y = cy - step * (len(lines) - 1) / 2
    for line in lines:
        put_text(d, (cx, y), line, color, size, anchor="mm")
        y += step


def arrow(
    d: ImageDraw.ImageDraw, p0: tuple[float, float], p1: tuple[float, float], fill: Color = MUTED
) -> None:
    """A straight arrow from p0 to p1 with a small head at p1."""
    d.line([p0, p1], fill=fill, width=2)
    v = np.subtract(p1, p0).astype(float)
    v /= max(float(np.hypot(*v)), 1e-6)
    n = np.array([-v[1], v[0]])
    tip = np.asarray(p1, float)
    head = [tuple(tip), tuple(tip - 8 * v + 4 * n), tuple(tip - 8 * v - 4 * n)]
    d.polygon(head, fill=fill)


def colorbar_strip(
    width: int,
    cmap: str,
    levels: tuple[float, float],
    units: str,
    height: int = 10,
    size: int = 11,
) -> np.ndarray:
    """(h, width, 3): a horizontal colour bar with 'lo' and 'hi' under its ends and the
    units in the middle."""
    ramp = np.linspace(levels[0], levels[1], max(width, 2))[None, :].repeat(height, 0)
    bar = apply_colormap(ramp, cmap, levels)  # height, width, 3
    img = Image.new("RGB", (width, height + size + 6), BACKGROUND)
    img.paste(Image.fromarray(bar), (0, 0))
    d = ImageDraw.Draw(img)
    y = height + 2
    put_text(d, (1, y), f"{levels[0]:.3g}", MUTED, size)
    put_text(d, (width - 1, y), f"{levels[1]:.3g}", MUTED, size, anchor="ra")
    put_text(d, (width / 2, y), units, FOREGROUND, size, anchor="ma")
    return np.asarray(img).copy()


def colorbar(cmap: str, levels: tuple[float, float], units: str, height: int = 180) -> np.ndarray:
    """A vertical colour bar (top = high) with its units above it and its top, middle and
    bottom values beside it."""
    ramp = colormap_lut(cmap)[::-1]  # 256, 3: top row is the high end
    rows = np.linspace(0, 255, height).round().astype(int)
    bar = np.repeat(ramp[rows][:, None, :], COLORBAR_WIDTH, axis=1)  # height, w, 3
    lo, hi = levels
    ticks = [(0, hi), (height // 2, (lo + hi) / 2), (height - 1, lo)]
    texts = [text_strip(f"{v:.3g}", 11) for _, v in ticks]
    unit = text_strip(units, 11, MUTED)
    width = max(COLORBAR_WIDTH + 8 + max(t.shape[1] for t in texts), unit.shape[1])
    out = canvas(height + unit.shape[0] + 16, width)
    paste(out, unit, 0, 0)
    top = unit.shape[0] + 7
    paste(out, bar, 1, top)
    draw_rect(out, 0, top - 1, COLORBAR_WIDTH + 2, height + 2, MUTED, 1)  # frame outside
    for (y, _), t in zip(ticks, texts, strict=True):
        paste(out, t, COLORBAR_WIDTH + 7, top + y - t.shape[0] // 2)
    return out


def mark_band(rgb: np.ndarray, cb: ChartBox, i: int, color: Color = (70, 66, 30)) -> np.ndarray:
    """A copy of a `draw_chart` picture with item i's column tinted (background pixels
    only, so lines and bars stay on top)."""
    out = rgb.copy()
    x0, x1 = round(cb.x(i) - cb.step / 2), round(cb.x(i) + cb.step / 2)
    band = out[cb.y0 : cb.y1, max(x0, cb.x0 + 1) : x1]
    bg = np.all(band == np.asarray(BACKGROUND, np.uint8), axis=2)
    band[bg] = color
    return out


@dataclass(frozen=True)
class Series:
    """One line ('line'), set of markers ('dots') or bar-group member ('bar') of a chart.
    `xs` are fractional item positions for lines/dots (default 0, 1, ..., n-1); a series
    with an empty label stays out of the legend."""

    label: str
    values: np.ndarray
    color: Color
    style: str = "line"
    xs: np.ndarray | None = None


@dataclass(frozen=True)
class ChartBox:
    """Where the plot area of a chart lies: x of item i is x0 + (i + 0.5) * step."""

    x0: int
    y0: int
    x1: int
    y1: int
    n: int

    @property
    def step(self) -> float:
        return (self.x1 - self.x0) / max(self.n, 1)

    def x(self, i: float) -> float:
        return self.x0 + (i + 0.5) * self.step

    def item_at(self, px: float, py: float) -> int | None:
        """The item index under a picture pixel, or None outside the plot area."""
        if not (self.x0 <= px < self.x1 and self.y0 <= py <= self.y1):
            return None
        return min(self.n - 1, int((px - self.x0) // self.step))


def nice_ticks(hi: float, count: int = 5) -> np.ndarray:
    """0 .. >= hi in round steps (1, 2, 2.5 or 5 x 10^k)."""
    hi = max(float(hi), 1e-6)
    raw = hi / count
    mag = 10 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return np.arange(0, hi + step * 0.999, step)


def chart_box(width: int, height: int, n: int, left: int = 48, legend_h: int = 20) -> ChartBox:
    """The plot area of a `draw_chart` picture of this size."""
    return ChartBox(left, 8 + legend_h, width - 10, height - 34, n)


def draw_chart(
    width: int,
    height: int,
    series: Sequence[Series],
    x_labels: Sequence[str],
    y_label: str,
    boundaries: Sequence[tuple[int, str]] = (),
    current: int | None = None,
) -> tuple[np.ndarray, ChartBox]:
    """Lines and grouped bars over items 0..n-1 with a y axis from 0, x tick labels,
    dashed vertical boundaries (index, caption), a highlighted `current` item and a legend.
    Returns (rgb, the plot-area box)."""
    n = len(x_labels)
    cb = chart_box(width, height, n)
    img = Image.new("RGB", (width, height), BACKGROUND)
    d = ImageDraw.Draw(img)
    ticks = nice_ticks(1.15 * max(float(np.max(s.values)) for s in series))  # caption room
    top = float(ticks[-1])

    def y(v: float) -> float:
        return cb.y1 - (cb.y1 - cb.y0) * (v / top)

    if current is not None:
        d.rectangle(
            [cb.x(current) - cb.step / 2, cb.y0, cb.x(current) + cb.step / 2, cb.y1],
            fill=(70, 66, 30),
        )
    _axes(d, cb, ticks, y, x_labels, y_label)
    for i, _ in boundaries:
        x = cb.x0 + i * cb.step
        for yy in range(cb.y0, cb.y1, 6):
            d.line([(x, yy), (x, min(yy + 3, cb.y1))], fill=MUTED)
    _series(d, cb, series, y)
    for i, caption in boundaries:  # captions last, on a backing box, so lines never hide them
        x = cb.x0 + i * cb.step + 3
        w, h = measure(caption, 11)
        d.rectangle([x - 1, cb.y0 + 1, x + w + 2, cb.y0 + h + 6], fill=BACKGROUND)
        put_text(d, (x, cb.y0 + 2), caption, MUTED, 11)
    _legend(d, series, cb.x0, 4)
    return np.asarray(img).copy(), cb


def _axes(d, cb: ChartBox, ticks, y, x_labels, y_label: str) -> None:
    d.line([(cb.x0, cb.y0), (cb.x0, cb.y1), (cb.x1, cb.y1)], fill=MUTED)
    for t in ticks:
        d.line([(cb.x0 - 3, y(t)), (cb.x0, y(t))], fill=MUTED)
        d.line([(cb.x0 + 1, y(t)), (cb.x1, y(t))], fill=(52, 54, 58))
        put_text(d, (cb.x0 - 5, y(t)), f"{t:g}", MUTED, 11, anchor="rm")
    every = max(1, int(np.ceil(len(x_labels) * 34 / max(cb.x1 - cb.x0, 1))))
    for i, lab in enumerate(x_labels):
        if i % every == 0:
            put_text(d, (cb.x(i), cb.y1 + 4), lab, MUTED, 11, anchor="ma")
    put_text(d, (cb.x0, cb.y1 + 18), y_label, FOREGROUND, 11)


def _series(d, cb: ChartBox, series: Sequence[Series], y) -> None:
    bars = [s for s in series if s.style == "bar"]
    width = cb.step * 0.7 / max(len(bars), 1)
    for k, s in enumerate(bars):
        for i, v in enumerate(s.values):
            x = cb.x(i) - cb.step * 0.35 + k * width
            top = min(y(float(v)), cb.y1 - 1)
            d.rectangle([x, top, x + max(width - 1, 1), cb.y1 - 1], fill=s.color)
    for s in series:
        if s.style == "bar":
            continue
        xs = np.arange(len(s.values)) if s.xs is None else s.xs
        pts = [(cb.x(float(i)), y(float(v))) for i, v in zip(xs, s.values, strict=True)]
        if s.style == "line" and len(pts) > 1:
            d.line(pts, fill=s.color, width=2)
        if s.style == "dots":
            for px, py in pts:
                d.ellipse([px - 3, py - 3, px + 3, py + 3], fill=s.color)


def _legend(d, series: Sequence[Series], x: int, y: int) -> None:
    for s in series:
        if not s.label:
            continue
        if s.style == "bar":
            d.rectangle([x, y + 3, x + 10, y + 11], fill=s.color)
        elif s.style == "dots":
            d.ellipse([x + 2, y + 4, x + 9, y + 11], fill=s.color)
        else:
            d.line([(x, y + 7), (x + 12, y + 7)], fill=s.color, width=2)
        put_text(d, (x + 16, y + 1), s.label, FOREGROUND, 11)
        x += 28 + measure(s.label, 11)[0]
