"""Pixel tests of the window-grid view: window lines fall at multiples of
M x token_pixels (times the upscale), shifted by s on SW-MSA, the single stage-3 window has
no interior line, and the padded border of a non-divisible input is hatched."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.render.draw import PADDING_TINT
from swin_gui.render.grid import WINDOW_LINE, grid_layout, original_regions, render_grid
from swin_gui.render.selection import Selection


def line_positions(rgb: np.ndarray, axis: int, extent: int, frac: float = 0.9) -> set[int]:
    """Columns (axis=1) or rows (axis=0) that are the window-line colour over >= frac of
    the padded grid's extent along the other axis."""
    hit = np.all(rgb == WINDOW_LINE, axis=-1)  # H, W
    hit = hit[:extent] if axis == 1 else hit[:, :extent]
    share = hit.mean(axis=0 if axis == 1 else 1)
    return {int(i) for i in np.flatnonzero(share >= frac)}


def expected_lines(boundaries, size: int) -> set[int]:
    """draw_vlines/hlines with width 2 paint x-1 and x, clipped to the picture."""
    return {p for b in boundaries for p in (b - 1, b) if 0 <= p < size}


def boundaries(t, stage: int, block: int, scale: int, shift: int) -> list[int]:
    b = t.block(stage, block)
    window_px = b.window * t.token_pixels(stage) * scale  # M * patch * 2**stage, upscaled
    Hp = b.padded[0]
    inner = [(k * b.window + shift) * t.token_pixels(stage) * scale for k in range(Hp // b.window)]
    return sorted({0, Hp * t.token_pixels(stage) * scale, *inner}), window_px


@pytest.mark.parametrize("stage", [0, 2])
def test_window_lines_at_multiples_of_window_pixels(trace224, stage):
    pic = render_grid(trace224, Selection(stage=stage, block=0))
    scale = int(pic.scale)
    assert scale >= 2 and pic.rgb.shape[1] >= 448  # a 224 input is drawn >= 448 px wide
    bounds, window_px = boundaries(trace224, stage, 0, scale, 0)
    assert window_px == 7 * 4 * 2**stage * scale
    assert set(bounds[1:-1]) == set(range(window_px, pic.rgb.shape[1] - 1, window_px))
    H, W = pic.rgb.shape[:2]
    assert line_positions(pic.rgb, 1, H) == expected_lines(bounds, W)
    assert line_positions(pic.rgb, 0, W) == expected_lines(bounds, H)


def test_stage3_on_224_is_one_window_without_interior_lines(trace224):
    pic = render_grid(trace224, Selection(stage=3, block=0, token=(3, 3)))
    H, W = pic.rgb.shape[:2]
    assert line_positions(pic.rgb, 1, H) == {0, W - 1}  # only the outer border
    assert line_positions(pic.rgb, 0, W) == {0, H - 1}
    assert np.all(pic.data == 0)  # every token in window 0


def test_sw_msa_lines_are_offset_by_the_shift(trace224):
    stage = 1
    block = trace224.block(stage, 1)
    assert block.shift == 3
    pic = render_grid(trace224, Selection(stage=stage, block=1))
    scale = int(pic.scale)
    bounds, _ = boundaries(trace224, stage, 1, scale, block.shift)
    tp = trace224.token_pixels(stage) * scale
    assert bounds[1] == block.shift * tp  # first window boundary at s * token pixels
    H, W = pic.rgb.shape[:2]
    assert line_positions(pic.rgb, 1, H) == expected_lines(bounds, W)
    unshifted, _ = boundaries(trace224, stage, 1, scale, 0)
    assert line_positions(pic.rgb, 1, H) != expected_lines(unshifted, W)


def test_toggle_off_draws_the_regular_partition(trace224):
    pic = render_grid(trace224, Selection(stage=1, block=1, shift_view=False))
    bounds, _ = boundaries(trace224, 1, 1, int(pic.scale), 0)
    H, W = pic.rgb.shape[:2]
    assert line_positions(pic.rgb, 1, H) == expected_lines(bounds, W)
    assert "shift toggled off" in pic.title


def test_padding_is_shown_and_hatched_on_333x250(trace_native):
    for stage in (0, 3):
        pic = render_grid(trace_native, Selection(stage=stage, block=0))
        lay = grid_layout(trace_native, Selection(stage=stage, block=0))
        k = lay.scale
        Hi, Wi = trace_native.image.shape[:2]
        Hp, Wp = lay.padded
        tp = trace_native.token_pixels(stage) * k
        assert Hp * tp > Hi * k and Wp * tp > Wi * k  # the padded grid extends past the image
        assert pic.rgb.shape[:2] == (Hp * tp, Wp * tp)
        is_tint = np.all(pic.rgb == PADDING_TINT, axis=-1)
        pad = np.zeros(is_tint.shape, bool)
        pad[: Hp * tp, : Wp * tp] = True
        pad[: Hi * k, : Wi * k] = False
        assert not is_tint[: Hi * k, : Wi * k].any()  # no hatching on the image itself
        assert is_tint[pad].mean() > 0.1  # diagonal stripes over the padding
    assert "padded to 14×14" in " ".join(pic.notes)


def test_data_is_the_window_index_of_every_token(trace224):
    block = trace224.block(1, 1)
    pic = render_grid(trace224, Selection(stage=1, block=1))
    assert pic.data.shape == block.resolution
    for r, c in [(0, 0), (2, 3), (3, 3), (27, 27), (10, 20)]:
        assert pic.data[r, c] == block.locate(r, c)[0]
    assert pic.data[0, 0] == pic.data[27, 27]  # the corners share the wrapped last window


def test_nine_regions_in_original_coordinates(trace224):
    """Hand-worked: after roll(-3), rolled rows [0:-7] / [-7:-3] / [-3:] are regions
    0 / 1 / 2 per axis, so original rows [3:24) are 0, [24:28) are 1, [0:3) are 2."""
    block = trace224.block(1, 1)
    labels = original_regions(block, 3)
    band = np.array([2] * 3 + [0] * 21 + [1] * 4)
    np.testing.assert_array_equal(labels, 3 * band[:, None] + band[None, :])
    pic = render_grid(trace224, Selection(stage=1, block=1))
    T = grid_layout(trace224, Selection(stage=1, block=1)).token_px
    per_pixel = np.repeat(np.repeat(labels, T, 0), T, 1)  # picture-sized region map
    means = np.array([pic.rgb[per_pixel == k].mean(axis=0) for k in range(9)])  # 9, 3
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)  # 9, 9
    assert gaps[~np.eye(9, dtype=bool)].min() > 8  # nine visibly different tints


def test_selected_token_and_wrapped_window_are_marked(trace224):
    sel = Selection(stage=1, block=1, token=(13, 1))
    pic = render_grid(trace224, sel)
    lay = grid_layout(trace224, sel)
    T = lay.token_px
    assert tuple(pic.rgb[13 * T + T // 2, 1 * T + T // 2]) == (255, 214, 0)  # the ✚
    # token col 1 < s: its window wraps; the piece at the right border is outlined too
    right = pic.rgb[10 * T : 17 * T, 28 * T - 3]
    assert np.all(right == (255, 214, 0), axis=-1).mean() > 0.9
