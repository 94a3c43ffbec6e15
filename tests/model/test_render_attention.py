"""The attention figure, checked on its layers and hit regions against hand-worked windows:
the tiles are the query's window in window layout (keys brought by the roll from the
opposite border behind a dashed seam, padding hatched, the query outlined), the matrix
draws masked entries as masked with ticks every M, and sizes keep one key ≥ 8 screen px
for 25 tiles at a 450 pt dock."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from swin_gui.render import figure as F
from swin_gui.render import layout as L
from swin_gui.render.attention import figure_attention, key_pt
from swin_gui.render.selection import Selection

PX_PER_PT = 96 / 72  # the default layout at 1366x768 (96 dpi)


def _layers(plot, kind):
    return [layer for layer in plot.layers if isinstance(layer, kind)]


def _with_attention(trace, stage: int, block: int, attn: np.ndarray):
    """The same trace with one block's attention replaced."""
    st = trace.stages[stage]
    blocks = list(st.blocks)
    blocks[block] = replace(blocks[block], attn=attn.astype(np.float32))
    stages = list(trace.stages)
    stages[stage] = replace(st, blocks=tuple(blocks))
    return replace(trace, stages=tuple(stages))


def test_tile_is_the_wrapped_window_in_window_layout(trace224):
    # stage 0 (56x56, M 7), block 1 shifts by 3: token (55, 55) sits at rolled (52, 52),
    # the last window (63), position (3, 3) = 24. Its window rows are original rows
    # 52..55 then 0..2 (same for the columns): the roll brought the last three from the
    # opposite border, so a seam runs after window row 4 and window column 4.
    fig = figure_attention(trace224, Selection(stage=0, block=1, token=(55, 55), head=0))
    tile = fig.plot("head0")
    assert tile.xlim == (0, 7) and tile.ylim == (0, 7) and tile.group == "tiles"
    hit = tile.hits[0]
    tokens = hit.payload["tokens"]
    assert tokens.shape == (7, 7, 2)
    assert tuple(tokens[0, 0]) == (52, 52) and tuple(tokens[3, 3]) == (55, 55)
    assert tuple(tokens[4, 4]) == (0, 0) and tuple(tokens[6, 2]) == (2, 54)
    assert hit.payload["select"] == {"head": 0}
    (seams,) = _layers(tile, F.Lines)
    assert seams.dash
    assert sorted(map(tuple, seams.segments.reshape(-1, 4).tolist())) == [
        (0, 4, 7, 4),
        (4, 0, 4, 7),
    ]
    query = _layers(tile, F.Rects)[-1].rects.tolist()
    assert query == [[3, 3, 1, 1]]
    assert any("wraps around the border" in n for n in fig.notes)
    # the attention of head 0 in window layout: tile (i, j) is key i * 7 + j
    bt = trace224.block(0, 1)
    np.testing.assert_allclose(hit.values, bt.attn[63, 0, 24].reshape(7, 7), rtol=1e-6)


def test_padding_keys_are_hatched_and_not_selectable(trace_native):
    # 250x333 input: stage 3 is 8x11 tokens padded to 14x14. Token (7, 10) in block 0
    # (no shift) is in window 1 (rows 7..13, cols 7..13) at position 3: keys of window
    # row 0 with col >= 11 (j >= 4) and all keys of rows >= 8 (i >= 1) are padding.
    fig = figure_attention(trace_native, Selection(stage=3, block=0, token=(7, 10)))
    tile = fig.plot("mean")
    (hatch,) = _layers(tile, F.Hatch)
    assert sorted(hatch.rects.tolist()) == [[0, 1, 7, 6], [4, 0, 3, 1]]
    tokens = tile.hits[0].payload["tokens"]
    assert (tokens[1:] == -1).all() and (tokens[0, 4:] == -1).all()
    assert tuple(tokens[0, 3]) == (7, 10)
    assert tile.hits[0].payload["select"] == {"head": None}
    assert any("45 padding keys" in n for n in fig.notes)
    matrix = fig.plot("matrix").hits[0].payload
    assert matrix["padding"].sum() == 3 + 6 * 7 and matrix["keys"].shape == (49, 2)


def test_matrix_draws_masked_entries_and_ticks(trace224):
    # window 63 of stage 0 block 1: window rows/cols split 4 + 3 into shift regions, so
    # 2401 - (16^2 + 12^2 + 12^2 + 9^2) = 1776 pairs are masked
    fig = figure_attention(trace224, Selection(stage=0, block=1, token=(55, 55), head=0))
    m = fig.plot("matrix")
    heat = _layers(m, F.Heatmap)[0]
    assert int(np.isnan(heat.data).sum()) == 1776
    assert np.isfinite(m.hits[0].values).all()  # the hover still reads the probability
    assert np.isnan(heat.data[0, 4]) and not np.isnan(heat.data[0, 1])  # col 4: left edge
    assert [t for _, t in m.xticks] == ["0", "7", "14", "21", "28", "35", "42"]
    assert m.xticks[1][0] == 7.5 and m.yticks == m.xticks
    outline = _layers(m, F.Rects)[-1].rects.tolist()
    assert outline == [[0, 24, 49, 1]]  # the query row
    assert m.colorbar.unit == "probability"
    assert any("1776 of 2401" in n for n in fig.notes)
    hit = fig.hit("matrix", 4.5, 24.5)
    assert hit.value_text().startswith("probability ")


