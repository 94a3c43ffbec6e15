"""The cyclic-shift regions in plain numpy (no torch), the one home of the rule for the
trace, its NPZ file and the views: the nine region labels of a padded token grid after the
roll by (-s, -s), and the additive shift mask they imply. They equal
`model.geometry.shift_regions` / `window_mask`, the model's own torch versions
(tests/model/test_regions.py).
"""

from __future__ import annotations

import numpy as np

MASK_VALUE = -100.0  # what the shift mask adds to the logits of pairs from different regions


def region_labels(height: int, width: int, window: int, shift: int) -> np.ndarray:
    """(Hp, Wp) int8 labels 0..8 of the padded grid after the roll by (-s, -s): each axis
    splits into [0:-M], [-M:-s], [-s:] and a token's label is 3 * row slice + col slice.
    All zero when s = 0."""
    labels = np.zeros((height, width), np.int8)
    if shift:
        bounds = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
        for i, hs in enumerate(bounds):
            for j, ws in enumerate(bounds):
                labels[hs, ws] = 3 * i + j
    return labels


def window_labels(grid: np.ndarray, window: int) -> np.ndarray:
    """(Hp, Wp) label grid -> (nW, N) labels per window (windows and tokens row-major)."""
    Hp, Wp = grid.shape
    M = window
    return grid.reshape(Hp // M, M, Wp // M, M).transpose(0, 2, 1, 3).reshape(-1, M * M)


def labels_to_mask(labels: np.ndarray, dtype=np.float32) -> np.ndarray:
    """(nW, N) labels -> the (nW, N, N) additive mask: 0 within a region, -100 between."""
    labels = np.asarray(labels)
    same = labels[:, :, None] == labels[:, None, :]
    dtype = np.dtype(dtype).type
    return np.where(same, dtype(0.0), dtype(MASK_VALUE))  # made in `dtype` (no float64 copy)


def regions_to_mask(grid: np.ndarray, window: int) -> np.ndarray:
    """(Hp, Wp) region labels of the rolled, padded grid -> the (nW, N, N) float32 mask."""
    return labels_to_mask(window_labels(np.asarray(grid), window))
