"""The attention picture, checked on its pixels: the overlay peaks on the key the data
peaks on (also through the cyclic-shift wrap), masked matrix entries are drawn masked,
the colour bar is there, and sizes stay sane for 224 / 333x250 at stages 0 and 3."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from swin_gui.analysis.attention import masked_entries, query_attention, window_matrix
from swin_gui.render.attention import (
    DIM,
    attention_layout,
    hit_test,
    render_attention,
    token_rect,
)
from swin_gui.render.attention_matrix import MASK_CROSS, MASK_FILL
from swin_gui.render.colormap import apply_colormap, colormap_lut
from swin_gui.render.draw import PADDING_TINT
from swin_gui.render.selection import Selection


def _with_attention(trace, stage: int, block: int, attn: np.ndarray, grey: int = 128):
    """The same trace on a uniform grey image, with one block's attention replaced."""
    st = trace.stages[stage]
    blocks = list(st.blocks)
    blocks[block] = replace(blocks[block], attn=attn.astype(np.float32))
    stages = list(trace.stages)
    stages[stage] = replace(st, blocks=tuple(blocks))
    return replace(trace, stages=tuple(stages), image=np.full_like(trace.image, grey))


def _peaked_attention(bt, window: int, query: int, peaks: list[int]) -> np.ndarray:
    """Uniform attention except the query's row, where head h puts 0.6 - 0.05 h on key
    peaks[h] (distinct heights, so the mean over heads peaks on head 0's key)."""
    N = bt.tokens_per_window
    attn = np.full(bt.attn.shape, 1.0 / N, np.float32)
    for h, j in enumerate(peaks):
        top = 0.6 - 0.05 * h
        attn[window, h, query] = (1 - top) / (N - 1)
        attn[window, h, query, j] = top
    return attn


def _luminance(rgb: np.ndarray, rect) -> float:
    x, y, w, h = rect
    patch = rgb[y : y + h, x : x + w].astype(np.float32)
    return float(np.median(patch @ np.array([0.299, 0.587, 0.114])))


@pytest.mark.parametrize("stage,block,token", [(0, 1, (55, 55)), (1, 0, (13, 20)), (3, 1, (3, 3))])
def test_overlay_peaks_where_the_data_peaks(trace224, stage, block, token):
    bt = trace224.block(stage, block)
    window, query = bt.locate(*token)
    keys = bt.window_tokens(window)
    # one peak per head, far from the query; on the wrapped SW-MSA window one is on the top edge
    far = [j for j in range(bt.tokens_per_window) if max(abs(keys[j] - np.array(token))) > 1]
    peaks = [far[(7 * h + 3) % len(far)] for h in range(bt.heads)]
    if stage == 0:  # the wrapped window: head 0 peaks on a key from the top/left edges
        peaks[0] = next(j for j in far if min(keys[j]) < 3)
    trace = _with_attention(trace224, stage, block, _peaked_attention(bt, window, query, peaks))
    pic = render_attention(trace, Selection(stage=stage, block=block, token=token))
    layout = attention_layout(trace, stage, block)
    for slot, k in zip(layout.slots, range(bt.heads + 1), strict=True):
        data_peak = np.unravel_index(np.nanargmax(pic.data[k]), pic.data[k].shape)
        in_window = [tuple(int(v) for v in keys[j]) for j in range(bt.tokens_per_window)]
        brightest = max(in_window, key=lambda t: _luminance(pic.rgb, token_rect(layout, slot, t)))
        assert brightest == tuple(int(v) for v in data_peak)
        if k < bt.heads:
            assert brightest == tuple(int(v) for v in keys[peaks[k]])


def test_tokens_outside_the_window_stay_dim(trace224):
    trace = replace(trace224, image=np.full_like(trace224.image, 200))
    pic = render_attention(trace, Selection(stage=0, block=0, token=(10, 10)))
    layout = attention_layout(trace, 0, 0)
    slot = layout.slots[0]
    outside = pic.rgb[slot.y + slot.h - 5, slot.x + slot.w - 5]  # window 0 is top-left
    assert np.abs(outside.astype(int) - 200 * DIM).max() <= 1


