"""The controller: what the app does, with Qt signals and no widgets.

It owns the session (what is loaded and the selection) and the worker, and runs captures,
the shift ablation, the background attention panels wait for, exports and the recent
files. The window, its menus, toolbar and docks call it and listen to its signals; it can
be driven and tested without a single widget:

    started(text)            a job the user waits for began ("inferring…")
    progressed(done, total, text)   stages of a capture, with the time left
    idle()                   that job ended
    status(text, error)      one line for the status bar
    failed(title, message)   a one-line failure (the window shows a box unless quiet)
    applied(trace)           a capture was loaded; `captureFailed(message)` when not
    requestChanged(request)  what the toolbar shows (also after a failed capture)
    exported(paths)          everything for an image was written
    recentChanged()          the recent-files list changed

Loading something new drops the old trace, its ablation and its caches with it, and the
old model (the worker keeps one model only).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..i18n import tr
from ..render.registry import VIEWS
from ..render.selection import Selection
from .settings import AppSettings
from .state import Captured, CaptureRequest, Pending, Session, ShiftAblation
from .worker import InferenceWorker

FRAME_S = 0.02  # what a panel's background job leaves the GUI thread before it starts

CHECKPOINT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")


def classify_path(path: str | Path) -> str:
    """'hf' for a folder, 'checkpoint' for weight files, 'image' for anything else."""
    p = Path(path)
    if p.is_dir():
        return "hf"
    return "checkpoint" if p.suffix.lower() in CHECKPOINT_SUFFIXES else "image"


class Controller(QObject):
    """Captures, ablation, background attention, export and recent files (module doc)."""

    started = Signal(str)
    progressed = Signal(int, int, str)
    idle = Signal()
    status = Signal(str, bool)
    failed = Signal(str, str)
    applied = Signal(object)
    captureFailed = Signal(str)
    requestChanged = Signal(object)
    exported = Signal(object)
    recentChanged = Signal()

    def __init__(
        self,
        request: CaptureRequest,
        settings: AppSettings | None = None,
        *,
        quiet: bool = False,
        sync: bool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.quiet = quiet  # a scripted screenshot: remember nothing
        self.session = Session(self)
        self.session.request = request
        self.session.background = self._compute
        self.worker = InferenceWorker(self, sync)
        # before a capture: the request to run (possibly changed), or None to cancel
        self.confirm: Callable[[CaptureRequest], CaptureRequest | None] | None = None
        self.last_error: str | None = None
        self._capture_started = time.perf_counter()
        self._ablate_key: tuple | None = None
        self._computing: dict[Any, int] = {}  # Pending key -> job id
        self._exports: dict[int, tuple] = {}  # job id -> (trace, selection, overwrite, folder)
        w = self.worker
        w.started.connect(self._on_started)
        w.progress.connect(self._on_progress)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.ablated.connect(self._on_ablated)
        w.computed.connect(self._on_computed)
        w.exported.connect(self._on_exported)
        w.jobs.ended.connect(self._on_ended)
        self.session.selectionChanged.connect(self._maybe_ablate)

    @property
    def request(self) -> CaptureRequest:
        """What is loaded, or about to be (the session's request)."""
        return self.session.request

    # ---- capture -----------------------------------------------------------------------------
    def capture(self, **changes) -> int:
        """Capture the session's request changed by model/image/size/device/source/fit; -1
        when `confirm` cancels (e.g. a capture too big for the free memory)."""
        request = replace(self.session.request, **changes)
        if self.confirm is not None:
            request = self.confirm(request)
            if request is None:
                self.status.emit(tr("Main", "capture cancelled: the image stays as it was"), False)
                return -1
        self._capture_started = time.perf_counter()
        return self.worker.capture(request)

    def open_image(self, image: Any, source: str) -> int:
        return self.capture(image=image, source=source)

    def set_model(self, spec: Any) -> int:
        return self.capture(model=spec)

    def open_path(self, path: str | Path) -> int:
        """Open a file or folder as an image or a model, by what it is."""
        p = Path(path).expanduser()
        self.settings.set_last_folder(p)
        if classify_path(p) == "image":
            return self.open_image(p, str(p))
        return self.set_model(str(p))

    def unload(self) -> None:
        """Nothing loaded any more: trace, model, ablation and caches go."""
        self.worker.cancel()
        self.worker.release()
        self.session.unload()

    def shutdown(self) -> None:
        self.worker.shutdown()

    def _on_started(self, job_id: int) -> None:
        if self.worker.kind_of(job_id) == "capture":
            self.started.emit(tr("Main", "inferring…"))

    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        text = tr("Main", "inferring… {done}/{total} stages", done=done, total=total)
        elapsed = time.perf_counter() - self._capture_started
        if 0 < done < total and elapsed > 1.0:  # the stages so far predict the rest
            left = elapsed / done * (total - done)
            text += tr("Main", " · about {s} s left", s=round(left))
        self.progressed.emit(done, total, text)

    def _on_finished(self, job_id: int, captured: Captured) -> None:
        self._ablate_key = None
        self._computing.clear()
        self.session.load(captured)  # the old trace, model and ablation are let go here
        self._maybe_ablate(self.session.selection)  # shift still off: ablate the new trace
        self._remember(captured.request)
        self.requestChanged.emit(captured.request)
        self.idle.emit()  # the latest capture (older ones never arrive)
        trace = captured.trace
        name = Path(str(captured.request.source)).name
        h, w = trace.image.shape[:2]
        model = trace.meta.get("model", "")
        line = tr("Main", "{name}: {w}×{h} px through {model}", name=name, w=w, h=h, model=model)
        self.status.emit(line, False)
        self.applied.emit(trace)

    def _on_failed(self, job_id: int, message: str) -> None:
        kind = self.worker.kind_of(job_id)
        if kind == "capture":
            self.last_error = message
            self.idle.emit()
            self.requestChanged.emit(self.session.request)  # the toolbar goes back
            self.failed.emit(tr("Main", "Could not run the model"), message)
            self.captureFailed.emit(message)
        elif kind == "export":
            self._exports.pop(job_id, None)
            self.idle.emit()
            self.failed.emit(tr("Main", "Export failed"), message)
        elif kind == "ablate":
            self.status.emit(tr("Main", "shift ablation failed: {m}", m=message), True)
        else:
            self.status.emit(tr("Main", "could not compute: {m}", m=message), True)

    # ---- the shift ablation ----------------------------------------------------------------------
    def _maybe_ablate(self, sel: Selection, old: Selection | None = None) -> None:
        """Shift view off on a block that did shift: re-run it without the shift."""
        trace, model = self.session.trace, self.session.model
        if trace is None or model is None or sel.step != "block" or sel.shift_view is not False:
            self._ablate_key = None  # the next "shift off" asks again
            return
        key = (id(trace), sel.stage, sel.block)
        if trace.block(sel.stage, sel.block).shift <= 0 or key == self._ablate_key:
            return
        self._ablate_key = key
        self.worker.ablate(model, trace, sel.stage, sel.block, 0)

    def _on_ablated(self, job_id: int, ablation: ShiftAblation) -> None:
        sel, trace = self.session.selection, self.session.trace
        if sel.shift_view is False and ablation.of(trace, sel.stage, sel.block):
            self.session.set_ablation(ablation)

    # ---- work the panels wait for ---------------------------------------------------------------
    def _compute(self, pending: Pending) -> bool:
        """The session's background runner: `pending.work()` on the worker thread (once per
        key in flight); `session.computed(key)` when done."""
        if pending.key not in self._computing:
            group = f"compute:{pending.group}"
            job = self.worker.compute(pending.key, pending.work, group, delay=FRAME_S)
            self._computing[pending.key] = job
        return True

    def _on_computed(self, job_id: int, key) -> None:
        self.session.computed.emit(key)

    def _on_ended(self, job_id: int) -> None:
        for key, jid in list(self._computing.items()):
            if jid == job_id:
                del self._computing[key]

    # ---- export ----------------------------------------------------------------------------
    def export_all(self, folder: Path, overwrite: bool = False) -> int | None:
        """Everything for the current image into `folder`: the trace, feature maps and
        manifest (off the GUI thread), then every view's figure in `figures/`."""
        trace = self.session.trace
        if trace is None:
            self.status.emit(tr("Main", "nothing to export yet: open an image first"), True)
            return None
        self.settings.set_last_folder(folder.parent)
        self.started.emit(tr("Main", "exporting to {folder}…", folder=folder))
        job_id = self.worker.jobs.next_id()
        # filed first: a synchronous worker reports before `export` returns
        self._exports[job_id] = (trace, self.session.selection, overwrite, folder)
        cmap = self.session.selection.colormap
        return self.worker.export(trace, folder, overwrite, cmap, job_id=job_id)

    def _on_exported(self, job_id: int, written) -> None:
        self.idle.emit()
        pending = self._exports.pop(job_id, None)
        folder = pending[3] if pending else (Path(written[0]).parent if written else "")
        try:
            written = [*written, *(write_view_figures(*pending) if pending else [])]
        except Exception as e:  # a figure that cannot be written: one line, the rest stays
            from ..errors import one_line

            self.failed.emit(tr("Main", "Export failed"), one_line(e))
            return
        self.status.emit(
            tr("Main", "exported {n} files to {folder}", n=len(written), folder=folder), False
        )
        self.exported.emit(written)

    # ---- recent files --------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return self.settings.recent_files()

    def clear_recent(self) -> None:
        self.settings.clear_recent()
        self.recentChanged.emit()

    def _remember(self, request: CaptureRequest) -> None:
        if self.quiet:  # a scripted screenshot must not change what the user's app reopens
            return
        source = Path(str(request.source))
        if request.source and source.is_file():
            self.settings.add_recent(source)
        if isinstance(request.model, str):
            self.settings.set_last_model(request.model)
            if Path(request.model).exists():
                self.settings.add_recent(request.model)
        self.settings.set_size_mode(request.size)
        self.recentChanged.emit()


def figure_paths(folder: Path) -> list[Path]:
    """Where export-all writes every view's figure."""
    return [folder / "figures" / f"{v.name}{ext}" for v in VIEWS for ext in (".png", ".svg")]


def write_view_figures(trace, selection: Selection, overwrite: bool, folder: Path) -> list[Path]:
    """Every registered view's figure (PNG + SVG) for `selection` in `<folder>/figures/`."""
    from .figure_file import write_figure

    written = []
    for spec in VIEWS:
        figure = spec.figure_function()(trace, selection)
        for ext in (".png", ".svg"):
            path = folder / "figures" / f"{spec.name}{ext}"
            written.append(write_figure(figure, path, overwrite=overwrite))
    return written
