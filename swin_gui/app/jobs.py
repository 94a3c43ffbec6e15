"""One job runner for everything the app computes off the GUI thread.

`Jobs` (lives on the GUI thread) hands jobs to a runner object living in one `QThread`, one
job at a time, in order. Every job has a kind ("capture", "attention", "sweep", ...) and an
increasing id. A job of a kind that `supersedes` makes the older jobs of that kind stale:
a stale job still queued is skipped, a running one sees `should_cancel()` turn true (the
work raises one of `cancel_errors` at its next boundary), and any result that still
arrives for a stale id is dropped. Results reach the GUI thread through queued signals:

    started(id)   done(id, result)   failed(id, one-line message)
    progress(id, args)   cancelled(id)   ended(id): every job, current or stale

`sync=True` (or `SWIN_GUI_SYNC=1`) runs each job on the calling thread before `submit`
returns, for deterministic tests. `keep_thread=False` lets the thread end when no job is
left (an idle panel holds no thread). A thread whose owner is deleted mid-job is kept
alive until that job ends (a QThread destroyed while running aborts the process).
Errors never show a traceback; `SWIN_GUI_DEBUG=1` prints it to stderr.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..errors import debug_log, one_line

# Threads (and their runners) outlive an owner deleted mid-job; finished ones are let go
# at the next start.
_LIVE: set[tuple[QThread, QObject]] = set()


def _prune() -> None:
    for pair in [p for p in _LIVE if p[0].isFinished()]:
        _LIVE.discard(pair)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    work: Callable[..., Any]  # work(progress, should_cancel) -> result; progress(*args)


class _Runner(QObject):
    """Runs jobs on whatever thread it lives in; reports through signals."""

    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    progress = Signal(int, object)

    def __init__(self, is_current: Callable[[Job], bool], cancel_errors: tuple) -> None:
        super().__init__()
        self._is_current = is_current
        self._cancel_errors = cancel_errors

    @Slot(object)
    def run(self, job: Job) -> None:
        if not self._is_current(job):  # superseded while queued
            self.cancelled.emit(job.id)
            return
        try:
            result = job.work(
                lambda *args: self.progress.emit(job.id, args),
                lambda: not self._is_current(job),
            )
        except self._cancel_errors:
            self.cancelled.emit(job.id)
        except Exception as e:
            debug_log(e)
            self.failed.emit(job.id, one_line(e))
        else:
            self.done.emit(job.id, result)


class Jobs(QObject):
    """Runs jobs off the GUI thread, one at a time (see the module docstring)."""

    started = Signal(int)
    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    progress = Signal(int, object)
    ended = Signal(int)
    _submit = Signal(object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        name: str = "swin-gui-jobs",
        sync: bool | None = None,
        supersedes: tuple[str, ...] = (),
        cancel_errors: tuple[type[BaseException], ...] = (),
        keep_thread: bool = True,
    ) -> None:
        super().__init__(parent)
        self.sync = os.environ.get("SWIN_GUI_SYNC") == "1" if sync is None else sync
        self.name, self.keep_thread = name, keep_thread
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = dict.fromkeys(supersedes, 0)
        self._kinds: dict[int, str] = {}
        self._cancel_errors = cancel_errors
        self._runner = self._new_runner()
        self.thread_: QThread | None = None
        self._quitting = False

    # ---- public API --------------------------------------------------------------------------
    def next_id(self) -> int:
        """An id for a job about to be submitted (to file things under it first)."""
        return next(self._ids)

    def submit(
        self,
        kind: str,
        work: Callable[..., Any],
        job_id: int | None = None,
        supersede: bool = False,
    ) -> int:
        """Queue `work(progress, should_cancel)`; returns the job id. A job of a
        superseding kind (named at construction, or `supersede`) makes every older job of
        that kind stale."""
        job = Job(job_id or next(self._ids), kind, work)
        self._kinds[job.id] = kind
        if supersede or kind in self._latest:
            self._latest[kind] = job.id
        self.started.emit(job.id)
        if self.sync:
            self._runner.run(job)
        else:
            self._ensure_thread()
            self._submit.emit(job)
        return job.id

    def kind_of(self, job_id: int) -> str | None:
        """The job's kind while it is in flight (also inside the result handlers)."""
        return self._kinds.get(job_id)

    def is_current(self, job_id: int) -> bool:
        kind = self._kinds.get(job_id)
        return kind is not None and self._latest.get(kind, job_id) == job_id

    def in_flight(self) -> int:
        return len(self._kinds)

    def is_running(self) -> bool:
        """Whether the worker thread runs now."""
        return self.thread_ is not None and self.thread_.isRunning()

    def cancel(self, kind: str | None = None) -> None:
        """Make every job in flight (of `kind`, or of any superseding kind) stale."""
        for k in self._latest:
            if kind is None or k == kind:
                self._latest[k] = next(self._ids)

    def shutdown(self) -> None:
        """Cancel, stop the thread and wait for it (at most the job running now)."""
        self.cancel()
        if self.thread_ is not None:
            self.thread_.quit()
            self.thread_.wait()
            self.thread_ = None
            self._submit.disconnect(self._runner.run)
            self._runner = self._new_runner()  # the old one stays in the ended thread
        _prune()

    # ---- internals -----------------------------------------------------------------------------
    def _new_runner(self) -> _Runner:
        runner = _Runner(self._is_current, self._cancel_errors)
        runner.done.connect(self._on_done)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        runner.progress.connect(self._on_progress)
        return runner

    def _is_current(self, job: Job) -> bool:
        return self._latest.get(job.kind, job.id) == job.id

    def _ensure_thread(self) -> None:
        thread = self.thread_
        if thread is not None and self._quitting:  # ending after its last job: restart it
            thread.wait()
            self._quitting = False
        if thread is None:
            _prune()
            thread = self.thread_ = QThread()
            thread.setObjectName(self.name)
            self._runner.moveToThread(thread)
            self._submit.connect(self._runner.run)
            _LIVE.add((thread, self._runner))
            # deleted mid-job: every job goes stale and the thread ends after this one
            latest, ids = self._latest, self._ids
            self.destroyed.connect(lambda *_: _abandon(thread, latest, ids))
        if not thread.isRunning():
            thread.start()

    def _ended(self, job_id: int) -> None:
        self._kinds.pop(job_id, None)
        self.ended.emit(job_id)
        if not self.keep_thread and not self._kinds and self.thread_ is not None:
            self.thread_.quit()
            self._quitting = True

    def _on_done(self, job_id: int, result: Any) -> None:
        try:
            if self.is_current(job_id):
                self.done.emit(job_id, result)
        finally:
            self._ended(job_id)

    def _on_failed(self, job_id: int, message: str) -> None:
        try:
            if self.is_current(job_id):
                self.failed.emit(job_id, message)
        finally:
            self._ended(job_id)

    def _on_cancelled(self, job_id: int) -> None:
        try:
            self.cancelled.emit(job_id)
        finally:
            self._ended(job_id)

    def _on_progress(self, job_id: int, args: tuple) -> None:
        if self.is_current(job_id):
            self.progress.emit(job_id, args)


def _abandon(thread: QThread, latest: dict, ids) -> None:
    for k in latest:
        latest[k] = next(ids)
    with contextlib.suppress(RuntimeError):  # already shut down and deleted
        thread.quit()
