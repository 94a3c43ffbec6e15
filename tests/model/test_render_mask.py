"""The mask figure, checked against hand-worked shift regions: the window is the selected
token's (not `Selection.window`), cells are 0 / −100 as the regions say, the mosaic is one
heatmap + one Lines layer with a hit region per window, and unshifted blocks say why."""

from __future__ import annotations

import numpy as np

from swin_gui.render import figure as F
from swin_gui.render.mask import figure_mask
from swin_gui.render.selection import Selection


def _layers(plot, kind):
    return [layer for layer in plot.layers if isinstance(layer, kind)]


def _expected_last_window() -> np.ndarray:
    """Window 63 of a 56x56 grid, M 7, shift 3: window rows/cols 0..3 and 4..6 lie in
    different regions; key j's region is (j // 7 >= 4, j % 7 >= 4)."""
    j = np.arange(49)
    label = 2 * (j // 7 >= 4) + (j % 7 >= 4)
    return np.where(label[:, None] != label[None, :], -100.0, 0.0)


def test_the_window_is_the_selected_tokens(trace224):
    # the launch bug: window 0 in the selection, token (55, 55) -> rolled (52, 52) -> window 63
    fig = figure_mask(trace224, Selection(stage=0, block=1, window=0, token=(55, 55)))
    assert "window 63 of 64" in fig.title
    np.testing.assert_array_equal(fig.data, _expected_last_window())
    m = fig.plot("matrix")
    hit = m.hits[0]
    assert hit.quantity == "additive mask"
    assert tuple(hit.payload["keys"][0]) == (52, 52) and tuple(hit.payload["keys"][28]) == (0, 52)
    assert not hit.payload["padding"].any()
    assert fig.hit("matrix", 4.5, 0.5).value_text() == "additive mask −100"
    assert fig.hit("matrix", 1.5, 0.5).value_text() == "additive mask 0"
    assert any("1776 of 2401 pairs masked" in n for n in fig.notes)


def test_no_token_falls_back_to_the_window_index(trace224):
    # window 7 = rolled rows 0..6, rolled cols 49..55: the rows lie in one region, the
    # columns split 49..52 | 53..55, i.e. window columns 0..3 | 4..6: 2 * 28 * 21 pairs
    fig = figure_mask(trace224, Selection(stage=0, block=1, window=7))
    assert "window 7 of 64" in fig.title
    split = np.arange(49) % 7 >= 4
    np.testing.assert_array_equal(fig.data == -100, split[:, None] != split[None, :])
    assert any("1176 of 2401" in n for n in fig.notes)


def test_mosaic_is_one_heatmap_and_one_lines_layer(trace224):
    fig = figure_mask(trace224, Selection(stage=0, block=1, token=(10, 10)))
    mos = fig.plot("windows")
    (heat,) = _layers(mos, F.Heatmap)
    (lines,) = _layers(mos, F.Lines)
    assert heat.data.shape == (8 * 49, 8 * 49) and heat.extent == (0, 0, 8, 8)
    assert len(lines.segments) == 14  # 7 vertical + 7 horizontal separators
    np.testing.assert_array_equal(heat.data[7 * 49 :, 7 * 49 :], _expected_last_window())
    assert len(mos.hits) == 64
    region = fig.hit("windows", 1.5, 2.5).region  # column 1, row 2 -> window 17
    assert region.payload == {"select": {"window": 17}}
    selected = _layers(mos, F.Rects)[-1]
    r, c = 1, 1  # token (10, 10) -> rolled (7, 7) -> window 9 = row 1, column 1
    assert selected.edge == "selected" and selected.rects.tolist() == [[c, r, 1, 1]]


def test_unshifted_blocks_draw_no_mask_and_say_why(trace224):
    w_msa = figure_mask(trace224, Selection(stage=0, block=0, token=(55, 55)))
    assert (w_msa.data == 0).all() and "W-MSA" in w_msa.notes[0]
    off = figure_mask(trace224, Selection(stage=3, block=1))
    assert "shift off: grid 7×7 ≤ M=7" in off.notes[0]
    assert off.plot("windows").title == "the only window"


def test_the_toggle_uses_the_numpy_shift_mask(trace224):
    forced = figure_mask(trace224, Selection(stage=0, block=0, token=(55, 55), shift_view=True))
    np.testing.assert_array_equal(forced.data, _expected_last_window())
    assert any("shift toggled" in n for n in forced.notes)
    removed = figure_mask(trace224, Selection(stage=0, block=1, token=(55, 55), shift_view=False))
    assert (removed.data == 0).all() and "window 63" in removed.title  # no roll: (55,55) -> 63


def test_padding_tokens_are_named(trace_native):
    # stage 3 of 250x333 is 8x11 tokens padded to 14x14; block 1 rolls by 3. Token (7, 10)
    # is in window 1: original rows 3..9 (8, 9 are padding), cols 10..13, 0..2 (11..13 are
    # padding): 2 * 7 + 3 * 7 - 2 * 3 = 29 padding tokens
    fig = figure_mask(trace_native, Selection(stage=3, block=1, token=(7, 10)))
    assert "window 1 of 4" in fig.title
    pad = fig.plot("matrix").hits[0].payload["padding"]
    assert int(pad.sum()) == 29
    assert any("29 padding tokens" in n for n in fig.notes)
