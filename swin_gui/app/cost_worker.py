"""The cost sweep off the GUI thread.

`CostWorker` (on the GUI thread) runs `swin_gui.costlab.sweep` through a `jobs.Jobs`
runner whose thread ends when the sweep does, so an idle panel holds no thread. `cancel()`
makes the sweep stop at its next measurement boundary (a measurement itself is never
interrupted). Results reach the GUI thread through queued signals only:

    progress(done, total, what)   finished(SweepResult)   failed(one-line message)
    cancelled()

A run started while another is in flight supersedes it: the old one is cancelled and its
late signals are dropped. `SWIN_GUI_SYNC=1` (or `sync=True`) runs the sweep on the calling
thread, for deterministic tests.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from .jobs import Jobs


class CostWorker(QObject):
    """Runs cost sweeps (see the module docstring)."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None, sync: bool | None = None) -> None:
        super().__init__(parent)
        from ..costlab import SweepCancelled

        self.jobs = Jobs(
            self,
            name="swin-gui-cost",
            sync=sync,
            supersedes=("sweep",),
            cancel_errors=(SweepCancelled,),
            keep_thread=False,
        )
        self.sync = self.jobs.sync
        self._current = 0
        self.jobs.done.connect(self._on_done)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.cancelled.connect(self._on_cancelled)
        self.jobs.progress.connect(self._on_progress)
        self.jobs.ended.connect(self._on_cancelled)  # cancelled, yet it finished: dropped
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    @property
    def _thread(self) -> QThread | None:
        return self.jobs.thread_

    def is_running(self) -> bool:
        return self._current != 0

    def run(self, **kwargs: Any) -> int:
        """Start `costlab.sweep(**kwargs)`; returns the run's id."""
        from ..costlab import sweep

        job_id = self.jobs.next_id()
        self._current = job_id

        def work(progress, should_cancel):
            return sweep(progress=progress, should_cancel=should_cancel, **kwargs)

        return self.jobs.submit("sweep", work, job_id)

    def cancel(self) -> None:
        """Ask the sweep in flight to stop at its next measurement boundary."""
        self.jobs.cancel()

    def shutdown(self) -> None:
        """Cancel and wait for the thread (at most one measurement)."""
        self._current = 0
        self.jobs.shutdown()

    def _finish(self, job_id: int) -> bool:
        """True when `job_id` is the current run (which is now over)."""
        if job_id != self._current:
            return False
        self._current = 0
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

    def _on_progress(self, job_id: int, args: tuple) -> None:
        if job_id == self._current:
            self.progress.emit(*args)