def test_selected_head_is_framed_and_levels_span_the_query(trace224):
    sel = Selection(stage=3, block=0, head=2)  # 4 heads
    fig = figure_attention(trace224, sel)
    frames = {p.key: p.frame for p in fig.plots if p.group == "tiles"}
    assert frames == {
        "head0": None,
        "head1": None,
        "head2": "selected",
        "head3": None,
        "mean": None,
    }
    bt = trace224.block(3, 0)
    H, W = bt.resolution
    window, pos = bt.locate(H // 2, W // 2)
    hi = float(bt.attn[window, :, pos].max())
    assert fig.plot("mean").colorbar.levels == pytest.approx((0.0, hi))
    assert (
        figure_attention(trace224, sel.with_(colormap="coolwarm")).plot("matrix").colorbar.cmap
        == "viridis"
    )


def test_maps_and_padding_mass_sum_to_one(trace_native):
    fig = figure_attention(trace_native, Selection(stage=3, block=1, token=(0, 0)))
    maps = fig.numbers()  # heads + 1, H, W
    assert maps.shape == (5, 8, 11)
    tokens = fig.plot("mean").hits[0].payload["tokens"]
    row = fig.plot("mean").hits[0].values
    inside = row[tokens[..., 0] >= 0].sum()
    assert np.nansum(maps[-1]) == pytest.approx(inside, abs=1e-5)
    assert row.sum() == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("heads", [1, 2, 4, 8, 3, 6, 12, 24])
def test_one_key_is_at_least_8_px_at_a_450_pt_dock(trace224, heads):
    bt = trace224.block(3, 1)
    base = bt.attn[:, :1]
    trace = _with_attention(trace224, 3, 1, np.repeat(base, heads, axis=1))
    fig = figure_attention(trace, Selection(stage=3, block=1))
    lay = L.layout(fig, 450.0)
    tiles = [pl for pl in lay.placements if pl.plot.group == "tiles"]
    assert len(tiles) == heads + 1
    for pl in tiles:
        assert pl.box[2] / 7 * PX_PER_PT >= 8 and pl.box[0] + pl.box[2] <= 450
    assert key_pt(heads + 1) >= 8


def test_stage3_fills_the_snapshot_width(trace224):
    fig = figure_attention(trace224, Selection(stage=3, block=1))
    width, _ = L.layout(fig, 720.0).size
    assert width > 0.6 * 720


def test_non_finite_attention_does_not_crash(trace224):
    bt = trace224.block(1, 0)
    attn = bt.attn.copy()
    attn[:, :, :, 3] = np.nan
    trace = _with_attention(trace224, 1, 0, attn)
    fig = figure_attention(trace, Selection(stage=1, block=0, token=(3, 3)))
    lo, hi = fig.plot("matrix").colorbar.levels
    assert np.isfinite([lo, hi]).all() and hi > lo


def test_shift_toggle_and_no_shift_notes(trace224):
    sel = Selection(stage=1, block=1, token=(13, 20))
    assert not any("shift toggle" in n for n in figure_attention(trace224, sel).notes)
    toggled = figure_attention(trace224, sel.with_(shift_view=False)).notes
    assert any("the shift toggle draws shift 0" in n for n in toggled)
    stage3 = figure_attention(trace224, Selection(stage=3, block=1)).notes
    assert any("no shift here: the grid 7×7 fits in one window" in n for n in stage3)


def test_tile_colours_blend_the_attention_over_the_image(trace224):
    # a black image and one-hot attention: query 24 of window 63 puts all of head 0 on
    # key 32 (window (4, 4)). Viridis at the top is #fde725, at 0 #440154; at 80 %
    # opacity over black they become floor(0.8 * colour).
    bt = trace224.block(0, 1)
    attn = bt.attn.copy()
    attn[63, 0, 24] = 0.0
    attn[63, 0, 24, 32] = 1.0
    trace = replace(_with_attention(trace224, 0, 1, attn), image=np.zeros_like(trace224.image))
    fig = figure_attention(trace, Selection(stage=0, block=1, token=(55, 55)))
    (rgb,) = _layers(fig.plot("head0"), F.Heatmap)
    assert rgb.is_rgb and rgb.extent == (0, 0, 7, 7)
    p = rgb.data.shape[0] // 7
    assert rgb.data[4 * p + p // 2, 4 * p + p // 2].tolist() == [202, 184, 29, 255]
    assert rgb.data[p // 2, p // 2].tolist() == [54, 0, 67, 255]
    assert fig.plot("mean").colorbar.levels == (0.0, 1.0)


def test_padded_crop_is_the_image_on_the_padded_grid_grey_beyond():
    from swin_gui.render.attention import PAD_GREY, padded_crop

    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    padded = np.full((8, 12, 3), PAD_GREY, np.uint8)  # what the crop reads: padding grey
    padded[:5, :7] = image
    rows, cols = np.array([0, 4, 5, 7, 2]), np.array([11, 6, 0, 7, 3])
    np.testing.assert_array_equal(padded_crop(image, rows, cols), padded[rows][:, cols])
