"""The relative position bias picture on its pixels: v1 diverging around 0, v2 sequential
within 0..16 with τ in the notes, the centre cell outlined, the selected head outlined, the
selected token's row outlined in the N x N expansion, and sane sizes."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.analysis.attention import bias_table, expand_bias_table
from swin_gui.render.attention_matrix import FRAME, HIGHLIGHT, SELECTED
from swin_gui.render.bias import bias_hit, bias_layout, render_bias, slot_rect
from swin_gui.render.colormap import apply_colormap, is_diverging
from swin_gui.render.selection import Selection


@pytest.fixture(scope="module")
def trace_v2(make_model, make_trace):
    return make_trace(make_model(version=2, img_size=256, window_size=8), 256, 256)


def test_v1_tables_are_diverging_around_zero(trace224):
    bt = trace224.block(1, 1)
    pic = render_bias(trace224, Selection(stage=1, block=1))
    np.testing.assert_allclose(pic.data, bias_table(bt.bias, bt.window))
    assert pic.data.shape == (bt.heads, 2 * bt.window - 1, 2 * bt.window - 1)
    assert is_diverging(pic.colormap) and pic.units == "additive logit"
    lo, hi = pic.levels
    assert lo == -hi and hi == pytest.approx(np.abs(pic.data).max())


def test_table_cells_show_the_table_and_the_centre_is_outlined(trace224):
    pic = render_bias(trace224, Selection(stage=2, block=0))
    layout = bias_layout(trace224, 2, 0)
    colours = apply_colormap(pic.data[1], pic.colormap, pic.levels)
    slot, t, M = layout.slots[1], layout.table_cell, layout.window
    for dy, dx in [(-6, -6), (2, -3), (6, 5)]:
        r, c = dy + M - 1, dx + M - 1
        centre = pic.rgb[slot.y + r * t + t // 2, slot.x + c * t + t // 2]
        np.testing.assert_array_equal(centre, colours[r, c])
        hit = bias_hit(layout, slot.x + c * t + t / 2, slot.y + r * t + t / 2)
        assert (hit.kind, hit.head, hit.cell) == ("table", 1, (dy, dx))
    c0 = (M - 1) * t
    ring = pic.rgb[slot.y + c0, slot.x + c0 : slot.x + c0 + t]  # top edge of the centre cell
    assert (ring == 255).all()


def test_selected_head_and_token_row_are_outlined(trace224):
    sel = Selection(stage=0, block=1, token=(10, 12), head=None)
    layout = bias_layout(trace224, 0, 1)
    bt = trace224.block(0, 1)

    def outlined(pic, slot) -> bool:
        x, y, _, _ = slot_rect(layout, slot)
        return bool((pic.rgb[y, x + 5] == SELECTED).all())

    mean_pic, head0_pic = render_bias(trace224, sel), render_bias(trace224, sel.with_(head=0))
    mean_slot, head0_slot = layout.slots[-1], layout.slots[0]
    assert outlined(mean_pic, mean_slot) and not outlined(mean_pic, head0_slot)
    assert outlined(head0_pic, head0_slot) and not outlined(head0_pic, mean_slot)
    _, pos = bt.locate(10, 12)
    mx, my, c = *layout.matrix, layout.cell
    row_top = head0_pic.rgb[my - FRAME + pos * c, mx + 10]  # the row outline's top line
    np.testing.assert_array_equal(row_top, HIGHLIGHT)
    # the expansion shows head 0's N x N bias
    expanded = expand_bias_table(head0_pic.data)[0]
    colours = apply_colormap(expanded, head0_pic.colormap, head0_pic.levels)
    np.testing.assert_array_equal(
        head0_pic.rgb[my + 3 * c + c // 2, mx + 7 * c + c // 2], colours[3, 7]
    )


def test_v2_is_sequential_within_0_16_with_tau_in_the_notes(trace_v2):
    bt = trace_v2.block(0, 1)
    pic = render_bias(trace_v2, Selection(stage=0, block=1))
    assert not is_diverging(pic.colormap)
    assert "16·σ" in pic.units
    lo, hi = pic.levels
    assert 0 <= lo < hi <= 16
    np.testing.assert_allclose(pic.data, bias_table(bt.bias, bt.window))
    tau_note = next(n for n in pic.notes if "τ" in n)
    assert f"{bt.logit_scale[0]:.3g}" in tau_note


@pytest.mark.parametrize("stage", [0, 3])
def test_picture_sizes_are_sane(each_trace, stage):
    trace = each_trace
    bt = trace.block(stage, 1)
    pic = render_bias(trace, Selection(stage=stage, block=1))
    layout = bias_layout(trace, stage, 1)
    assert len(layout.slots) == bt.heads + 1
    assert 200 <= pic.rgb.shape[0] <= 2000 and 300 <= pic.rgb.shape[1] <= 2000
    assert layout.matrix[1] + bt.tokens_per_window * layout.cell <= pic.rgb.shape[0]
    for s in layout.slots:
        x, y, w, h = slot_rect(layout, s)
        assert x >= 0 and x + w <= pic.rgb.shape[1] and y + h <= pic.rgb.shape[0]
