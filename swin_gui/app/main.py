"""The main window (`launch.run_app` opens it).

One window, one selection: the navigator (left), the window grid (centre), Attention | Mask |
Shift | Bias | Internals (right), feature pyramid | merging and predictions (bottom). Only
an image, model, device or size change runs the model (on the worker thread); every other
change re-renders from the cached Trace.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QWidget,
)

from ..errors import one_line
from ..render.selection import Selection
from . import actions, dialogs, docks, menus, placement
from .dialogs import ArchitectureDialog, ShortcutsDialog, architecture_rows, show_error
from .navigator import breadcrumb
from .settings import AppSettings
from .state import Session
from .worker import CaptureRequest, InferenceWorker

DEFAULT_SIZE = (1600, 1000)
MIN_SIZE = (1024, 600)  # usable down to 1280×720 with room to spare


class MainWindow(QMainWindow):
    """The Swin Explorer window. `model` is a spec ("demo", a preset, a path) or an
    nn.Module; `image` a path, PIL image, uint8 array or None (the first sample)."""

    traceApplied = Signal(object)
    inferenceFailed = Signal(str)
    placed = Signal()  # the first trace is in and the window went to `place`

    def __init__(
        self,
        model: Any = None,
        image: Any = None,
        size: str | int | None = None,
        device: str = "cpu",
        settings: AppSettings | None = None,
        start: bool = True,
        quiet: bool = False,
        place: dict | None = None,
    ) -> None:
        super().__init__()
        self.place = dict(place or {})
        self.place_done = False
        self.settings = settings or AppSettings()
        self.quiet = quiet  # no modal dialogs (screenshot mode)
        self.session = Session(self)
        self.worker = InferenceWorker(self)
        self.acts: dict = {}
        self.panels: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.active_panel_name = "grid"
        self.export_ids: dict[int, Path] = {}
        self.pending_figures: dict[int, tuple] = {}
        self._ablate_key: tuple | None = None
        self._capture_id = 0
        self.last_error: str | None = None
        self.setWindowTitle("Swin Explorer")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        try:
            self._build(model, image, size, device)
        except BaseException:
            self.worker.shutdown()  # never leave the thread running behind a failed window
            raise
        if start:
            self.run_inference()

    def _build(self, model: Any, image: Any, size: str | int | None, device: str) -> None:
        docks.build_docks(self)
        menus.build_toolbar(self)
        menus.build_menus(self)
        self.shortcuts = menus.install_shortcuts(self)
        self._build_status()
        self._connect()
        placement.build_banner(self)
        self._restore_settings()
        spec, note = self._initial_model(model)
        if image is None:
            image, source = actions.default_image()
        else:
            source = str(image) if isinstance(image, (str, Path)) else type(image).__name__
        size = size if size is not None else self.settings.size_mode()
        if device == "auto":
            from ..api import resolve_device

            device = resolve_device(device).type  # the one rule for "auto"
        self.accepted = CaptureRequest(spec, image, size, device, source)
        menus.sync_combos(self, self.accepted)
        if note:
            self.show_status(note)

    # ---- construction ------------------------------------------------------------------------
    def reset_layout(self) -> None:
        docks.default_layout(self)

    def go_to(self, **place) -> None:
        """Select a place (view, stage, block, token, head) and raise that view."""
        placement.go_to(self, **place)

    def fill_screen(self) -> None:
        placement.fill_screen(self)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_fitted", False):  # the frame is known once shown
            self._fitted = True
            placement.keep_on_screen(self)

    def _build_status(self) -> None:
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.device_label = QLabel("")
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.device_label)

    def _connect(self) -> None:
        w, s = self.worker, self.session
        w.started.connect(self._on_worker_started)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.progress.connect(self._on_progress)
        w.ablated.connect(self._on_ablated)
        w.exported.connect(self._on_exported)
        s.selectionChanged.connect(self._on_selection_changed)
        s.message.connect(self._on_session_message)
        s.errorOccurred.connect(lambda text: self.show_status(text, error=True))
        self.model_combo.activated.connect(partial(menus.on_model_combo, self))
        self.size_combo.activated.connect(lambda i: self.set_size(self.size_combo.itemData(i)))
        self.fit_combo.activated.connect(
            lambda i: self.run_inference(fit=self.fit_combo.itemData(i))
        )
        self.device_combo.activated.connect(
            lambda i: self.set_device(self.device_combo.itemData(i))
        )

    def _initial_model(self, model: Any) -> tuple[Any, str]:
        """(model spec, status note); the demo falls back to a small random preset."""
        from ..api import DEMO_MODEL

        model = "demo" if model is None else model
        if model == "demo" and not DEMO_MODEL.exists():
            fallback = "swin_tiny_patch4_window7_224"
            return fallback, (
                f"demo weights not found ({DEMO_MODEL.name}); showing {fallback} "
                "with RANDOM weights"
            )
        return model, ""

    # ---- running the model ------------------------------------------------------------------
    def run_inference(self, **changes) -> int:
        """Capture with the accepted request, changed by image/source/model/size/device/fit;
        -1 when the user cancels a capture too big for the free memory."""
        fields = {
            k: changes.get(k, getattr(self.accepted, k))
            for k in ("model", "image", "size", "device", "source", "fit")
        }
        request = CaptureRequest(**fields)
        if not self.quiet:
            request = dialogs.confirm_memory(self, request)
            if request is None:
                self.show_status("capture cancelled: the image stays as it was")
                return -1
        self._capture_started = time.perf_counter()
        return self.worker.capture(request)

    def open_image(self, image: Any, source: str) -> int:
        return self.run_inference(image=image, source=source)

    def set_model(self, spec: Any, label: str | None = None) -> int:
        menus.ensure_model_item(self, spec, label)
        return self.run_inference(model=spec)

    def set_size(self, size: str | int) -> int:
        return self.run_inference(size=size)

    def set_device(self, device: str) -> int:
        return self.run_inference(device=device)

    def _on_worker_started(self, request_id: int) -> None:
        if self.worker.kind_of(request_id) == "capture":
            self._capture_id = request_id
            self.show_busy("inferring…")

    def _on_progress(self, request_id: int, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        text = f"inferring… {done}/{total} stages"
        elapsed = time.perf_counter() - getattr(self, "_capture_started", time.perf_counter())
        if 0 < done < total and elapsed > 1.0:  # the stages so far predict the rest
            text += f" · about {elapsed / done * (total - done):.0f} s left"
        self.progress.setFormat(text)
        self.session.progressChanged.emit(done, total)

    def _on_finished(self, request_id: int, trace) -> None:
        request = self.worker.request or self.accepted
        self.accepted = request
        self._ablate_key = None
        self.session.set_trace(trace)
        placement.show_warnings(self, trace)
        menus.sync_combos(self, request)
        self._remember(request)
        self._update_title()
        self._on_selection_changed(self.session.selection, self.session.selection)
        if request_id == self._capture_id:
            self._set_idle()
        self.show_status(
            f"{Path(str(request.source)).name}: {trace.image.shape[1]}×"
            f"{trace.image.shape[0]} px through {trace.meta.get('model', '')}"
        )
        self.traceApplied.emit(trace)
        if not self.place_done:
            self.place_done = True
            self.go_to(**self.place)
            self.placed.emit()

    def _on_failed(self, request_id: int, message: str) -> None:
        kind = self.worker.kind_of(request_id)
        if kind == "capture":
            self.last_error = message
            self._set_idle()
            menus.sync_combos(self, self.accepted)
            self.report_error("Could not run the model", message)
            self.inferenceFailed.emit(message)
        elif kind == "export":
            self.pending_figures.pop(request_id, None)
            self.pending_figures.pop("next", None)
            self._set_idle()
            self.report_error("Export failed", message)
        else:
            self.show_status(f"shift ablation failed: {message}", error=True)

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
        menus.rebuild_recent_menu(self)

    # ---- selection ----------------------------------------------------------------------------
    def _on_selection_changed(self, new: Selection, old: Selection) -> None:
        self.breadcrumb.set_full_text(breadcrumb(self.session.trace, new))
        if f"cmap_{new.colormap}" in self.acts:
            self.acts[f"cmap_{new.colormap}"].setChecked(True)
        self._maybe_ablate(new)

    def _maybe_ablate(self, sel: Selection) -> None:
        """Shift view off on a block that did shift: re-run it without the shift."""
        trace = self.session.trace
        if trace is None or sel.step != "block" or sel.shift_view is not False:
            self._ablate_key = None  # the next "shift off" asks again
            return
        key = (id(trace), sel.stage, sel.block)
        if trace.block(sel.stage, sel.block).shift <= 0 or key == self._ablate_key:
            return
        self._ablate_key = key
        self.worker.ablate(trace, sel.stage, sel.block, 0)

    def _on_ablated(self, request_id: int, out) -> None:
        sel, trace = self.session.selection, self.session.trace
        if (
            trace is not None
            and self._ablate_key == (id(trace), sel.stage, sel.block)
            and sel.shift_view is False
        ):
            self.session.set_ablation(out)

    def toggle_shift_view(self) -> None:
        """S: as computed → the opposite of the block's actual shift → as computed."""
        bt = self.session.current_block()
        if bt is None:
            return
        if self.session.selection.shift_view is None:
            self.session.select(shift_view=not bt.shift > 0)
        else:
            self.session.select(shift_view=None)

    def select_head(self, head: int) -> None:
        trace = self.session.trace
        if trace is not None and head < trace.config.num_heads[self.session.selection.stage]:
            self.session.select(head=head)

    def set_colormap(self, name: str) -> None:
        self.session.select(colormap=name)
        self.settings.set_colormap(name)
        if f"cmap_{name}" in self.acts:
            self.acts[f"cmap_{name}"].setChecked(True)

    # ---- widgets state ------------------------------------------------------------------------
    def _update_title(self) -> None:
        trace = self.session.trace
        if trace is None:
            self.setWindowTitle("Swin Explorer")
            return
        source = Path(str(trace.meta.get("source", ""))).name or "image"
        title = f"Swin Explorer — {trace.meta.get('model', 'model')} — {source}"
        if trace.meta.get("random_weights"):
            title += " — RANDOM WEIGHTS"
        self.setWindowTitle(title)

    # ---- status ------------------------------------------------------------------------------
    def show_status(self, text: str, error: bool = False) -> None:
        self.statusBar().setStyleSheet("color: #c62828;" if error else "")
        self.statusBar().showMessage(("⚠ " if error else "") + text, 15000 if error else 8000)

    def _on_session_message(self, text: str) -> None:
        """Hover and info lines from the panels (token, window, position...)."""
        self.statusBar().setStyleSheet("")
        self.statusBar().showMessage(text, 6000)

    def show_busy(self, text: str) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.progress.show()
        self.session.busyChanged.emit(True)

    def _set_idle(self) -> None:
        self.progress.hide()
        self.session.busyChanged.emit(False)

    def report_error(self, title: str, message: str) -> None:
        """One line in the status bar, and a warning box unless in quiet mode."""
        self.show_status(message, error=True)
        if not self.quiet:
            show_error(self, title, message)

    def _on_exported(self, request_id: int, written) -> None:
        from .export_all import write_view_figures

        self._set_idle()
        folder = self.export_ids.get(request_id) or (Path(written[0]).parent if written else "")
        try:
            written = [*written, *write_view_figures(self, request_id)]
        except Exception as e:  # a figure that cannot be written: one line, the rest stays
            self.report_error("Export failed", one_line(e))
            return
        self.show_status(f"exported {len(written)} files to {folder}")

    # ---- panels ------------------------------------------------------------------------------
    def active_panel(self) -> tuple[str, QWidget | None]:
        name = self.active_panel_name if self.active_panel_name in self.panels else "grid"
        return name, self.panels.get(name)

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        name = docks.panel_of(self, new)
        if name is not None:
            self.active_panel_name = name

    # ---- dialogs -----------------------------------------------------------------------------
    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(menus.SHORTCUT_ROWS, self)
        dialog.open()
        return dialog

    def show_architecture(self) -> ArchitectureDialog | None:
        trace = self.session.trace
        if trace is None:
            self.show_status("no model loaded yet", error=True)
            return None
        rows = architecture_rows(self.worker.model, trace.config, trace.image.shape[:2])
        dialog = ArchitectureDialog(rows, self)
        dialog.open()
        return dialog

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Swin Explorer",
            "Swin Explorer: windows, shifts, masks, attention heads and patch "
            "merging of Swin Transformers (v1/v2), on your own images.",
        )

    # ---- drag and drop, settings, close ----------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if actions.local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if actions.local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = actions.local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            actions.open_path(self, paths[0])

    def _restore_settings(self) -> None:
        self.session.select(colormap=self.settings.colormap())
        self.setMinimumSize(*placement.fitted_size(self, MIN_SIZE))
        geometry, state = self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*placement.fitted_size(self, DEFAULT_SIZE))
            docks.default_layout(self)
        if state is not None:
            self.restoreState(state)
        self.resize(*placement.fitted_size(self, (self.width(), self.height())))

    def fit_active_panel(self) -> None:
        """View › Fit (Ctrl+0): the active panel back to its laid-out size."""
        panel = self.active_panel()[1]
        if panel is not None and hasattr(panel, "view"):
            panel.view.fit()

    def closeEvent(self, event) -> None:
        if not self.quiet:
            self.settings.set_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.worker.shutdown()
        super().closeEvent(event)