def test_masked_entries_are_drawn_masked(trace224):
    sel = Selection(stage=0, block=1, token=(55, 55), head=0)
    bt = trace224.block(0, 1)
    pic = render_attention(trace224, sel)
    layout = attention_layout(trace224, 0, 1)
    q = query_attention(bt, sel.token)
    masked = masked_entries(bt, q.window)
    values = window_matrix(bt, q.window, 0)
    colours = apply_colormap(values, pic.colormap, pic.levels)
    mx, my, c = *layout.matrix, layout.cell
    assert masked.any() and (~masked).any()
    for i, j in [tuple(a) for a in np.argwhere(masked)[:40]]:
        cell = pic.rgb[my + i * c : my + (i + 1) * c, mx + j * c : mx + (j + 1) * c].reshape(-1, 3)
        found = {tuple(p) for p in cell}
        assert found <= {MASK_FILL, MASK_CROSS} and MASK_CROSS in found
    for i, j in [tuple(a) for a in np.argwhere(~masked)[:40]]:
        centre = pic.rgb[my + i * c + c // 2, mx + j * c + c // 2]
        np.testing.assert_array_equal(centre, colours[i, j])


def test_colour_bar_and_levels(trace224):
    sel = Selection(stage=1, block=1, token=(4, 4))
    bt = trace224.block(1, 1)
    pic = render_attention(trace224, sel)
    q = query_attention(bt, sel.token)
    assert pic.units == "probability" and pic.colormap == "viridis"
    assert pic.levels == (0.0, pytest.approx(float(q.rows.max())))
    assert pic.levels[1] == pytest.approx(float(pic.data[np.isfinite(pic.data)].max()))
    x0, y0 = attention_layout(trace224, 1, 1).colorbar
    bar = pic.rgb[y0:, x0:].reshape(-1, 3)
    lut = colormap_lut("viridis")
    for end in (lut[0], lut[255]):  # both ends of the ramp are drawn
        assert (bar == end).all(axis=1).any()
    # a diverging colormap choice falls back to a sequential one for probabilities
    assert render_attention(trace224, sel.with_(colormap="coolwarm")).colormap == "viridis"


@pytest.mark.parametrize("stage", [0, 3])
def test_picture_sizes_are_sane(each_trace, stage):
    trace = each_trace
    bt = trace.block(stage, 1)
    pic = render_attention(trace, Selection(stage=stage, block=1))
    layout = attention_layout(trace, stage, 1)
    assert pic.data.shape == (bt.heads + 1, *bt.resolution)
    assert len(layout.slots) == bt.heads + 1
    tp = trace.token_pixels(stage)
    for s in layout.slots:
        assert (s.h, s.w) == (bt.padded[0] * tp // layout.down, bt.padded[1] * tp // layout.down)
        assert s.x + s.w <= pic.rgb.shape[1] and s.y + s.h <= pic.rgb.shape[0]
    assert 300 <= pic.rgb.shape[0] <= 2000 and 300 <= pic.rgb.shape[1] <= 2000
    # a window's tokens never fall off the tiles, even with padding
    assert layout.matrix[1] + layout.n * layout.cell <= pic.rgb.shape[0]


def test_padding_is_hatched_on_the_odd_input(trace_native):
    bt = trace_native.block(3, 1)  # 8 x 11 tokens padded to 14 x 14
    assert bt.padded == (14, 14)
    pic = render_attention(trace_native, Selection(stage=3, block=1, token=(0, 0)))
    layout = attention_layout(trace_native, 3, 1)
    s = layout.slots[0]
    below_image = pic.rgb[s.y + s.h - 6 : s.y + s.h, s.x : s.x + s.w].reshape(-1, 3)
    tint = np.uint8(np.array(PADDING_TINT) * DIM)
    assert (below_image == tint).all(axis=1).any()  # dimmed magenta stripes
    assert any("padding keys" in n for n in render_attention(
        trace_native, Selection(stage=3, block=1, token=(7, 10))).notes)  # fmt: skip


def test_hit_test_round_trips(trace224):
    layout = attention_layout(trace224, 2, 1)
    for s in layout.slots:
        x, y, w, h = token_rect(layout, s, (5, 9))
        hit = hit_test(layout, x + w / 2, y + h / 2)
        assert (hit.kind, hit.head, hit.token) == ("tile", s.head, (5, 9))
        assert hit_test(layout, s.x + 3, s.title_y + 5).kind == "title"
    mx, my = layout.matrix
    hit = hit_test(layout, mx + 7.5 * layout.cell, my + 3.5 * layout.cell)
    assert (hit.kind, hit.cell) == ("matrix", (3, 7))
    assert hit_test(layout, 1, 1) is None


def test_shift_toggle_is_noted_not_drawn(trace224):
    sel = Selection(stage=0, block=1, token=(20, 20))
    shown = render_attention(trace224, sel)
    toggled = render_attention(trace224, sel.with_(shift_view=False))
    np.testing.assert_array_equal(shown.data, toggled.data)  # attention as computed
    assert any("as the block computed it" in n for n in toggled.notes)
    assert not any("as the block computed it" in n for n in shown.notes)
