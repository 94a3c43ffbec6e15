"""The figure model: a Qt-free description of what a view draws, and its layout.

A view is a pure function `figure_<view>(trace, selection) -> Figure`. A `Figure` is a list
of `Plot`s (sub-plots), each with data coordinates of its own and a list of layers:

- `Heatmap`: an array drawn over an extent, with a colour map, levels and a unit (or an
  RGB(A) uint8 picture, e.g. the input image);
- vector overlays: `Lines` (many segments, one item), `Rects`, `Polygons`, `Hatch`
  (padding), and `Text` whose size is in points (it does not scale with the data);
- a `ColorBar` per plot, with its unit and ticks; axis ticks and labels;
- `HitRegion`s that know the value under the cursor and what a click selects.

`layout(figure, width_pt, height_pt)` places the plots: groups stack vertically, the plots
of a group flow left to right and wrap at the width, and `fill` plots share the height that
is left. The screen and every file format draw the same `Figure` through the same layout
(`swin_gui.app.figure_scene`), so an export is what the panel shows.

Colours are "#rrggbb" / "#rrggbbaa" or one of the theme roles in `ROLES` (fg, muted, bg,
panel, selected, hover, grid), which the backend resolves for the dark or light theme.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ROLES = ("fg", "muted", "bg", "panel", "selected", "hover", "grid", "masked")
MIN_TEXT_PT = 9.0  # nothing in a figure is drawn smaller
TITLE_PT = 10.0
TICK_PT = 9.0
GAP_PT = 10.0
COLORBAR_PT = 14.0  # width of the colour bar itself; its tick labels come on top


@dataclass(frozen=True)
class Heatmap:
    """`data` (h, w) float drawn through `cmap` between `levels`, or (h, w, 3|4) uint8 RGB(A)
    drawn as is, over `extent` = (x0, y0, x1, y1) in data units. NaN cells are drawn in the
    "masked" role colour. `quantity`/`unit` name the value for hover read-outs."""

    data: np.ndarray
    extent: tuple[float, float, float, float]
    cmap: str | None = None
    levels: tuple[float, float] | None = None
    quantity: str = ""
    unit: str = ""
    opacity: float = 1.0
    smooth: bool = False  # bilinear when drawn smaller than 1:1 (photos), else nearest

    @property
    def is_rgb(self) -> bool:
        return self.data.ndim == 3


@dataclass(frozen=True)
class Lines:
    """Straight segments: `segments` (n, 2, 2) as ((x0, y0), (x1, y1)) in data units."""

    segments: np.ndarray
    color: str = "fg"
    width_pt: float = 1.0
    dash: bool = False


@dataclass(frozen=True)
class Rects:
    """Rectangles (n, 4) as (x, y, w, h) in data units, outlined and/or filled."""

    rects: np.ndarray
    edge: str | None = "fg"
    fill: str | None = None
    width_pt: float = 1.0
    dash: bool = False


@dataclass(frozen=True)
class Polygons:
    """Closed polygons, each (k, 2) in data units."""

    polygons: tuple[np.ndarray, ...]
    edge: str | None = "fg"
    fill: str | None = None
    width_pt: float = 1.0


@dataclass(frozen=True)
class Hatch:
    """Diagonal hatching over rectangles (n, 4): how padding is drawn."""

    rects: np.ndarray
    color: str = "#ff00ff"


@dataclass(frozen=True)
class Text:
    """A label at (x, y) in data units; `size_pt` stays fixed on screen at any zoom.
    `anchor` is two letters: horizontal l|c|r, vertical t|c|b (e.g. "cc", "lt")."""

    x: float
    y: float
    text: str
    size_pt: float = MIN_TEXT_PT
    color: str = "fg"
    anchor: str = "cc"
    box: str | None = None  # a filled box behind the text
    bold: bool = False

    def __post_init__(self) -> None:
        if self.size_pt < MIN_TEXT_PT:
            raise ValueError(f"text {self.text!r} at {self.size_pt} pt: figures use ≥ 9 pt")


Layer = Heatmap | Lines | Rects | Polygons | Hatch | Text


@dataclass(frozen=True)
class ColorBar:
    cmap: str
    levels: tuple[float, float]
    unit: str
    ticks: tuple[float, ...] = ()

    def tick_values(self) -> tuple[float, ...]:
        if self.ticks:
            return self.ticks
        lo, hi = self.levels
        return (lo, (lo + hi) / 2, hi)


@dataclass(frozen=True)
class HitRegion:
    """A grid of cells over `extent` (x0, y0, x1, y1): the mouse over cell (i, j) reads
    `values[i, j]` (with `quantity`/`unit`) and `kind` + `payload` tell the panel what the
    cell is (e.g. kind "matrix", payload {"keys": (N, 2) tokens}). Cells outside `valid`
    (bool, same shape) are not selectable."""

    kind: str
    extent: tuple[float, float, float, float]
    shape: tuple[int, int]
    values: np.ndarray | None = None
    quantity: str = ""
    unit: str = ""
    payload: dict = field(default_factory=dict)

    def cell(self, x: float, y: float) -> tuple[int, int] | None:
        x0, y0, x1, y1 = self.extent
        if not (min(x0, x1) <= x < max(x0, x1) and min(y0, y1) <= y < max(y0, y1)):
            return None
        rows, cols = self.shape
        i = int((y - y0) / (y1 - y0) * rows)
        j = int((x - x0) / (x1 - x0) * cols)
        return min(i, rows - 1), min(j, cols - 1)


@dataclass(frozen=True)
class Hit:
    """What lies under the mouse: the plot, the region and its cell, and the value there."""

    plot: str
    region: HitRegion
    cell: tuple[int, int]

    @property
    def kind(self) -> str:
        return self.region.kind

    @property
    def value(self) -> float | None:
        v = self.region.values
        return None if v is None else float(v[self.cell])

    def value_text(self) -> str:
        """e.g. 'probability 0.0312' / 'additive mask −100' / 'masked'; '' without values."""
        v = self.value
        if v is None:
            return ""
        name = self.region.quantity or "value"
        unit = f" {self.region.unit}" if self.region.unit else ""
        return f"{name} {format_value(v)}{unit}"


def format_value(v: float) -> str:
    if v != v:
        return "NaN (not finite)"
    if v in (float("inf"), float("-inf")):
        return "∞" if v > 0 else "−∞"
    if v == int(v) and abs(v) < 1e6:
        return f"{int(v)}".replace("-", "−")
    return f"{v:.4g}".replace("-", "−")


@dataclass(frozen=True)
class Plot:
    """One sub-plot. `xlim`/`ylim` are its data range (y grows downwards unless `y_up`);
    `size` the preferred size of its data area in points; `fill` plots grow to share the
    space left; `aspect` keeps data units square. `frame` outlines the plot (e.g. "selected")."""

    key: str
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    size: tuple[float, float]
    layers: tuple[Layer, ...] = ()
    title: str = ""
    group: str = "main"
    fill: bool = False
    aspect: bool = True
    y_up: bool = False
    xticks: tuple[tuple[float, str], ...] = ()
    yticks: tuple[tuple[float, str], ...] = ()
    xlabel: str = ""
    ylabel: str = ""
    colorbar: ColorBar | None = None
    hits: tuple[HitRegion, ...] = ()
    frame: str | None = None
    max_scale: float = 8.0  # a fill plot grows at most this much over `size`


@dataclass(frozen=True)
class Figure:
    """A view's figure: `title` (the panel heading), `plots`, one-line `notes`, and `data`,
    the numbers behind it (saved as .npy beside an exported figure)."""

    title: str
    plots: tuple[Plot, ...]
    notes: tuple[str, ...] = ()
    data: np.ndarray | None = None
    view: str = ""

    def plot(self, key: str) -> Plot:
        for p in self.plots:
            if p.key == key:
                return p
        raise KeyError(key)

    def texts(self) -> list[str]:
        """Every string the figure draws (titles, labels, ticks, colour-bar units)."""
        out: list[str] = []
        for p in self.plots:
            out += [p.title, p.xlabel, p.ylabel] + [t for _, t in p.xticks + p.yticks]
            out += [layer.text for layer in p.layers if isinstance(layer, Text)]
            if p.colorbar is not None:
                out.append(p.colorbar.unit)
        return [t for t in out if t]

    def hit(self, plot_key: str, x: float, y: float) -> Hit | None:
        """The topmost hit region of a plot under data point (x, y)."""
        for region in reversed(self.plot(plot_key).hits):
            cell = region.cell(x, y)
            if cell is not None:
                return Hit(plot_key, region, cell)
        return None


# ---- layout ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    """Where a plot sits, in points from the figure's top-left: `box` (x, y, w, h) is the
    data area; `title_y` the title's baseline row; the tick labels and the colour bar sit
    around the box inside `outer`."""

    plot: Plot
    box: tuple[float, float, float, float]
    outer: tuple[float, float, float, float]

    def to_data(self, x: float, y: float) -> tuple[float, float]:
        """Figure points -> the plot's data units."""
        bx, by, bw, bh = self.box
        (x0, x1), (y0, y1) = self.plot.xlim, self.plot.ylim
        fx, fy = (x - bx) / bw, (y - by) / bh
        dy = y1 - fy * (y1 - y0) if self.plot.y_up else y0 + fy * (y1 - y0)
        return x0 + fx * (x1 - x0), dy

    def to_fig(self, x: float, y: float) -> tuple[float, float]:
        """The plot's data units -> figure points."""
        bx, by, bw, bh = self.box
        (x0, x1), (y0, y1) = self.plot.xlim, self.plot.ylim
        fx = (x - x0) / (x1 - x0)
        fy = (y - y0) / (y1 - y0)
        return bx + fx * bw, by + (1 - fy if self.plot.y_up else fy) * bh


