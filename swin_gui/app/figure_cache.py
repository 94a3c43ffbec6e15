"""`ArrayCache`: what the figure backend derives from an array (its colouring, its
QPixmap), held weakly by the array's identity. The scenes keep one each; `figure_plot.
PRECOLORED` is shared, filled on a worker thread for big heatmaps (the mask mosaic).
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from ..analysis.cache import weak_dropper


class ArrayCache:
    """What was derived from an array (its colouring, its QPixmap), by the array's identity
    and `how` it was derived, held weakly: an array that dies takes its entry with it. At
    most `size` entries, oldest out first. A worker thread may fill it (`figure_plot.
    precolor`) while the GUI thread reads it."""

    def __init__(self, size: int = 24) -> None:
        self.size = size
        self._store: dict[tuple, tuple[weakref.ref, object]] = {}
        self._lock = threading.Lock()

    def peek(self, data: np.ndarray, how: tuple):
        """The value held for (data, how), or None."""
        hit = self._store.get((id(data), data.shape, *how))
        return hit[1] if hit is not None and hit[0]() is data else None

    def get(self, data: np.ndarray, how: tuple, make):
        key = (id(data), data.shape, *how)
        hit = self._store.get(key)
        if hit is not None and hit[0]() is data:
            return hit[1]
        value = make()
        with self._lock:
            while len(self._store) >= self.size:
                self._store.pop(next(iter(self._store)), None)
            self._store[key] = (weakref.ref(data, weak_dropper(self, key)), value)
        return value

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()
