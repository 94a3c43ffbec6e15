"""The per-trace cache every view and analysis keeps its selection-independent pieces in (layouts,
static frames, tiles, charts), so that a token, head or window change re-renders within a
frame. Qt-free.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any

_MISSING = object()


def weak_dropper(cache: Any, key: Hashable) -> Callable[[weakref.ref], None]:
    """A weakref callback that drops `cache._store[key]` (a (weak reference, …) tuple) when
    its referent dies, at once rather than at the next miss; only that entry: a newer
    object under the same key (a recycled id()) has a weak reference of its own."""
    owner = weakref.ref(cache)

    def drop(ref: weakref.ref) -> None:
        me = owner()
        if me is not None and me._store.get(key, (None,))[0] is ref:
            me._store.pop(key, None)

    return drop


class TraceCache:
    """Small cache of derived values keyed by (trace identity, key). Holds at most `traces`
    traces and `entries` values per trace (oldest out first); an entry dies with its trace
    (checked through a weak reference, so a recycled id() never returns a stale value and
    the cache never keeps a trace alive; the weak reference's callback drops a dead
    trace's values at once)."""

    def __init__(self, traces: int = 2, entries: int = 256) -> None:
        self._traces, self._entries = traces, entries
        self._store: dict[int, tuple[weakref.ref, dict[Hashable, Any]]] = {}

    def get(self, trace: Any, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value cached for (trace, key), built by `build()` on a miss."""
        slot = self._store.get(id(trace))
        if slot is None or slot[0]() is not trace:
            self._store.pop(id(trace), None)
            while len(self._store) >= self._traces:
                self._store.pop(next(iter(self._store)), None)
            slot = (weakref.ref(trace, weak_dropper(self, id(trace))), {})
            self._store[id(trace)] = slot
        entries = slot[1]
        value = entries.get(key, _MISSING)
        if value is not _MISSING:
            return value
        value = build()  # a worker thread may fill the cache too (a panel's background work)
        while len(entries) >= self._entries:
            entries.pop(next(iter(entries)), None)
        entries[key] = value
        return value

    def has(self, trace: Any, key: Hashable) -> bool:
        """Whether (trace, key) is cached (nothing is built)."""
        slot = self._store.get(id(trace))
        return slot is not None and slot[0]() is trace and key in slot[1]
