"""Pixel tests of the attention-mask view: a -100 entry is drawn as masked (and exactly
like its legend swatch), 0 like the "attend" swatch, an unshifted block has no masked
cell, one thumbnail per window, and the layout maps pixels back to cells/windows."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.model.geometry import shift_mask
from swin_gui.render.draw import BACKGROUND
from swin_gui.render.mask import MASKED, cell_pattern, mask_layout, render_mask
from swin_gui.render.selection import Selection


def cell_pixels(pic, lay, i: int, j: int) -> np.ndarray:
    x, y, w, h = lay.cell_rect(i, j)
    return pic.rgb[y : y + h, x : x + w]


def swatch_pixels(pic, lay, which: int) -> np.ndarray:
    x, y = lay.swatches[which]
    return pic.rgb[y : y + lay.cell, x : x + lay.cell]


def test_masked_cell_is_drawn_like_the_masked_swatch(trace224):
    sel = Selection(stage=0, block=1, window=63)  # bottom-right: four regions meet
    pic, lay = render_mask(trace224, sel), mask_layout(trace224, sel)
    block = trace224.block(0, 1)
    np.testing.assert_array_equal(pic.data, block.mask[63])
    M = block.window
    off_line = np.arange(pic.data.shape[0]) % M != 0  # cells not under a group line
    inner = off_line[:, None] & off_line[None, :]
    masked = [tuple(ij) for ij in np.argwhere((pic.data == -100.0) & inner)]
    attend = [tuple(ij) for ij in np.argwhere((pic.data == 0.0) & inner)]
    assert masked and attend
    assert lay.cell >= 6
    for i, j in masked[:20]:
        np.testing.assert_array_equal(cell_pixels(pic, lay, i, j), swatch_pixels(pic, lay, 1))
    for i, j in attend[:20]:
        np.testing.assert_array_equal(cell_pixels(pic, lay, i, j), swatch_pixels(pic, lay, 0))
    assert not np.array_equal(swatch_pixels(pic, lay, 0), swatch_pixels(pic, lay, 1))
    np.testing.assert_array_equal(swatch_pixels(pic, lay, 1), cell_pattern(True, lay.cell))


def _matrix_has_masked_cell(pic, lay) -> bool:
    x0, y0 = lay.matrix
    side = lay.tokens * lay.cell
    return bool(np.all(pic.rgb[y0 : y0 + side, x0 : x0 + side] == MASKED, axis=-1).any())


@pytest.mark.parametrize("stage,block", [(0, 0), (3, 1)])  # W-MSA; SW-MSA switched off (7×7)
def test_unshifted_block_has_no_masked_cells(trace224, stage, block):
    sel = Selection(stage=stage, block=block)
    pic, lay = render_mask(trace224, sel), mask_layout(trace224, sel)
    assert np.all(pic.data == 0)
    assert not _matrix_has_masked_cell(pic, lay)
    shifted = Selection(stage=0, block=1, window=63)
    assert _matrix_has_masked_cell(render_mask(trace224, shifted), mask_layout(trace224, shifted))
    assert "no mask" in " ".join(pic.notes)


def test_toggle_forces_or_removes_the_mask(trace224):
    forced = render_mask(trace224, Selection(stage=0, block=0, window=63, shift_view=True))
    np.testing.assert_array_equal(forced.data, shift_mask(56, 56, 7, 3)[63].numpy())
    removed = render_mask(trace224, Selection(stage=0, block=1, window=63, shift_view=False))
    assert np.all(removed.data == 0)


def _runs(line: np.ndarray) -> int:
    """Number of runs of non-background pixels along a row/column of pixels."""
    on = ~np.all(line == BACKGROUND, axis=-1)
    return int(on[0]) + int(np.count_nonzero(on[1:] & ~on[:-1]))


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_one_thumbnail_per_window(trace224, stage):
    sel = Selection(stage=stage, block=1, window=0)
    pic, lay = render_mask(trace224, sel), mask_layout(trace224, sel)
    nW = trace224.block(stage, 1).mask.shape[0]
    nWh, nWw = lay.grid
    assert nWh * nWw == nW
    x, y, t, _ = lay.thumb_rect(nW - 1)  # last row: away from the selected outline
    x0 = lay.thumbs[0]
    assert _runs(pic.rgb[y + t // 2, x0 - 1 : x + t + 1]) == nWw
    col = pic.rgb[lay.thumbs[1] : y + t + 1, x + t // 2]
    assert _runs(col) == nWh
    for w in range(nW):
        tx, ty, ts, _ = lay.thumb_rect(w)
        assert not np.all(pic.rgb[ty : ty + ts, tx : tx + ts] == BACKGROUND, axis=-1).any()


def test_selected_thumbnail_is_outlined(trace224):
    a = render_mask(trace224, Selection(stage=1, block=1, window=2))
    b = render_mask(trace224, Selection(stage=1, block=1, window=5))
    lay = mask_layout(trace224, Selection(stage=1, block=1))
    x, y, t, _ = lay.thumb_rect(5)
    ring = b.rgb[y - 3, x : x + t]
    assert np.all(ring == (255, 214, 0), axis=-1).all()
    assert not np.all(a.rgb[y - 3, x : x + t] == (255, 214, 0), axis=-1).any()


def test_layout_maps_pixels_back(trace224):
    lay = mask_layout(trace224, Selection(stage=1, block=1))
    for i, j in [(0, 0), (5, 40), (48, 48)]:
        x, y, w, h = lay.cell_rect(i, j)
        assert lay.cell_at(x + w / 2, y + h / 2) == (i, j)
    for w in range(lay.grid[0] * lay.grid[1]):
        x, y, t, _ = lay.thumb_rect(w)
        assert lay.thumb_at(x + t / 2, y + t / 2) == w
    assert lay.cell_at(0, 0) is None and lay.thumb_at(0, 0) is None
