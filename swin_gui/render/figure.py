"""The figure model: a Qt-free description of what a view draws, and its layout.

A view is a pure function `figure_<view>(trace, selection) -> Figure`. A `Figure` is a list
of `Plot`s (sub-plots), each with data coordinates of its own and a list of layers:

- `Heatmap`: an array drawn over an extent, with a colour map, levels and a unit (or an
  RGB(A) uint8 picture, e.g. the input image);
- vector overlays: `Lines` (many segments, one item), `Rects`, `Polygons`, `Hatch`
  (padding), and `Text` whose size is in points (it does not scale with the data);
- a `ColorBar` per plot, with its unit and ticks; axis ticks and labels;
- `HitRegion`s that know the value under the cursor and what a click selects.

`render.layout.layout(figure, width_pt, height_pt)` places the plots: groups stack
vertically, the plots of a group flow left to right and wrap at the width, and `fill`
plots share the height that is left. The screen and every file format draw the same
`Figure` through the same layout (`swin_gui.app.figure_scene`), so an export is what the
panel shows.

Colours are "#rrggbb" / "#rrggbbaa" or one of the theme roles in `ROLES` (fg, muted, bg,
panel, selected and its translucent fill and band, hover, grid, masked), which the backend
resolves for the dark or light theme: the "selected" colour is written in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..i18n import num, tr

ROLES = (
    "fg",
    "muted",
    "bg",
    "panel",
    "selected",
    "selected-fill",
    "selected-band",
    "hover",
    "grid",
    "masked",
)
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
    halo: str | None = None  # as `Rects.halo`


@dataclass(frozen=True)
class Rects:
    """Rectangles (n, 4) as (x, y, w, h) in data units, outlined and/or filled; a `halo`
    colour draws a wider outline (`HALO_PT`) in it underneath, so a thin outline reads on
    any picture (the selected query: white on black)."""

    rects: np.ndarray
    edge: str | None = "fg"
    fill: str | None = None
    width_pt: float = 1.0
    dash: bool = False
    halo: str | None = None


HALO_PT = 1.4  # a halo outline (or line) is this much wider than what it surrounds


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
            raise ValueError(
                tr(
                    "Figure",
                    "text {text!r} at {size_pt} pt: figures use ≥ 9 pt",
                    text=self.text,
                    size_pt=self.size_pt,
                )
            )


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
        name = self.region.quantity or tr("Figure", "value")
        unit = f" {self.region.unit}" if self.region.unit else ""
        return f"{name} {format_value(v)}{unit}"


def format_value(v: float) -> str:
    """A read-out value: integers as they are, else 4 significant digits, with the
    language's decimal separator and a true minus sign."""
    if v != v:
        return tr("Figure", "NaN (not finite)")
    if v in (float("inf"), float("-inf")):
        return "∞" if v > 0 else "−∞"
    if v == int(v) and abs(v) < 1e6:
        return f"{int(v)}".replace("-", "−")
    return num(v, ".4g").replace("-", "−")


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
    the numbers behind it (saved as .npy beside an exported figure): an array, or a
    function that makes it, for numbers as big as the stage grid that only an export reads
    (`numbers()`), so that a token change does not build them."""

    title: str
    plots: tuple[Plot, ...]
    notes: tuple[str, ...] = ()
    data: np.ndarray | Callable[[], np.ndarray] | None = None
    view: str = ""

    def numbers(self) -> np.ndarray | None:
        """`data`, made now if it is a function."""
        return self.data() if callable(self.data) else self.data

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


def text_width_pt(text: str, size_pt: float) -> float:
    """A generous estimate of a label's width (DejaVu Sans averages ~0.6 em)."""
    return 0.62 * size_pt * len(text)


def format_tick(v: float) -> str:
    """A tick label: 3 significant digits, the language's decimal separator."""
    return num(v, ".3g").replace("-", "−")


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
