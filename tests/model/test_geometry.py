"""Window geometry against hand-worked small cases."""

import math

import numpy as np
import pytest
import torch

from swin_gui.model.geometry import (
    MASK_VALUE,
    relative_coords_table,
    relative_position_index,
    shift_mask,
    shift_regions,
    window_and_shift,
    window_partition,
    window_reverse,
)


def test_shift_regions_14x14_m7_s3_are_the_nine_labelled_slices():
    labels = shift_regions(14, 14, 7, 3).numpy()
    band = np.array([0] * 7 + [1] * 4 + [2] * 3)  # [0:-7], [-7:-3], [-3:]
    expected = 3 * band[:, None] + band[None, :]
    np.testing.assert_array_equal(labels, expected)
    assert sorted(np.unique(labels)) == list(range(9))


def test_shift_mask_14x14_counts_per_window():
    mask = shift_mask(14, 14, 7, 3)
    assert mask.shape == (4, 49, 49)
    assert set(mask.unique().tolist()) == {0.0, MASK_VALUE}
    masked = (mask == MASK_VALUE).sum(dim=(1, 2)).tolist()
    # window 0: one region; window 1: 28 + 21 tokens; window 2: same transposed;
    # window 3: regions of 16, 12, 12 and 9 tokens.
    assert masked == [0, 2 * 28 * 21, 2 * 28 * 21, 49**2 - (16**2 + 12**2 + 12**2 + 9**2)]
    assert torch.equal(mask, mask.transpose(1, 2))


def test_no_shift_means_no_regions_and_no_mask():
    assert shift_regions(14, 14, 7, 0).max() == 0
    assert shift_mask(14, 14, 7, 0).abs().sum() == 0


def test_partition_is_row_major_and_reverse_inverts_it():
    x = torch.arange(4 * 6).view(1, 4, 6, 1).float()
    w = window_partition(x, 2)  # 6 windows of 4 tokens
    assert w.shape == (6, 4, 1)
    assert w[0, :, 0].tolist() == [0, 1, 6, 7]
    assert w[1, :, 0].tolist() == [2, 3, 8, 9]
    assert w[3, :, 0].tolist() == [12, 13, 18, 19]
    assert torch.equal(window_reverse(w, 2, 4, 6), x)


def test_relative_position_index_m2_by_hand():
    idx = relative_position_index(2)
    # tokens (0,0) (0,1) (1,0) (1,1); index = (dy + 1) * 3 + (dx + 1)
    expected = torch.tensor([[4, 3, 1, 0], [5, 4, 2, 1], [7, 6, 4, 3], [8, 7, 5, 4]])
    assert torch.equal(idx, expected)


def test_relative_position_index_range_and_centre():
    idx = relative_position_index(7)
    assert idx.shape == (49, 49)
    assert idx.min() == 0 and idx.max() == 13**2 - 1
    assert (idx.diagonal() == 6 * 13 + 6).all()


def test_smaller_window_reads_the_centre_of_the_table():
    idx = relative_position_index(3, table_window=7)
    assert (idx.diagonal() == 6 * 13 + 6).all()
    assert idx.max() == (6 + 2) * 13 + (6 + 2)


def test_v2_coords_table_is_log_spaced_and_symmetric():
    t = relative_coords_table(8)
    assert t.shape == (15 * 15, 2)
    # the largest offset M-1 is normalised to 8, then log2(8 + 1) / log2(8)
    assert torch.allclose(t.abs().max(), torch.tensor(math.log2(9) / 3))
    centre = t.view(15, 15, 2)[7, 7]
    assert torch.equal(centre, torch.zeros(2))
    assert torch.allclose(t.view(15, 15, 2)[0, 0], -t.view(15, 15, 2)[14, 14])


@pytest.mark.parametrize(
    ("h", "w", "expected"),
    [(56, 56, (7, 3)), (7, 7, (7, 0)), (8, 11, (7, 3)), (4, 9, (4, 0)), (7, 30, (7, 0))],
)
def test_window_and_shift_rule(h, w, expected):
    assert window_and_shift(h, w, 7, 3) == expected
