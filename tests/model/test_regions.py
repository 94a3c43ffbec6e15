"""The numpy shift geometry the views use equals the model's torch geometry, and matches
the hand-worked 14×14, M = 7, s = 3 case."""

import numpy as np
import pytest

from swin_gui.analysis import regions
from swin_gui.model import geometry


@pytest.mark.parametrize("hw", [(14, 14), (56, 56), (14, 21), (7, 7)])
def test_labels_and_mask_equal_the_model_geometry(hw):
    H, W = hw
    for s in (0, 3):
        np.testing.assert_array_equal(
            regions.shift_region_labels(H, W, 7, s), geometry.shift_regions(H, W, 7, s).numpy()
        )
        np.testing.assert_array_equal(
            regions.shift_mask(H, W, 7, s), geometry.shift_mask(H, W, 7, s).numpy()
        )


def test_hand_worked_14x14_regions():
    lab = regions.shift_region_labels(14, 14, 7, 3)
    assert lab[0, 0] == 0 and lab[6, 6] == 0
    assert lab[7, 7] == 4 and lab[10, 10] == 4  # rows 7..10, cols 7..10: middle slices
    assert lab[11, 11] == 8 and lab[13, 0] == 6 and lab[0, 13] == 2
    mask = regions.shift_mask(14, 14, 7, 3)
    assert (mask[0] == 0).all()  # window 0 holds region 0 only
    # window 3 (bottom right) mixes regions 4, 5, 7, 8: 16, 12, 12, 9 tokens
    n = np.array([16, 12, 12, 9])
    assert (mask[3] == -100).sum() == 49 * 49 - (n**2).sum()