@dataclass(frozen=True)
class FigureLayout:
    placements: tuple[Placement, ...]
    size: tuple[float, float]  # width, height in points

    def at(self, x: float, y: float) -> Placement | None:
        """The plot whose data area holds figure point (x, y)."""
        for p in self.placements:
            bx, by, bw, bh = p.box
            if bx <= x < bx + bw and by <= y < by + bh:
                return p
        return None

    def of(self, key: str) -> Placement:
        for p in self.placements:
            if p.plot.key == key:
                return p
        raise KeyError(key)


def text_width_pt(text: str, size_pt: float) -> float:
    """A generous estimate of a label's width (DejaVu Sans averages ~0.6 em)."""
    return 0.62 * size_pt * len(text)


def _margins(p: Plot) -> tuple[float, float, float, float]:
    """left, top, right, bottom around the data area: ticks, labels, title, colour bar."""
    left = max((text_width_pt(t, TICK_PT) for _, t in p.yticks), default=0.0)
    left += (4.0 if p.yticks else 0.0) + (text_width_pt(p.ylabel, TICK_PT) + 4 if p.ylabel else 0)
    top = TITLE_PT * 1.7 if p.title else 2.0
    bottom = (TICK_PT * 1.6 if p.xticks else 0.0) + (TICK_PT * 1.6 if p.xlabel else 0.0)
    right = 2.0
    if p.colorbar is not None:
        labels = [format_tick(v) for v in p.colorbar.tick_values()]
        right += 8.0 + COLORBAR_PT + 4.0 + max(text_width_pt(t, TICK_PT) for t in labels)
        bottom = max(bottom, TICK_PT * 1.8)  # the unit under the bar
    return left, top, right, max(bottom, 2.0)


