"""Where the plots of a `Figure` go: groups stack top to bottom, the plots of a group flow
left to right and wrap at the width, and `fill` plots grow into the height the others
leave. The screen and every file format use this one layout, in points.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..i18n import language
from .figure import (
    COLORBAR_PT,
    GAP_PT,
    TICK_PT,
    TITLE_PT,
    Figure,
    Plot,
    format_tick,
    text_width_pt,
)


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


def _margins(p: Plot) -> tuple[float, float, float, float]:
    """left, top, right, bottom around the data area: ticks, labels, title, colour bar."""
    args = (p.yticks, p.ylabel, bool(p.title), bool(p.xticks), bool(p.xlabel), p.colorbar)
    try:
        return _margins_of(*args, language())
    except TypeError:  # a list where a tuple belongs: not hashable, computed each time
        return _margins_of.__wrapped__(*args, language())


@lru_cache(maxsize=1024)
def _margins_of(
    yticks, ylabel: str, title: bool, xticks: bool, xlabel: bool, colorbar, _language: str
) -> tuple[float, float, float, float]:
    """`_margins` from what they depend on (a layout asks for them many times over; the
    language is there for the tick labels' decimal separator)."""
    left = max((text_width_pt(t, TICK_PT) for _, t in yticks), default=0.0)
    left += (4.0 if yticks else 0.0) + (text_width_pt(ylabel, TICK_PT) + 4 if ylabel else 0)
    top = TITLE_PT * 1.7 if title else 2.0
    bottom = (TICK_PT * 1.6 if xticks else 0.0) + (TICK_PT * 1.6 if xlabel else 0.0)
    right = 2.0
    if colorbar is not None:
        labels = [format_tick(v) for v in colorbar.tick_values()]
        ticks = COLORBAR_PT + 4.0 + max(text_width_pt(t, TICK_PT) for t in labels)
        right += 8.0 + max(ticks, text_width_pt(colorbar.unit, TICK_PT))  # unit under the bar
        bottom = max(bottom, TICK_PT * 1.8)  # the unit under the bar
    return left, top, right, max(bottom, 2.0)


class _Margins(dict):
    """`_margins` per plot for one layout (the fill search asks for them dozens of times,
    and hashing a colour bar for the cache above costs as much as the sum)."""

    def __call__(self, p: Plot) -> tuple[float, float, float, float]:
        m = self.get(id(p))
        if m is None:
            m = self[id(p)] = _margins(p)
        return m


def _scaled(p: Plot, scale: float) -> tuple[float, float]:
    return p.size[0] * scale, p.size[1] * scale


HEADING_PT = 11.0  # the figure's title, drawn above the plots in files


def layout(
    figure: Figure, width_pt: float, height_pt: float | None = None, top: float = 0.0
) -> FigureLayout:
    """Place every plot: groups top to bottom, plots in a group left to right, wrapping at
    `width_pt`. Plots wider than the width shrink (their text does not). `fill` plots grow
    (up to `max_scale`) into the height left by the others when `height_pt` is given.
    `top` points are left free above the plots (for a heading)."""
    m = _Margins()  # the figure (and so its plots) lives through the call: ids stay unique
    groups: dict[str, list[Plot]] = {}
    for p in figure.plots:
        groups.setdefault(p.group, []).append(p)
    fixed_h = 0.0
    rows_by_group = {}
    for name, plots in groups.items():
        rows_by_group[name] = _flow(plots, width_pt, m)
        if not any(p.fill for p in plots):
            fixed_h += sum(h for _, h in rows_by_group[name]) + GAP_PT
    fill_groups = [n for n, ps in groups.items() if any(p.fill for p in ps)]
    if fill_groups:
        left = None if height_pt is None else height_pt - top - fixed_h - GAP_PT / 2
        avail = None if left is None else left / len(fill_groups) - GAP_PT
        for name in fill_groups:
            rows_by_group[name] = _fill(groups[name], width_pt, avail, m)
    placements: list[Placement] = []
    y = GAP_PT / 2 + top
    width = 0.0
    for name in groups:
        for row, row_h in rows_by_group[name]:
            x = GAP_PT / 2
            for p, scale in row:
                left, top, right, bottom = m(p)
                w, h = _scaled(p, scale)
                box = (x + left, y + top, w, h)
                outer = (x, y, left + w + right, top + h + bottom)
                placements.append(Placement(p, box, outer))
                x += outer[2] + GAP_PT
            width = max(width, x - GAP_PT / 2)
            y += row_h
        y += GAP_PT
    return FigureLayout(tuple(placements), (max(width, 1.0), y))


def _outer(p: Plot, scale: float, m) -> tuple[float, float]:
    left, top, right, bottom = m(p)
    w, h = _scaled(p, scale)
    return left + w + right, top + h + bottom


def _fit_width(p: Plot, width_pt: float, m) -> float:
    """The scale at which a plot (with its margins) fits `width_pt`, at most 1."""
    left, _, right, _ = m(p)
    room = width_pt - GAP_PT - left - right
    return max(0.05, min(1.0, room / p.size[0]))


def _flow(plots: list[Plot], width_pt: float, m) -> list[tuple[list, float]]:
    """Rows of (plot, scale) at natural size (shrunk to the width when wider)."""
    rows: list[tuple[list, float]] = []
    row: list[tuple[Plot, float]] = []
    x = GAP_PT / 2
    for p in plots:
        scale = _fit_width(p, width_pt, m)
        w = _outer(p, scale, m)[0]
        if row and x + w > width_pt:
            rows.append((row, max(_outer(q, s, m)[1] for q, s in row) + GAP_PT))
            row, x = [], GAP_PT / 2
        row.append((p, scale))
        x += w + GAP_PT
    if row:
        rows.append((row, max(_outer(q, s, m)[1] for q, s in row) + GAP_PT))
    return rows


def _fill(plots: list[Plot], width_pt: float, height_pt: float | None, m) -> list:
    """The plots in as many equal rows (1, 2, …) as give them the largest common scale
    (fewest rows on a tie): a wide, short space keeps one row, a narrow, tall one wraps."""
    best_scale, best_rows = _fill_scale([plots], width_pt, height_pt, m), 1
    for n_rows in range(2, len(plots) + 1):
        per = -(-len(plots) // n_rows)
        rows = [plots[i : i + per] for i in range(0, len(plots), per)]
        if len(rows) < n_rows:
            continue
        scale = _fill_scale(rows, width_pt, height_pt, m)
        if scale > best_scale * 1.02:
            best_scale, best_rows = scale, n_rows
    if best_rows == 1:
        return _fill_row(plots, width_pt, height_pt, m)
    per = -(-len(plots) // best_rows)
    out = []
    for i in range(0, len(plots), per):
        row = [(p, best_scale) for p in plots[i : i + per]]
        out.append((row, max(_outer(p, best_scale, m)[1] for p, _ in row) + GAP_PT))
    return out


def _fill_scale(rows: list[list[Plot]], width_pt: float, height_pt: float | None, m) -> float:
    """The common scale at which these rows fit the width (and the height when given)."""
    scale = float("inf")
    for row in rows:
        fixed_w = sum(a[0] + a[2] for a in map(m, row)) + GAP_PT * len(row)
        scale = min(scale, (width_pt - fixed_w) / sum(p.size[0] for p in row))
    if height_pt is None:
        scale = min(scale, 1.0)
    else:
        fixed_h = sum(max(m(p)[1] + m(p)[3] for p in row) + GAP_PT for row in rows)
        scale = min(scale, (height_pt - fixed_h) / sum(max(p.size[1] for p in row) for row in rows))
    return max(0.05, min(scale, min(p.max_scale for row in rows for p in row)))


def _fill_row(plots: list[Plot], width_pt: float, height_pt: float | None, m) -> list:
    """One row; every plot scaled by the largest factor at which the row fits the width
    and `height_pt` (natural size when no height is given)."""
    margins = [m(p) for p in plots]
    fixed_w = sum(m[0] + m[2] for m in margins) + GAP_PT * len(plots)
    data_w = sum(p.size[0] for p in plots)
    scale = (width_pt - fixed_w) / data_w
    if height_pt is not None:
        for p, a in zip(plots, margins, strict=True):
            scale = min(scale, (height_pt - GAP_PT - a[1] - a[3]) / p.size[1])
    else:
        scale = min(scale, 1.0)
    scale = max(0.05, min(scale, min(p.max_scale for p in plots)))
    row = [(p, scale) for p in plots]
    return [(row, max(_outer(p, scale, m)[1] for p in plots) + GAP_PT)]
