"""`ArrayCache`: what the figure backend derives from an array (its colouring, its
QPixmap), held weakly by the array's identity. The scenes keep one each; `figure_plot.
PRECOLORED` is shared, filled on a worker thread for big heatmaps (the mask mosaic).
`layer_key`: what a layer draws, as the key a scene keeps its items under.
"""

from __future__ import annotations

import dataclasses
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


SMALL_BYTES = 4096  # arrays up to this size (boxes, lines) are keyed by content, others by id


def _value_key(v):
    if isinstance(v, np.ndarray):
        if v.nbytes <= SMALL_BYTES:
            return (v.shape, v.dtype.str, v.tobytes())
        return ("id", id(v))  # the layer (kept with its items) holds it: the id stays unique
    if isinstance(v, (tuple, list)):
        return tuple(_value_key(x) for x in v)
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return v


def layer_key(layer) -> tuple:
    """What a layer draws, as a hashable key: its type and fields, small arrays by their
    bytes, big ones (pictures, kept in per-trace caches) by identity. A layer rebuilt with
    the same content (a token change rebuilds the figure) keeps the items drawn for it."""
    return (type(layer).__name__, *(_value_key(getattr(layer, f)) for f in _fields(layer)))


def _fields(layer) -> tuple[str, ...]:
    cls = type(layer)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}
