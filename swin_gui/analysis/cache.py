"""The per-trace cache every view and analysis keeps its selection-independent pieces in (layouts,
static frames, tiles, charts), so that a token, head or window change re-renders within a
frame. Qt-free.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any


class TraceCache:
    """Small cache of derived values keyed by (trace identity, key). Holds at most `traces`
    traces and `entries` values per trace (oldest out first); an entry dies with its trace
    (checked through a weak reference, so a recycled id() never returns a stale value and
    the cache never keeps a trace alive)."""

    def __init__(self, traces: int = 2, entries: int = 256) -> None:
        self._traces, self._entries = traces, entries
        self._store: dict[int, tuple[weakref.ref, dict[Hashable, Any]]] = {}

    def get(self, trace: Any, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value cached for (trace, key), built by `build()` on a miss."""
        slot = self._store.get(id(trace))
        if slot is None or slot[0]() is not trace:
            self._store.pop(id(trace), None)
            while len(self._store) >= self._traces:
                self._store.pop(next(iter(self._store)))
            slot = (weakref.ref(trace), {})
            self._store[id(trace)] = slot
        entries = slot[1]
        if key not in entries:
            if len(entries) >= self._entries:
                entries.pop(next(iter(entries)))
            entries[key] = build()
        return entries[key]
