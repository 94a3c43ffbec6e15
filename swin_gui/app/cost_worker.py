"""The cost sweep off the GUI thread.

`CostWorker` (on the GUI thread) starts `swin_gui.costlab.sweep` on a `QThread` made for
that run and quit when it ends, so an idle panel holds no thread. `cancel()` sets an event
the sweep checks between two measurements (a measurement itself is never interrupted).
Results reach the GUI thread through queued signals only:

    progress(done, total, what)   finished(SweepResult)   failed(one-line message)
    cancelled()

A run started while another is in flight supersedes it: the old one is cancelled and its
late signals are dropped. `SWIN_GUI_SYNC=1` (or `sync=True`) runs the sweep on the calling
thread, for deterministic tests.
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from ..errors import debug_log, one_line

# Threads (and their runners) outlive a worker that is deleted mid-run: a QThread destroyed
# while running aborts the process. Finished ones are let go at the next run or join.
_LIVE: set[tuple[QThread, QObject]] = set()


def _prune() -> None:
    for pair in [p for p in _LIVE if p[0].isFinished()]:
        _LIVE.discard(pair)


class _Runner(QObject):
    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    progress = Signal(int, int, int, str)

    def __init__(self, job_id: int, kwargs: dict, cancel: threading.Event) -> None:
        super().__init__()
        self.job_id, self.kwargs, self.cancel = job_id, kwargs, cancel

    @Slot()
    def run(self) -> None:
        from ..costlab import SweepCancelled, sweep

        try:
            result = sweep(
                progress=lambda d, t, w: self.progress.emit(self.job_id, d, t, w),
                should_cancel=self.cancel.is_set,
                **self.kwargs,
            )
        except SweepCancelled:
            self.cancelled.emit(self.job_id)
        except Exception as e:
            debug_log(e)
            self.failed.emit(self.job_id, one_line(e))
        else:
            self.done.emit(self.job_id, result)
        finally:  # one run per thread: end its event loop (also when the worker is gone)
            app, thread = QCoreApplication.instance(), self.thread()
            if app is not None and thread is not app.thread():
                thread.quit()


class CostWorker(QObject):
    """Runs cost sweeps (see the module docstring)."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None, sync: bool | None = None) -> None:
        super().__init__(parent)
        self.sync = os.environ.get("SWIN_GUI_SYNC") == "1" if sync is None else sync
        self._ids = itertools.count(1)
        self._current = 0
        self._cancel = threading.Event()
        self._thread: QThread | None = None
        self._runner: _Runner | None = None
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def is_running(self) -> bool:
        return self._current != 0

    def run(self, **kwargs: Any) -> int:
        """Start `costlab.sweep(**kwargs)`; returns the run's id."""
        self.cancel()
        self._join()
        job_id = next(self._ids)
        self._current, self._cancel = job_id, threading.Event()
        self._runner = _Runner(job_id, kwargs, self._cancel)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._runner.cancelled.connect(self._on_cancelled)
        self._runner.progress.connect(self._on_progress)
        if self.sync:
            self._runner.run()
            return job_id
        _prune()
        self._thread = QThread()
        self._thread.setObjectName("swin-gui-cost")
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self.destroyed.connect(self._cancel.set)  # deleted mid-run: stop at the next boundary
        _LIVE.add((self._thread, self._runner))
        self._thread.start()
        return job_id

    def cancel(self) -> None:
        """Ask the sweep in flight to stop at its next measurement boundary."""
        self._cancel.set()

    def shutdown(self) -> None:
        """Cancel and wait for the thread (at most one measurement)."""
        self.cancel()
        self._current = 0
        self._join()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None
        _prune()

    def _finish(self, job_id: int) -> bool:
        """True when `job_id` is the current run (which is now over)."""
        if job_id != self._current:
            return False
        self._current = 0
        if self._thread is not None:
            self._thread.quit()
        return True

    def _on_done(self, job_id: int, result) -> None:
        if self._finish(job_id):
            self.finished.emit(result)

    def _on_failed(self, job_id: int, message: str) -> None:
        if self._finish(job_id):
            self.failed.emit(message)

    def _on_cancelled(self, job_id: int) -> None:
        if self._finish(job_id):
            self.cancelled.emit()

    def _on_progress(self, job_id: int, done: int, total: int, what: str) -> None:
        if job_id == self._current:
            self.progress.emit(done, total, what)
