"""The capture side of the forward pass: a scoped key/value store that blocks write into.

Capture is a mode of the forward pass: every module takes an optional `Recorder` and,
when given one, records what it computed under its own scope (``stage1.block0.attn``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch


class CaptureCancelled(RuntimeError):
    """Raised inside the forward pass when the recorder's cancel flag is set."""


class Recorder:
    """Collects detached tensors (and plain numbers) keyed by dotted scope."""

    def __init__(
        self, *, attention: bool = True, mid: bool = True, should_cancel=None, progress=None
    ) -> None:
        """`attention`: compute and record every block's softmax (eager capture); `mid`:
        record the residual stream after each attention branch. A lazy capture turns both
        off and computes them on demand from the recorded block inputs. `attention="mean"`
        records only the heads' mean, `attn_mean` (B·nW, N, N), and the block's output
        comes from that same explicit softmax (computed once, not twice): the rollout's."""
        self.data: dict[str, Any] = {}
        self.attention, self.mid = attention, mid
        self._scope: list[str] = []
        self._should_cancel = should_cancel
        self._progress = progress

    @contextmanager
    def scope(self, name: str) -> Iterator[Recorder]:
        self._scope.append(name)
        try:
            yield self
        finally:
            self._scope.pop()

    def key(self, name: str) -> str:
        return ".".join([*self._scope, name])

    def put(self, name: str, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            value = value.detach()
        self.data[self.key(name)] = value

    def checkpoint(self, done: int, total: int) -> None:
        """Called between stages: reports progress and honours cancellation."""
        if self._should_cancel is not None and self._should_cancel():
            raise CaptureCancelled("capture cancelled")
        if self._progress is not None:
            self._progress(done, total)


def scope(rec: Recorder | None, name: str):
    """`rec.scope(name)` when capturing, a no-op context otherwise."""
    if rec is None:
        return _NULL
    return rec.scope(name)


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        return None


_NULL = _NullContext()
