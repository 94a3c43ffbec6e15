"""Tests of the cyclic-shift view: the 9 region labels after roll(-3, -3) on a 14x14 grid
with M = 7 (worked by hand), consistent region colours before/after the roll, the windows
that mix regions, padding hatched, the no-shift cases said plainly, and the ablation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from swin_gui import api
from swin_gui.render.draw import PADDING_TINT
from swin_gui.render.grid import original_regions
from swin_gui.render.selection import Selection
from swin_gui.render.shift import (
    ablation_applies,
    mixed_windows,
    render_ablation,
    render_shift,
    render_shift_view,
    shift_layout,
)


@pytest.fixture(scope="module")
def flat(tiny_model):
    """A 224 input of one flat colour: all tokens alike."""
    return api.capture(tiny_model, torch.zeros(1, 3, 224, 224))


def test_nine_region_labels_on_14x14_with_m7_s3(flat):
    """By hand: per axis, rows [0:-M] = 0..6 -> 0, [-M:-s] = 7..10 -> 1, [-s:] = 11..13 -> 2;
    a token's label is 3 * row part + column part."""
    block = flat.block(2, 1)
    assert (block.padded, block.window, block.shift) == ((14, 14), 7, 3)
    pic = render_shift(flat, Selection(stage=2, block=1))
    part = [0] * 7 + [1] * 4 + [2] * 3
    expected = np.array([[3 * part[r] + part[c] for c in range(14)] for r in range(14)])
    np.testing.assert_array_equal(pic.data, expected)
    assert sorted(np.unique(pic.data)) == list(range(9))
    assert pic.data[0, 0] == 0 and pic.data[13, 13] == 8 and pic.data[8, 12] == 5


def test_mixed_windows_and_the_note(flat):
    block = flat.block(2, 1)
    mixed = mixed_windows(block, 3)
    np.testing.assert_array_equal(mixed, [False, True, True, True])  # only window 0 is pure
    pic = render_shift(flat, Selection(stage=2, block=1))
    assert "3 of 4 windows mix regions → need the mask" in pic.notes


def _cell_colours(pic, lay, origin, labels) -> dict[int, tuple]:
    """The most common centre-pixel colour of the cells of each region label."""
    ox, oy = origin
    k = lay.cell
    out = {}
    for lab in range(9):
        rows, cols = np.nonzero(labels == lab)
        px = [
            tuple(pic.rgb[oy + r * k + k // 2 + 2, ox + c * k + k // 2 + 2])
            for r, c in zip(rows, cols, strict=True)
        ]
        values, counts = np.unique(np.array(px), axis=0, return_counts=True)
        out[lab] = tuple(values[counts.argmax()])
    return out


def test_region_colours_survive_the_roll(flat):
    sel = Selection(stage=2, block=1)
    pic, lay = render_shift(flat, sel), shift_layout(flat, sel)
    block = flat.block(2, 1)
    before = _cell_colours(pic, lay, lay.before, original_regions(block, 3))
    after = _cell_colours(pic, lay, lay.after, pic.data)
    assert before == after  # region k has one colour on both sides of the roll
    assert len(set(after.values())) == 9  # and the nine colours differ


def test_no_shift_is_said_in_the_picture(flat):
    w_msa = render_shift(flat, Selection(stage=0, block=0))
    assert np.all(w_msa.data == 0) and "no shift: W-MSA" in w_msa.notes
    rule = render_shift(flat, Selection(stage=3, block=1))
    assert np.all(rule.data == 0)
    assert "shift off: grid 7×7 ≤ M=7" in rule.notes
    # the banner differs between a shifted and an unshifted picture of the same stage
    shifted = render_shift(flat, Selection(stage=0, block=1))
    assert not np.array_equal(w_msa.rgb[:30], shifted.rgb[:30])


def test_padding_tokens_are_hatched(trace_native):
    sel = Selection(stage=1, block=1)
    block = trace_native.block(1, 1)
    H, W = block.resolution
    Hp, _ = block.padded
    assert Hp > H
    pic, lay = render_shift(trace_native, sel), shift_layout(trace_native, sel)
    k, (bx, by) = lay.cell, lay.before
    pad_rows = pic.rgb[by + H * k : by + Hp * k, bx : bx + W * k]
    real_rows = pic.rgb[by : by + H * k, bx : bx + W * k]
    assert np.all(pad_rows == PADDING_TINT, axis=-1).mean() > 0.1
    assert not np.all(real_rows == PADDING_TINT, axis=-1).any()


def test_layout_maps_both_grids_back_to_original_tokens(flat):
    sel = Selection(stage=1, block=1)
    lay = shift_layout(flat, sel)
    for r, c in [(0, 0), (5, 26), (27, 2)]:
        (bx, by, k, _), (ax, ay, _, _) = lay.token_rects(r, c)
        assert lay.token_at(bx + k / 2, by + k / 2) == (r, c)
        assert lay.token_at(ax + k / 2, ay + k / 2) == (r, c)


def test_ablation_heatmap(flat):
    sel = Selection(stage=1, block=1, shift_view=False)
    block = flat.block(1, 1)
    assert ablation_applies(flat, sel) and not ablation_applies(flat, sel.with_(shift_view=None))
    fake = block.out.copy()
    fake[4, 9] += 3.0  # one token changed by a vector of norm 3 * sqrt(C)
    pic = render_ablation(flat, sel, fake)
    assert np.unravel_index(pic.data.argmax(), pic.data.shape) == (4, 9)
    assert pic.data[4, 9] == pytest.approx(3.0 * np.sqrt(block.out.shape[-1]), rel=1e-4)
    rel = np.linalg.norm(fake - block.out) / np.linalg.norm(block.out)
    assert f"{100 * rel:.1f} %" in pic.notes[0]
    plain = render_shift(flat, sel)
    pending = render_shift_view(flat, sel, None)
    full = render_shift_view(flat, sel, fake)
    assert plain.rgb.shape[0] < pending.rgb.shape[0] < full.rgb.shape[0]
    shifted = sel.with_(shift_view=None)  # no ablation while the shift is on
    assert render_shift_view(flat, shifted, fake).rgb.shape == render_shift(flat, shifted).rgb.shape
