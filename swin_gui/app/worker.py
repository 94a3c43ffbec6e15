"""Inference off the GUI thread.

`InferenceWorker` (lives on the GUI thread) hands jobs to a runner object living in a
`QThread`. Every job gets an increasing id. A new capture supersedes the running one: its
`should_cancel` turns true, so `api.capture` raises `CaptureCancelled` at the next stage
boundary, and any result that still arrives for an old id is dropped. Results reach the
GUI thread through queued signals only:

    finished(request_id, trace)      failed(request_id, one-line message)
    progress(request_id, done, total)   ablated(request_id, block output)
    exported(request_id, written paths)

`SWIN_GUI_SYNC=1` (or `sync=True`) runs jobs on the calling thread, for deterministic tests.
Errors never show a traceback; `SWIN_GUI_DEBUG=1` prints it to stderr.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..errors import debug_log, one_line

MODEL_CACHE_SIZE = 3
_threads_configured = False


def configure_torch_threads() -> int:
    """Once per process: intra-op threads = cores - 1 (the GUI keeps one), unless the
    user already chose with OMP_NUM_THREADS. Returns the thread count torch uses."""
    global _threads_configured
    import torch

    if not _threads_configured:
        _threads_configured = True
        if not os.environ.get("OMP_NUM_THREADS"):
            torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    return torch.get_num_threads()


@dataclass(frozen=True)
class CaptureRequest:
    """What to run: a model spec ("demo", a preset, a path or an nn.Module), an image (path,
    PIL image, uint8 array or tensor), the size mode, the device and a source label."""

    model: Any
    image: Any
    size: str | int = "model"
    device: str = "cpu"
    source: str = ""
    fit: str | None = None  # crop | pad | stretch; None: the checkpoint's convention


@dataclass(frozen=True)
class _Job:
    id: int
    kind: str  # capture | ablate | export
    work: Callable[..., Any]  # work(progress, should_cancel) -> result


class _Runner(QObject):
    """Runs jobs on whatever thread it lives in; reports through signals."""

    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    progress = Signal(int, int, int)

    def __init__(self, is_current: Callable[[_Job], bool]) -> None:
        super().__init__()
        self._is_current = is_current

    @Slot(object)
    def run(self, job: _Job) -> None:
        from ..model import CaptureCancelled

        if not self._is_current(job):  # superseded while queued
            self.cancelled.emit(job.id)
            return
        try:
            result = job.work(
                lambda done, total: self.progress.emit(job.id, done, total),
                lambda: not self._is_current(job),
            )
        except CaptureCancelled:
            self.cancelled.emit(job.id)
        except Exception as e:
            debug_log(e)
            self.failed.emit(job.id, one_line(e))
        else:
            self.done.emit(job.id, result)


class InferenceWorker(QObject):
    """Runs captures, shift ablations and exports off the GUI thread (see module doc)."""

    started = Signal(int)
    finished = Signal(int, object)  # request id, Trace
    failed = Signal(int, str)  # request id, one-line message (any job kind)
    progress = Signal(int, int, int)  # request id, stages done, stages total
    ablated = Signal(int, object)  # request id, (H, W, C) block output with the shift off
    exported = Signal(int, object)  # request id, list of written paths
    cancelled = Signal(int)
    _submit = Signal(object)

    def __init__(self, parent: QObject | None = None, sync: bool | None = None) -> None:
        super().__init__(parent)
        configure_torch_threads()
        self.sync = os.environ.get("SWIN_GUI_SYNC") == "1" if sync is None else sync
        self.model = None  # the model behind the last applied trace
        self.request: CaptureRequest | None = None  # the request behind the last applied trace
        self._requests: dict[int, CaptureRequest] = {}
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = {"capture": 0, "ablate": 0}
        self._kinds: dict[int, str] = {}
        self._models: OrderedDict[tuple, Any] = OrderedDict()
        self._models_lock = threading.Lock()
        self._runner = _Runner(self._is_current)
        self._thread: QThread | None = None
        if not self.sync:
            self._thread = QThread()
            self._thread.setObjectName("swin-gui-inference")
            self._runner.moveToThread(self._thread)
            self._thread.finished.connect(self._runner.deleteLater)
            self._submit.connect(self._runner.run)
            self._thread.start()
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._runner.progress.connect(self._on_progress)
        self._runner.cancelled.connect(self._on_cancelled)

    # ---- public API --------------------------------------------------------------------------
    def capture(self, request: CaptureRequest) -> int:
        """Start a capture; supersedes (cancels) any capture still running or queued."""
        job_id = next(self._ids)
        self._requests[job_id] = request
        return self._start("capture", lambda p, c: self._capture(request, p, c), job_id)

    def ablate(self, trace, stage: int, block: int, shift: int = 0, model=None) -> int:
        """Re-run block (stage, block) of `trace` with the shift forced to `shift`."""
        from .. import api

        model = model or self.model
        if model is None:
            raise ValueError("no model loaded yet")
        return self._start(
            "ablate", lambda p, c: api.ablate_shift(model, trace, stage, block, shift)
        )

    def export(self, trace, out_dir, overwrite: bool = False, cmap: str = "viridis") -> int:
        """`swin_gui.export.export_image` off the GUI thread; never superseded."""
        from ..export import export_image

        return self._start("export", lambda p, c: export_image(trace, out_dir, overwrite, cmap))

    def kind_of(self, request_id: int) -> str | None:
        """'capture' | 'ablate' | 'export' while the job is known (also inside the result
        signal handlers); None once it is done."""
        return self._kinds.get(request_id)

    def is_current(self, request_id: int) -> bool:
        kind = self._kinds.get(request_id)
        return kind is not None and (kind == "export" or self._latest[kind] == request_id)

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def cancel(self) -> None:
        """Supersede everything in flight (results of older ids are dropped)."""
        for kind in self._latest:
            self._latest[kind] = next(self._ids)

    def shutdown(self) -> None:
        """Cancel, stop the thread and wait for it (no 'QThread destroyed while running')."""
        self.cancel()
        if self._thread is not None and self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()

    # ---- internals -----------------------------------------------------------------------------
    def _start(self, kind: str, work: Callable[..., Any], job_id: int | None = None) -> int:
        job = _Job(job_id or next(self._ids), kind, work)
        self._kinds[job.id] = kind
        if kind in self._latest:
            self._latest[kind] = job.id
        self.started.emit(job.id)
        if self.sync:
            self._runner.run(job)
        else:
            self._submit.emit(job)
        return job.id

    def _is_current(self, job: _Job) -> bool:
        return job.kind == "export" or self._latest.get(job.kind) == job.id

    def _capture(self, request: CaptureRequest, progress, should_cancel):
        from .. import api
        from ..model import CaptureCancelled

        model = self._load_model(request.model, request.device)
        if should_cancel():
            raise CaptureCancelled("capture cancelled")
        meta = {"size_mode": str(request.size)}  # recorded in the frozen trace
        if request.source:
            meta["source"] = request.source
        trace = api.capture(
            model,
            request.image,
            request.size,
            fit=request.fit,
            progress=progress,
            should_cancel=should_cancel,
            meta=meta,
        )
        return trace, model

    def _load_model(self, spec: Any, device: str):
        """`api.load_model`, cached by (spec, device); an nn.Module is used as given."""
        from torch import nn

        from .. import api

        if isinstance(spec, nn.Module):
            return spec.to(api.resolve_device(device)).eval()
        key = (str(spec), str(device))
        with self._models_lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        model = api.load_model(str(spec), device=device)
        with self._models_lock:
            self._models[key] = model
            while len(self._models) > MODEL_CACHE_SIZE:
                self._models.popitem(last=False)
        return model

    # ---- results, on the GUI thread -----------------------------------------------------------
    def _on_done(self, request_id: int, result: Any) -> None:
        kind = self._kinds.get(request_id)
        try:
            if kind is None or not self.is_current(request_id):
                return  # stale: a newer request superseded this one
            if kind == "capture":
                trace, self.model = result
                self.request = self._requests.get(request_id)
                self.finished.emit(request_id, trace)
            elif kind == "ablate":
                self.ablated.emit(request_id, result)
            else:
                self.exported.emit(request_id, result)
        finally:
            self._forget(request_id)

    def _on_failed(self, request_id: int, message: str) -> None:
        try:
            if self.is_current(request_id):
                self.failed.emit(request_id, message)
        finally:
            self._forget(request_id)

    def _on_progress(self, request_id: int, done: int, total: int) -> None:
        if self._latest["capture"] == request_id:
            self.progress.emit(request_id, done, total)

    def _on_cancelled(self, request_id: int) -> None:
        self._forget(request_id)
        self.cancelled.emit(request_id)

    def _forget(self, request_id: int) -> None:
        self._kinds.pop(request_id, None)
        self._requests.pop(request_id, None)
