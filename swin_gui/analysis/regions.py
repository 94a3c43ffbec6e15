"""The cyclic-shift geometry in numpy, for the views (which never call torch): the 9 region
labels of a padded token grid after the roll and the additive shift mask they imply. They
equal `model.geometry.shift_regions` / `shift_mask` (tests/model/test_regions.py), and let
a view draw any block with the shift toggled, which the recorded mask cannot.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..model.regions import MASK_VALUE, labels_to_mask, region_labels
from ..model.regions import window_labels as labels_per_window

__all__ = ["MASK_VALUE", "block_regions", "shift_mask", "shift_region_labels", "window_labels"]


@lru_cache(maxsize=64)
def shift_region_labels(height: int, width: int, window: int, shift: int) -> np.ndarray:
    """Labels 0..8 (int8, H, W, read-only) of the padded grid *after* the roll: each axis
    splits into [0:-M], [-M:-s], [-s:] and a token's label is 3 * row slice + col slice.
    All zero when s = 0."""
    labels = region_labels(height, width, window, shift)  # the rule the capture records
    labels.setflags(write=False)
    return labels


def window_labels(height: int, width: int, window: int, shift: int) -> np.ndarray:
    """(nW, N) region label of every token of every window, windows row-major."""
    return labels_per_window(shift_region_labels(height, width, window, shift), window)


CACHED_MASK_BYTES = 8 << 20  # larger masks (a photo's stage 0) are rebuilt, not kept


def shift_mask(height: int, width: int, window: int, shift: int) -> np.ndarray:
    """(nW, N, N) float32 additive mask: −100 where query and key come from different
    regions, 0 elsewhere (read-only). Small ones are cached."""
    n = (height // window) * (width // window) * window**4 * 4
    if n <= CACHED_MASK_BYTES:
        return _shift_mask_cached(height, width, window, shift)
    return _shift_mask(height, width, window, shift)


@lru_cache(maxsize=16)
def _shift_mask_cached(height: int, width: int, window: int, shift: int) -> np.ndarray:
    return _shift_mask(height, width, window, shift)


def _shift_mask(height: int, width: int, window: int, shift: int) -> np.ndarray:
    mask = labels_to_mask(window_labels(height, width, window, shift))
    mask.setflags(write=False)
    return mask


def block_regions(block, shift: int | None = None) -> np.ndarray:
    """Region labels (Hp, Wp) of a `BlockTrace`'s padded grid for `shift` (default: the
    shift the block used)."""
    s = block.shift if shift is None else shift
    return shift_region_labels(*block.padded, block.window, s)