def format_tick(v: float) -> str:
    return f"{v:.3g}".replace("-", "−")


def _scaled(p: Plot, scale: float) -> tuple[float, float]:
    return p.size[0] * scale, p.size[1] * scale


def layout(figure: Figure, width_pt: float, height_pt: float | None = None) -> FigureLayout:
    """Place every plot: groups top to bottom, plots in a group left to right, wrapping at
    `width_pt`. Plots wider than the width shrink (their text does not). `fill` plots grow
    (up to `max_scale`) into the height left by the others when `height_pt` is given."""
    groups: dict[str, list[Plot]] = {}
    for p in figure.plots:
        groups.setdefault(p.group, []).append(p)
    fixed_h = 0.0
    rows_by_group = {}
    for name, plots in groups.items():
        rows_by_group[name] = _flow(plots, width_pt, 1.0)
        if not any(p.fill for p in plots):
            fixed_h += sum(h for _, h in rows_by_group[name]) + GAP_PT
    fill_groups = [n for n, ps in groups.items() if any(p.fill for p in ps)]
    if fill_groups:
        avail = None if height_pt is None else (height_pt - fixed_h) / len(fill_groups)
        for name in fill_groups:
            rows_by_group[name] = _fill(groups[name], width_pt, avail)
    placements: list[Placement] = []
    y = GAP_PT / 2
    width = 0.0
    for name in groups:
        for row, row_h in rows_by_group[name]:
            x = GAP_PT / 2
            for p, scale in row:
                left, top, right, bottom = _margins(p)
                w, h = _scaled(p, scale)
                box = (x + left, y + top, w, h)
                outer = (x, y, left + w + right, top + h + bottom)
                placements.append(Placement(p, box, outer))
                x += outer[2] + GAP_PT
            width = max(width, x - GAP_PT / 2)
            y += row_h
        y += GAP_PT
    return FigureLayout(tuple(placements), (max(width, 1.0), y))


