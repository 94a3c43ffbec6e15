"""The Explain panel (`render.explain.figure_explain`): a method's map over the image with
the stage's window grid, the selected token's reach and erf with the shift on and off, and
the reach area vs depth for both networks.

Controls: the method, the target class ("top": the top-1 class; for rollout, "top" is the
plain rollout and a named class the Chefer et al. variant), and shift on/off for the map.
Stage, block and token come from the shared selection, and a click on any picture selects
the token under it. Every change starts one job on an `ExplainWorker` thread, with
progress; a newer job supersedes (cancels) an older one and an old result is
dropped, so the figure never blocks a token, head or block change: until the new result
arrives the last one stays up, marked as updating. `SWIN_GUI_SYNC=1` runs jobs on the
calling thread (tests). The model is the session's (`session.model`) or `panel.model`.
"""

from __future__ import annotations

import atexit
import itertools
import os
import threading

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QProgressBar

from ...errors import debug_log, one_line
from ...explain.view import Cancelled, ExplainView, clamp_token, compute_view
from ...i18n import tr
from ...render import figure as F
from ...render.explain import figure_explain
from ...render.selection import Selection
from .base import ElidedLabel, Panel

METHODS = ("reach", "erf", "gradcam", "scorecam", "rollout")
_LIVE: set = set()  # (thread, runner) of jobs in flight, until they finish
_JOB_LOCK = threading.Lock()
_QUITTING = threading.Event()  # set when the application quits: every job stops
_HOOKED: list = []


def join_all() -> None:
    """Stop every job (at its next check) and wait for the threads: a QThread destroyed
    while running aborts the process. Runs when the application quits and at exit."""
    _QUITTING.set()
    for thread, runner in list(_LIVE):
        thread.quit()
        thread.wait()
        _LIVE.discard((thread, runner))


atexit.register(join_all)


class _Runner(QObject):
    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    progress = Signal(int, int, int)

    def __init__(self, job_id: int, work) -> None:
        super().__init__()
        self.job_id, self.work = job_id, work

    @Slot()
    def run(self) -> None:
        job_id = self.job_id
        try:
            with _JOB_LOCK:  # one job at a time: the methods toggle flags on the model
                result = self.work(lambda d, t: self.progress.emit(job_id, d, t))
        except Cancelled:
            self.cancelled.emit(job_id)
        except Exception as e:
            debug_log(e)
            self.failed.emit(job_id, one_line(e))
        else:
            self.done.emit(job_id, result)
        finally:  # one job per thread: end its event loop
            app, thread = QCoreApplication.instance(), self.thread()
            if app is not None and thread is not app.thread():
                thread.quit()


class ExplainWorker(QObject):
    """Runs `submit(work)` jobs, each on a thread of its own that ends with the job (an
    idle panel holds no thread); a newer job supersedes the older ones, whose
    `should_cancel()` turns true and whose results and progress are dropped.
    `work(progress, should_cancel)`."""

    finished = Signal(int, object)
    failed = Signal(int, str)
    progress = Signal(int, int, int)

    def __init__(self, parent: QObject | None = None, sync: bool | None = None) -> None:
        super().__init__(parent)
        self.sync = os.environ.get("SWIN_GUI_SYNC") == "1" if sync is None else sync
        self._ids = itertools.count(1)
        self.latest = 0

    def submit(self, work) -> int:
        job_id = next(self._ids)
        self.latest = job_id

        def guarded(progress):
            if self.latest != job_id:  # superseded while waiting for the lock
                raise Cancelled("superseded")
            return work(progress, lambda: self.latest != job_id or _QUITTING.is_set())

        runner = _Runner(job_id, guarded)
        runner.done.connect(self._on_done)
        runner.failed.connect(self._on_failed)
        runner.progress.connect(self._on_progress)
        if self.sync:
            runner.run()
            return job_id
        for pair in [p for p in _LIVE if p[0].isFinished()]:
            _LIVE.discard(pair)
        app = QCoreApplication.instance()
        if app is not None and app not in _HOOKED:
            _HOOKED.append(app)
            app.aboutToQuit.connect(join_all)
        thread = QThread()
        thread.setObjectName("swin-gui-explain")
        runner.moveToThread(thread)
        thread.started.connect(runner.run)
        _LIVE.add((thread, runner))  # kept until finished, even if the panel goes first
        thread.start()
        return job_id

    def cancel(self) -> None:
        self.latest = next(self._ids)

    def is_running(self) -> bool:
        return any(not t.isFinished() for t, _ in _LIVE)

    def shutdown(self) -> None:
        """Cancel and wait for the job threads (each stops at its next check)."""
        self.cancel()
        for thread, runner in list(_LIVE):
            thread.wait()
            _LIVE.discard((thread, runner))

    def _on_done(self, job_id: int, result) -> None:
        if job_id == self.latest:
            self.finished.emit(job_id, result)

    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id == self.latest:
            self.failed.emit(job_id, message)

    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        if job_id == self.latest:
            self.progress.emit(job_id, done, total)


