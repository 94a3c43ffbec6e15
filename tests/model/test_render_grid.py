"""The window-grid figure, against hand-worked geometry: window lines at multiples of
M × patch × 2^stage input pixels, offset by s on SW-MSA, one window and no interior line at
stage 3 of a 224 input, hatched padding on 333×250, the 9 region labels where the roll puts
them, and the selected window (its four pieces when the roll wrapped it)."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.render import figure as F
from swin_gui.render.grid import figure_grid
from swin_gui.render.selection import Selection


def window_lines(fig: F.Figure) -> tuple[set[float], set[float]]:
    """(x of the vertical, y of the horizontal) window boundaries: the "grid" Lines layer."""
    layer = next(
        l for l in fig.plot("image").layers if isinstance(l, F.Lines) and l.color == "grid"
    )
    seg = layer.segments
    vertical = seg[:, 0, 0] == seg[:, 1, 0]
    return set(seg[vertical, 0, 0].tolist()), set(seg[~vertical, 0, 1].tolist())


@pytest.mark.parametrize(("stage", "px"), [(0, 28), (2, 112)])
def test_window_lines_at_multiples_of_window_pixels(trace224, stage, px):
    fig = figure_grid(trace224, Selection(stage=stage, block=0))
    xs, ys = window_lines(fig)
    want = set(np.arange(0, 224 + 1, px, dtype=float).tolist())  # M·4·2^s = 28 · 2^s
    assert xs == want and ys == want


def test_stage3_on_224_is_one_window_without_interior_lines(trace224):
    fig = figure_grid(trace224, Selection(stage=3, block=1))  # 7×7 ≤ M: the shift is off
    assert window_lines(fig) == ({0.0, 224.0}, {0.0, 224.0})
    assert "shift off: grid 7×7 ≤ M=7" in fig.title


def test_sw_msa_lines_are_offset_by_the_shift(trace224):
    fig = figure_grid(trace224, Selection(stage=0, block=1))  # s = 3 tokens = 12 px
    xs, _ = window_lines(fig)
    assert xs == {0.0, 224.0} | {12.0 + 28 * k for k in range(8)}


def test_toggle_off_draws_the_regular_partition(trace224):
    fig = figure_grid(trace224, Selection(stage=0, block=1, shift_view=False))
    assert window_lines(fig)[0] == set(np.arange(0, 225, 28, dtype=float).tolist())
    assert not any(isinstance(l, F.Text) for l in fig.plot("image").layers)  # no regions


def test_padding_is_hatched_on_333x250(trace_native):
    block = trace_native.block(0, 0)
    assert block.padded == (63, 84)  # 62.5 → 63 rows, 83.25 → 84 cols of 4 px tokens
    fig = figure_grid(trace_native, Selection(stage=0, block=0))
    hatch = next(l for l in fig.plot("image").layers if isinstance(l, F.Hatch))
    rects = {tuple(r) for r in hatch.rects.tolist()}
    assert rects == {(333.0, 0.0, 3.0, 252.0), (0.0, 250.0, 333.0, 2.0)}
    assert fig.plot("image").xlim == (0, 336) and fig.plot("image").ylim == (0, 252)


def test_hover_values_are_the_window_of_every_token(trace224):
    fig = figure_grid(trace224, Selection(stage=0, block=1))
    region = fig.plot("image").hits[0]
    assert region.shape == (56, 56) and region.payload["origin"] == (0, 0)
    block = trace224.block(0, 1)
    for r, c in [(0, 0), (2, 2), (3, 3), (55, 10), (30, 26)]:
        hit = fig.hit("image", c * 4 + 1, r * 4 + 1)
        assert hit.cell == (r, c) and hit.value == block.locate(r, c)[0]
    np.testing.assert_array_equal(fig.numbers(), region.values.astype(np.int64))


def test_nine_region_labels_sit_in_their_regions(trace224):
    fig = figure_grid(trace224, Selection(stage=1, block=1))  # 28×28, M 7, s 3, token 8 px
    labels = {l.text: (l.x, l.y) for l in fig.plot("image").layers if isinstance(l, F.Text)}
    assert sorted(labels) == [str(k) for k in range(9)]
    # region 0 is the bulk [3, 24) × [3, 24) tokens; region 8 the 3×3 tokens wrapped from
    # the top-left corner to the bottom-right: rows/cols [0, 3) in original coordinates
    assert labels["0"] == (pytest.approx((3 + 24) / 2 * 8), pytest.approx((3 + 24) / 2 * 8))
    assert labels["8"] == (pytest.approx(1.5 * 8), pytest.approx(1.5 * 8))


def test_selected_wrapped_window_is_outlined_in_four_pieces(trace224):
    fig = figure_grid(trace224, Selection(stage=0, block=1, token=(0, 0)))
    rects = next(l for l in fig.plot("image").layers if isinstance(l, F.Rects)).rects
    # token (0, 0) sits in the last window after roll(−3): its 7×7 tokens are the 4×4
    # bottom-right corner plus the 3-wide strips the roll wrapped around both borders
    pieces = sorted(tuple(r) for r in rects.tolist())
    assert pieces == sorted(
        [
            (0.0, 0.0, 12.0, 12.0),
            (0.0, 208.0, 12.0, 16.0),
            (208.0, 0.0, 16.0, 12.0),
            (208.0, 208.0, 16.0, 16.0),
        ]
    )


def test_every_frame_shares_one_subsampled_picture(trace224, monkeypatch):
    """A photo wider than DISPLAY_MAX is drawn from one subsampled copy per trace: a copy
    per stage and shift (9 MB and a 12 MB pixmap each at 12 MP) filled the scene's spare
    budget and was rebuilt on every new frame."""
    import swin_gui.render.grid as grid

    monkeypatch.setattr(grid, "DISPLAY_MAX", 100)  # 224 px: every 3rd pixel
    monkeypatch.setattr(grid, "_CACHE", grid.TraceCache(traces=2, entries=64))
    pictures = [
        figure_grid(trace224, Selection(stage=s, block=b)).plot("image").layers[0].data
        for s, b in ((0, 0), (0, 1), (1, 1), (3, 0))
    ]
    assert pictures[0].shape == (75, 75, 3)
    assert all(p is pictures[0] for p in pictures)
