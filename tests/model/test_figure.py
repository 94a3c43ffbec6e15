"""The figure model's layout and hit testing, worked by hand (no Qt)."""

import numpy as np
import pytest

from swin_gui.render import figure as F
from swin_gui.render import layout as L


def tile(key, w=100.0, h=100.0, **kw):
    return F.Plot(key=key, xlim=(0, 7), ylim=(0, 7), size=(w, h), group="tiles", **kw)


def test_tiles_wrap_at_the_width():
    fig = F.Figure("t", tuple(tile(f"h{i}") for i in range(5)))
    wide = L.layout(fig, 1000)
    assert len({p.box[1] for p in wide.placements}) == 1  # one row
    narrow = L.layout(fig, 260)  # two tiles of 100 pt + gaps per row
    rows = sorted({p.box[1] for p in narrow.placements})
    assert len(rows) == 3
    assert all(p.box[0] + p.box[2] <= 260 for p in narrow.placements)


def test_a_plot_wider_than_the_panel_shrinks_but_its_text_does_not():
    fig = F.Figure("t", (tile("big", 800, 400, title="a title"),))
    lay = L.layout(fig, 400)
    _x, _y, w, h = lay.of("big").box
    assert w < 400 and w / h == pytest.approx(2.0)


def test_fill_plots_share_the_height_left():
    fixed = F.Plot("bar", (0, 1), (0, 1), (200, 50), group="a")
    grow = F.Plot("img", (0, 10), (0, 10), (100, 100), group="b", fill=True)
    lay = L.layout(F.Figure("t", (fixed, grow)), 1000, 500)
    _, _, w, h = lay.of("img").box
    assert w == pytest.approx(h)
    assert 300 < h < 500  # grew from 100 into what the bar left
    assert lay.size[1] <= 500 + 1e-6


def test_data_and_figure_coordinates_round_trip_and_hits_find_cells():
    values = np.arange(49, dtype=np.float32).reshape(7, 7)
    region = F.HitRegion("matrix", (0, 0, 7, 7), (7, 7), values, "probability", "")
    fig = F.Figure("t", (tile("m", hits=(region,)),))
    pl = L.layout(fig, 500).of("m")
    fx, fy = pl.to_fig(2.5, 3.5)
    assert pl.to_data(fx, fy) == pytest.approx((2.5, 3.5))
    hit = fig.hit("m", 2.5, 3.5)
    assert hit.cell == (3, 2) and hit.value == 23.0
    assert hit.value_text() == "probability 23"
    assert fig.hit("m", 7.5, 1) is None


def test_y_up_plots_flip():
    p = F.Plot("c", (0, 10), (0, 1), (100, 100), aspect=False, y_up=True)
    pl = L.layout(F.Figure("t", (p,)), 500).of("c")
    top = pl.to_fig(0, 1)[1]
    bottom = pl.to_fig(0, 0)[1]
    assert top < bottom


def test_text_below_9_pt_is_refused_and_values_print_honestly():
    with pytest.raises(ValueError, match="9 pt"):
        F.Text(0, 0, "tiny", size_pt=6)
    assert F.format_value(float("nan")) == "NaN (not finite)"
    assert F.format_value(-100.0) == "−100"
    assert F.format_value(0.031234) == "0.03123"