class ExplainPanel(Panel):
    """Explain lab (`view_name` "explain")."""

    view_name = "explain"
    watches = ("stage", "block", "token", "colormap")

    def tooltip_text(self) -> str:
        return tr(
            "Explain",
            "Where the model looks (Grad-CAM, Score-CAM, rollout) and how far information travels "
            "(erf, reach), with the shift on and off: SW-MSA is what lets a token's reach grow "
            "within a stage.",
        )

    def __init__(self, session, parent=None) -> None:
        self.model = None  # set explicitly (tests, scripts); else the main window's model
        self.result: ExplainView | None = None
        self._result_key: tuple | None = None
        self._pending: tuple | None = None
        self.messages: list[str] = []
        super().__init__(session, parent)
        self.method_box = QComboBox()
        self.method_box.addItems(METHODS)  # the methods' own names, in every language
        self.target_box = QComboBox()
        self.shift_box = QCheckBox()
        self.shift_box.setChecked(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setMaximumWidth(120)
        self.status = ElidedLabel(1)
        self.method_label, self.class_label = QLabel(), QLabel()
        self._control_texts()
        row = QHBoxLayout()
        for w in (
            self.method_label,
            self.method_box,
            self.class_label,
            self.target_box,
            self.shift_box,
            self.progress_bar,
        ):
            row.addWidget(w)
        row.addStretch(1)
        self.layout().insertLayout(1, row)
        self.layout().insertWidget(2, self.status)
        self.worker = ExplainWorker(self)
        self.worker.finished.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)
        self.worker.progress.connect(self._on_progress)
        self.method_box.currentIndexChanged.connect(self._on_controls)
        self.target_box.currentIndexChanged.connect(self._on_controls)
        self.shift_box.toggled.connect(self._on_controls)
        self._fill_targets()
        self.refresh()

    def _control_texts(self) -> None:
        self.method_box.setToolTip(
            tr("Explain", "reach/erf: the selected token; the CAMs and rollout: a class")
        )
        self.target_box.setToolTip(
            tr(
                "Explain",
                "top = the top-1 class (rollout: plain rollout); a class name: "
                "that class (rollout: Chefer et al. 2021)",
            )
        )
        self.shift_box.setText(tr("Explain", "shift"))
        self.shift_box.setToolTip(
            tr("Explain", "off: every block's shift forced to 0 (W-MSA only)")
        )
        self.method_label.setText(tr("Explain", "method"))
        self.class_label.setText(tr("Explain", "class"))
        if self.target_box.count():
            self.target_box.setItemText(0, tr("Explain", "top"))

    def retranslate(self) -> None:
        self._control_texts()
        super().retranslate()

    # ---- what to compute ------------------------------------------------------------------
    def current_model(self):
        if self.model is not None:
            return self.model
        return self.session.model

    def request_key(self, trace, sel: Selection) -> tuple:
        token = clamp_token(trace, sel.stage, sel.token)
        target = self.target_box.currentIndex() - 1 if hasattr(self, "target_box") else -1
        method = self.method_box.currentText() if hasattr(self, "method_box") else "reach"
        shift = self.shift_box.isChecked() if hasattr(self, "shift_box") else True
        model = self.current_model()
        return (id(trace), sel.stage, sel.block, token, method, target, shift, id(model))

    def make_figure(self, trace, selection: Selection) -> F.Figure:
        """The latest result while it belongs to this trace (marked as updating when the
        selection has moved on); for a new trace, the model-free reach until one arrives."""
        key = self.request_key(trace, selection)
        same_trace = self._result_key is not None and self._result_key[0] == key[0]
        if self.result is None or not same_trace:
            return figure_explain(trace, selection, None)
        fig = figure_explain(trace, selection, self.result)
        if self._result_key != key:
            notes = (tr("Explain", "updating for the new selection…"), *fig.notes)
            fig = F.Figure(fig.title, fig.plots, notes, fig.data, fig.view)
        return fig

    def refresh(self) -> None:
        super().refresh()
        trace = self.session.trace
        if trace is not None and hasattr(self, "worker"):
            key = self.request_key(trace, self.session.selection)
            if key != self._result_key and key != self._pending:
                self._start(trace, self.session.selection, key)

    def _start(self, trace, sel: Selection, key: tuple) -> None:
        _, stage, block, token, method, target, shift, _ = key
        model = self.current_model()
        tgt = None if target < 0 else target
        self._pending = key
        self.progress_bar.setValue(0)
        self.status.set_full_text(
            tr(
                "Explain",
                "computing {method} for stage {stage} block {block} token ({r}, {c})…",
                method=method,
                stage=stage,
                block=block,
                r=token[0],
                c=token[1],
            )
        )

        def work(progress, should_cancel):
            return key, compute_view(
                model,
                trace,
                stage,
                block,
                token,
                method,
                tgt,
                shift,
                lambda d, t: progress(d, t),
                should_cancel,
            )

        self.worker.submit(work)

    # ---- results --------------------------------------------------------------------------
    def _on_result(self, _job: int, payload) -> None:
        key, view = payload
        self.result, self._result_key, self._pending = view, key, None
        self.progress_bar.setValue(100)
        self.status.set_full_text(
            f"{view.method} · " + (self.figure.notes[0] if self.figure else "")
        )
        super().refresh()
        if self.figure is not None:
            self.status.set_full_text(self.figure.notes[0])

    def _on_failed(self, _job: int, message: str) -> None:
        self._pending = None
        self.status.set_full_text(tr("Explain", "failed: {message}", message=message))
        self.messages.append(message)
        self.session.message.emit(tr("Explain", "explain: {message}", message=message))

    def _on_progress(self, _job: int, done: int, total: int) -> None:
        self.progress_bar.setValue(int(100 * done / max(total, 1)))

    def _on_controls(self, *_args) -> None:
        self._request_refresh()

    def _on_trace_changed(self, trace) -> None:
        self._fill_targets()
        super()._on_trace_changed(trace)

    def _fill_targets(self) -> None:
        trace = self.session.trace
        n = 0 if trace is None or trace.logits is None else len(trace.logits)
        names = [tr("Explain", "top")] + [trace.class_name(i) for i in range(n)]
        if [self.target_box.itemText(i) for i in range(self.target_box.count())] == names:
            return
        self.target_box.blockSignals(True)
        self.target_box.clear()
        self.target_box.addItems(names)
        self.target_box.blockSignals(False)
