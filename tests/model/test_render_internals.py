"""Block internals: the norms table against numpy, the block schematic following the
model's ACTUAL version (v1 pre-norm, v2 res-post-norm), and the current-block marker."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.analysis.internals import NORM_COLUMNS, block_list, block_norms
from swin_gui.render.chart import chart_box
from swin_gui.render.internals import CHART_H, CHART_W, internals_hit, render_internals
from swin_gui.render.selection import Selection

BAND = (70, 66, 30)  # the tint behind the current block's column


@pytest.fixture(scope="module")
def trace_v2(make_model, make_trace):
    return make_trace(make_model(version=2))


def _mean_norm(x: np.ndarray) -> float:
    return float(np.linalg.norm(x.astype(np.float64), axis=-1).mean())


@pytest.mark.parametrize("which", ["v1", "v2"])
def test_norm_table_equals_numpy(which, trace_native, trace_v2):
    trace = trace_native if which == "v1" else trace_v2
    table = block_norms(trace)
    assert table.shape == (sum(trace.config.depths), len(NORM_COLUMNS)) == (8, 5)
    for i, (s, b) in enumerate(block_list(trace)):
        st = trace.stages[s]
        x_in = st.blocks[b - 1].out if b > 0 else trace.embed if s == 0 else st.merge_out
        mid, out = st.blocks[b].mid, st.blocks[b].out
        expected = [_mean_norm(x_in), _mean_norm(mid), _mean_norm(out),
                    _mean_norm(mid - x_in), _mean_norm(out - mid)]  # fmt: skip
        np.testing.assert_allclose(table[i], expected, rtol=1e-5)
    pic = render_internals(trace, Selection(stage=1, block=1))
    np.testing.assert_array_equal(pic.data, table)


def test_v1_diagram_says_pre_norm(trace_native):
    pic = render_internals(trace_native, Selection(stage=0, block=0))
    text = " ".join((pic.title, *pic.notes))
    assert "pre-norm" in text and "res-post-norm" not in text
    assert "x = x + W-MSA(LN1(x))" in text and "x = x + MLP(LN2(x))" in text


def test_v2_diagram_says_res_post_norm(trace_v2, trace224):
    pic = render_internals(trace_v2, Selection(stage=2, block=1))
    text = " ".join((pic.title, *pic.notes))
    assert "res-post-norm" in text and "v2" in text
    assert "x = x + LN1(W-MSA(x))" in text and "x = x + LN2(MLP(x))" in text
    v1 = render_internals(trace224, Selection(stage=2, block=1))
    assert not np.array_equal(v1.rgb[CHART_H:], pic.rgb[CHART_H:])  # a different schematic


def test_current_block_numbers_in_notes(trace_native):
    table = block_norms(trace_native)
    pic = render_internals(trace_native, Selection(stage=2, block=1))
    row = table[5]  # blocks 0.0 0.1 1.0 1.1 2.0 2.1 -> index 5
    assert f"‖attn branch‖ {row[3]:.3g}" in pic.notes[1]
    assert f"‖x_in‖ {row[0]:.3g}" in pic.notes[1]


def _band_columns(rgb: np.ndarray, n: int) -> list[int]:
    cb = chart_box(CHART_W, CHART_H, n)
    cols = []
    for i in range(n):
        strip = rgb[cb.y0 + 2 : cb.y1 - 2, int(cb.x(i)) - 2 : int(cb.x(i)) + 2]
        if (strip == BAND).all(axis=2).any():
            cols.append(i)
    return cols


def test_current_block_is_marked_and_moves(trace_native):
    n = len(block_list(trace_native))
    first = render_internals(trace_native, Selection(stage=0, block=0))
    last = render_internals(trace_native, Selection(stage=3, block=1))
    assert _band_columns(first.rgb, n) == [0]
    assert _band_columns(last.rgb, n) == [n - 1]


def test_chart_hit_maps_columns_to_blocks(trace_native):
    blocks = block_list(trace_native)
    cb = chart_box(CHART_W, CHART_H, len(blocks))
    for i, sb in enumerate(blocks):
        assert internals_hit(trace_native, cb.x(i), (cb.y0 + cb.y1) / 2) == sb
    assert internals_hit(trace_native, 2, 2) is None


def test_token_outline_only_changes_the_heatmap(trace_native):
    a = render_internals(trace_native, Selection(stage=1, block=0))
    b = render_internals(trace_native, Selection(stage=1, block=0, token=(3, 4)))
    changed = np.argwhere((a.rgb != b.rgb).any(axis=2))
    assert len(changed) > 0 and changed[:, 0].min() > CHART_H
