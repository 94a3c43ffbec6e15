"""The capture side of the forward pass: a scoped key/value store that blocks write into.

Capture is a mode of the forward pass: every module takes a `Recorder` and records what it
computed under its own scope (``stage1.block0.attn``). The plain forward pass gets
`NULL`, a recorder that records nothing, so the model code has no "capturing?" branches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import torch


class CaptureCancelled(RuntimeError):
    """Raised inside the forward pass when the recorder's cancel flag is set."""


class Recorder:
    """Collects detached tensors (and plain numbers) keyed by dotted scope.

    Args:
        attention: compute and record every block's softmax (eager capture); "mean"
            records only the heads' mean, `attn_mean` (B·nW, N, N), and the block's output
            comes from that same explicit softmax (computed once): the rollout's.
        mid: record the residual stream after each attention branch. A lazy capture turns
            both off and computes them on demand from the recorded block inputs.
        should_cancel: called between stages; True raises `CaptureCancelled`.
        progress: called between stages as progress(done, total).
    """

    def __init__(
        self, *, attention: bool = True, mid: bool = True, should_cancel=None, progress=None
    ) -> None:
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
        """Record `value` under the current scope; None records nothing."""
        if value is None:
            return
        if isinstance(value, torch.Tensor):
            value = value.detach()
        self.data[self.key(name)] = value

    def checkpoint(self, done: int, total: int) -> None:
        """Called between stages: reports progress and honours cancellation."""
        if self._should_cancel is not None and self._should_cancel():
            raise CaptureCancelled("capture cancelled")
        if self._progress is not None:
            self._progress(done, total)

    def to_host(self) -> dict[str, Any]:
        """`data` with every tensor on the CPU, copied back in one go: the copies are queued
        without waiting (pinned, non-blocking on CUDA) and the device is synchronised once
        at the end, never inside the forward pass. CPU tensors are returned as they are."""
        on_device = [k for k, v in self.data.items() if _on_accelerator(v)]
        if not on_device:
            return dict(self.data)
        host = dict(self.data)
        for k in on_device:
            host[k] = self.data[k].to("cpu", non_blocking=True)
        device = self.data[on_device[0]].device
        torch.accelerator.synchronize(device)  # the one wait for all the copies
        return host


class NullRecorder(Recorder):
    """Records nothing: what the plain forward pass runs with."""

    def __init__(self) -> None:
        super().__init__(attention=False, mid=False)

    def scope(self, name: str):  # type: ignore[override]
        return nullcontext(self)

    def put(self, name: str, value: Any) -> None:
        return None

    def checkpoint(self, done: int, total: int) -> None:
        return None


NULL = NullRecorder()


def recorder(rec: Recorder | None) -> Recorder:
    """`rec`, or `NULL` for None (callers may still pass None for "no capture")."""
    return NULL if rec is None else rec


def _on_accelerator(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.device.type != "cpu"