def _outer(p: Plot, scale: float) -> tuple[float, float]:
    left, top, right, bottom = _margins(p)
    w, h = _scaled(p, scale)
    return left + w + right, top + h + bottom


def _fit_width(p: Plot, width_pt: float) -> float:
    """The scale at which a plot (with its margins) fits `width_pt`, at most 1."""
    left, _, right, _ = _margins(p)
    room = width_pt - GAP_PT - left - right
    return max(0.05, min(1.0, room / p.size[0]))


def _flow(plots: list[Plot], width_pt: float, _scale: float) -> list[tuple[list, float]]:
    """Rows of (plot, scale) at natural size (shrunk to the width when wider)."""
    rows: list[tuple[list, float]] = []
    row: list[tuple[Plot, float]] = []
    x = GAP_PT / 2
    for p in plots:
        scale = _fit_width(p, width_pt)
        w, h = _outer(p, scale)
        if row and x + w > width_pt:
            rows.append((row, max(_outer(q, s)[1] for q, s in row) + GAP_PT))
            row, x = [], GAP_PT / 2
        row.append((p, scale))
        x += w + GAP_PT
    if row:
        rows.append((row, max(_outer(q, s)[1] for q, s in row) + GAP_PT))
    return rows


def _fill(plots: list[Plot], width_pt: float, height_pt: float | None) -> list:
    """One row; every plot scaled by the largest factor at which the row fits the width
    and `height_pt` (natural size when no height is given)."""
    margins = [_margins(p) for p in plots]
    fixed_w = sum(m[0] + m[2] for m in margins) + GAP_PT * len(plots)
    data_w = sum(p.size[0] for p in plots)
    scale = (width_pt - fixed_w) / data_w
    if height_pt is not None:
        for p, m in zip(plots, margins, strict=True):
            scale = min(scale, (height_pt - GAP_PT - m[1] - m[3]) / p.size[1])
    else:
        scale = min(scale, 1.0)
    scale = max(0.05, min(scale, min(p.max_scale for p in plots)))
    row = [(p, scale) for p in plots]
    return [(row, max(_outer(p, scale)[1] for p in plots) + GAP_PT)]


# ---- small builders shared by the views -----------------------------------------------
def grid_lines(x0: float, y0: float, x1: float, y1: float, step_x: float, step_y: float):
    """Segments (n, 2, 2) of a regular grid with lines every step over the box."""
    xs = np.arange(x0, x1 + 1e-9, step_x)
    ys = np.arange(y0, y1 + 1e-9, step_y)
    v = [((x, y0), (x, y1)) for x in xs]
    h = [((x0, y), (x1, y)) for y in ys]
    return np.asarray(v + h, np.float32).reshape(-1, 2, 2)


def rects(items) -> np.ndarray:
    """(n, 4) float32 rectangles from an iterable of (x, y, w, h)."""
    a = np.asarray(list(items), np.float32)
    return a.reshape(-1, 4)
