"""Inference off the GUI thread: captures, shift ablations, on-demand attention, exports.

`InferenceWorker` (lives on the GUI thread) runs its jobs through one `jobs.Jobs` thread.
A new capture supersedes the running one: its `should_cancel` turns true, so `api.capture`
raises `CaptureCancelled` at the next stage boundary, and any result that still arrives
for an old id is dropped; a newer ablation or attention job supersedes an older one the
same way. Results reach the GUI thread through queued signals only:

    finished(request_id, Captured)         failed(request_id, one-line message)
    progress(request_id, done, total)      ablated(request_id, ShiftAblation)
    computed(request_id, key)              exported(request_id, written paths)

What is loaded (request, model, trace) is the session's (`state.Session.loaded`); the
worker's model cache keeps one model, the last one loaded (`MODEL_CACHE_SIZE`), so an old
model is released as soon as another one is loaded. `SWIN_GUI_SYNC=1` (or `sync=True`)
runs jobs on the calling thread, for deterministic tests.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from .jobs import Jobs
from .state import Captured, CaptureRequest, ShiftAblation

__all__ = ["CaptureRequest", "Captured", "InferenceWorker", "ShiftAblation"]

MODEL_CACHE_SIZE = 1  # the model behind what is loaded; never an old one
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


class InferenceWorker(QObject):
    """Runs captures, shift ablations, attention and exports off the GUI thread."""

    started = Signal(int)
    finished = Signal(int, object)  # request id, Captured(request, model, trace)
    failed = Signal(int, str)  # request id, one-line message (any job kind)
    progress = Signal(int, int, int)  # request id, stages done, stages total
    ablated = Signal(int, object)  # request id, ShiftAblation
    computed = Signal(int, object)  # request id, the key of a `compute` job
    exported = Signal(int, object)  # request id, list of written paths
    cancelled = Signal(int)

    def __init__(self, parent: QObject | None = None, sync: bool | None = None) -> None:
        super().__init__(parent)
        from ..model import CaptureCancelled

        configure_torch_threads()
        self.jobs = Jobs(
            self,
            name="swin-gui-inference",
            sync=sync,
            supersedes=("capture", "ablate"),
            cancel_errors=(CaptureCancelled,),
        )
        self.sync = self.jobs.sync
        self._keys: dict[int, Any] = {}
        self._models: OrderedDict[tuple, Any] = OrderedDict()
        self._models_lock = threading.Lock()
        self.jobs.started.connect(self.started)
        self.jobs.done.connect(self._on_done)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.cancelled.connect(self._on_cancelled)
        self.jobs.progress.connect(self._on_progress)
        self.jobs.ended.connect(self._forget)  # stale ones too
        if not self.sync:
            self.jobs._ensure_thread()  # started at once: the first capture does not wait

    # ---- public API --------------------------------------------------------------------------
    def capture(self, request: CaptureRequest) -> int:
        """Start a capture; supersedes (cancels) any capture still running or queued."""
        return self.jobs.submit("capture", lambda p, c: self._capture(request, p, c))

    def ablate(self, model, trace, stage: int, block: int, shift: int = 0) -> int:
        """Re-run block (stage, block) of `trace` with the shift forced to `shift`."""
        from .. import api

        trace_id = id(trace)

        def work(progress, should_cancel):
            out = api.ablate_shift(model, trace, stage, block, shift)
            return ShiftAblation(trace_id, stage, block, shift, out)

        return self.jobs.submit("ablate", work)

    def compute(
        self, key: Any, work: Callable[[], Any], group: str = "compute", delay: float = 0.0
    ) -> int:
        """Run `work()` (fills a cache, e.g. a block's on-demand attention); a newer job of
        the same `group` supersedes an older one not started yet. `computed` carries `key`.
        `delay` s first (on the worker thread: the GUI thread paints the change before the
        job competes with it); a job superseded meanwhile is dropped without running."""
        from ..model import CaptureCancelled

        def job(progress, should_cancel):
            if delay and threading.current_thread() is not threading.main_thread():
                time.sleep(delay)
                if should_cancel():
                    raise CaptureCancelled("superseded")
            return work()

        job_id = self.jobs.next_id()
        self._keys[job_id] = key
        return self.jobs.submit(group, job, job_id, supersede=True)

    def export(
        self,
        trace,
        out_dir,
        overwrite: bool = False,
        cmap: str = "viridis",
        job_id: int | None = None,
    ) -> int:
        """`swin_gui.export.export_image` off the GUI thread; never superseded."""
        from .. import export

        def work(progress, should_cancel):
            return export.export_image(trace, out_dir, overwrite, cmap)

        return self.jobs.submit("export", work, job_id)

    def kind_of(self, request_id: int) -> str | None:
        """'capture' | 'ablate' | 'compute…' | 'export' while the job is in flight (also
        inside the result signal handlers); None once it is done."""
        return self.jobs.kind_of(request_id)

    def is_current(self, request_id: int) -> bool:
        return self.jobs.is_current(request_id)

    def is_running(self) -> bool:
        return self.jobs.is_running()

    def cancel(self) -> None:
        """Supersede everything in flight (results of older ids are dropped)."""
        self.jobs.cancel()

    def shutdown(self) -> None:
        """Cancel, stop the thread and wait for it (no 'QThread destroyed while running')."""
        self.jobs.shutdown()

    def release(self) -> None:
        """Forget the cached model."""
        with self._models_lock:
            self._models.clear()

    # ---- internals -----------------------------------------------------------------------------
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
        return Captured(request, model, trace)

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
            self._models.clear()  # the old model goes before the new one is loaded
        model = api.load_model(str(spec), device=device)
        with self._models_lock:
            self._models[key] = model
            while len(self._models) > MODEL_CACHE_SIZE:
                self._models.popitem(last=False)
        return model

    # ---- results, on the GUI thread -----------------------------------------------------------
    def _on_done(self, request_id: int, result: Any) -> None:
        kind = self.jobs.kind_of(request_id)
        if kind == "capture":
            self.finished.emit(request_id, result)
        elif kind == "ablate":
            self.ablated.emit(request_id, result)
        elif kind is not None and kind.startswith("compute"):
            self.computed.emit(request_id, self._keys.get(request_id))
        else:
            self.exported.emit(request_id, result)

    def _on_failed(self, request_id: int, message: str) -> None:
        self.failed.emit(request_id, message)

    def _on_progress(self, request_id: int, args: tuple) -> None:
        if self.jobs.kind_of(request_id) == "capture":
            self.progress.emit(request_id, *args)

    def _on_cancelled(self, request_id: int) -> None:
        self.cancelled.emit(request_id)

    def _forget(self, request_id: int) -> None:
        self._keys.pop(request_id, None)
