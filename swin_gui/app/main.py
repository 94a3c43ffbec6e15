"""The main window (`launch.run_app` opens it).

One window, one selection: the navigator (left), the window grid (centre), Attention | Mask |
Shift | Bias | Internals (right), feature pyramid | merging and predictions (bottom). The
window is the widgets only: what is loaded and what runs lives in the `Controller` and its
session. Only an image, model, device, size or fit change runs the model (on the worker
thread); every other change re-renders from the cached Trace.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QWidget,
)

from .. import i18n
from ..i18n import tr
from ..render.selection import Selection
from . import actions, dialogs, docks, menus, placement, toolbar
from .controller import Controller
from .dialogs import ArchitectureDialog, ShortcutsDialog, architecture_rows, show_error
from .navigator import breadcrumb
from .settings import AppSettings
from .state import CaptureRequest

DEFAULT_SIZE = (1600, 1000)
MIN_SIZE = (1024, 600)  # usable down to 1280×720 with room to spare


class MainWindow(QMainWindow):
    """The Swin Explorer window. `model` is a spec ("demo", a preset, a path) or an
    nn.Module; `image` a path, PIL image, uint8 array or None (the first sample); `fit`
    crop | pad | stretch (None: the checkpoint's convention)."""

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
        fit: str | None = None,
    ) -> None:
        super().__init__()
        self.place = dict(place or {})
        self.place_done = False
        settings = settings or AppSettings()
        request, self._note = _initial_request(model, image, size, device, settings)
        request = replace(request, fit=fit)
        self.controller = Controller(request, settings, quiet=quiet, parent=self)
        self.session = self.controller.session
        self.active_panel_name = "grid"
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        try:
            self._build()
        except BaseException:
            self.controller.shutdown()  # never leave the thread running behind a failed window
            raise
        self._unsubscribe = i18n.subscribe(lambda _code: self.retranslate())
        self.destroyed.connect(self._unsubscribe)
        if start:
            self.run_inference()

    # what the rest of the app (and the tests) read off the window
    settings = property(lambda self: self.controller.settings)
    worker = property(lambda self: self.controller.worker)
    accepted = property(lambda self: self.controller.request)
    last_error = property(lambda self: self.controller.last_error)

    @property
    def quiet(self) -> bool:
        return self.controller.quiet

    @quiet.setter
    def quiet(self, value: bool) -> None:
        self.controller.quiet = value
        self.controller.confirm = None if value else self._confirm

    def _build(self) -> None:
        ctl = self.controller
        built = docks.build_docks(self, self.session, self._set_active_panel)
        self.navigator, self.panels, self.docks = built.navigator, built.panels, built.docks
        self._docks = built
        self.toolbar = toolbar.Toolbar(self, ctl)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.model_combo, self.size_combo = self.toolbar.model_combo, self.toolbar.size_combo
        self.fit_combo, self.device_combo = self.toolbar.fit_combo, self.toolbar.device_combo
        self.breadcrumb = self.toolbar.breadcrumb
        self.menus = menus.Menus(self, self, ctl)
        self.acts, self.recent_menu = self.menus.acts, self.menus.recent
        self.shortcuts = menus.install_shortcuts(self, self.session)
        self._build_status()
        self._connect()
        placement.build_banner(self)
        self._restore_settings()
        self.quiet = ctl.quiet  # the memory question, unless quiet
        self.toolbar.sync(ctl.request)
        self.retranslate()
        if self._note:
            self.show_status(self._note)

    def _build_status(self) -> None:
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.device_label = QLabel("")
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.device_label)

    def _connect(self) -> None:
        ctl, s = self.controller, self.session
        ctl.started.connect(self.show_busy)
        ctl.progressed.connect(self._on_progress)
        ctl.idle.connect(self.progress.hide)
        ctl.status.connect(self.show_status)
        ctl.failed.connect(self.report_error)
        ctl.applied.connect(self._on_applied)
        ctl.captureFailed.connect(self.inferenceFailed)
        ctl.requestChanged.connect(self._show_device)
        s.selectionChanged.connect(self._on_selection_changed)
        s.message.connect(self._on_session_message)
        QApplication.instance().focusChanged.connect(self._on_focus_changed)
        self._focus_connected = True

    def retranslate(self) -> None:
        """Re-apply every text after a language switch (`i18n.subscribe`)."""
        self.menus.retranslate()
        self.toolbar.retranslate()
        self._docks.retranslate()
        self._update_title()
        self._show_device(self.controller.request)
        self._on_selection_changed(self.session.selection, self.session.selection)

    # ---- construction ------------------------------------------------------------------------
    def reset_layout(self) -> None:
        docks.default_layout(self, self.docks)

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

    # ---- running the model (the controller does it) ------------------------------------------
    def run_inference(self, **changes) -> int:
        """Capture what is loaded, changed by image/source/model/size/device/fit; -1 when
        the user cancels a capture too big for the free memory."""
        return self.controller.capture(**changes)

    def open_image(self, image: Any, source: str) -> int:
        return self.controller.open_image(image, source)

    def set_model(self, spec: Any, label: str | None = None) -> int:
        self.toolbar.ensure_model_item(spec, label)
        return self.controller.set_model(spec)

    def set_size(self, size: str | int) -> int:
        return self.controller.capture(size=size)

    def set_device(self, device: str) -> int:
        return self.controller.capture(device=device)

    def _confirm(self, request: CaptureRequest) -> CaptureRequest | None:
        return dialogs.confirm_memory(self, request, self.session.model)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(text)

    def _on_applied(self, trace) -> None:
        placement.show_warnings(self, trace)
        self._update_title()
        self._on_selection_changed(self.session.selection, self.session.selection)
        self.traceApplied.emit(trace)
        if not self.place_done:
            self.place_done = True
            self.go_to(**self.place)
            self.placed.emit()

    def _show_device(self, request: CaptureRequest) -> None:
        device = str(request.device).upper()
        self.device_label.setText(tr("Main", "device: {device}", device=device))

    # ---- selection ----------------------------------------------------------------------------
    def _on_selection_changed(self, new: Selection, old: Selection) -> None:
        self.breadcrumb.set_full_text(breadcrumb(self.session.trace, new))
        if f"cmap_{new.colormap}" in self.acts:
            self.acts[f"cmap_{new.colormap}"].setChecked(True)

    def toggle_shift_view(self) -> None:
        self.session.toggle_shift_view()

    def select_head(self, head: int) -> None:
        self.session.select_head(head)

    def set_colormap(self, name: str) -> None:
        self.session.select(colormap=name)
        self.settings.set_colormap(name)
        if f"cmap_{name}" in self.acts:
            self.acts[f"cmap_{name}"].setChecked(True)

    # ---- widgets state ------------------------------------------------------------------------
    def _update_title(self) -> None:
        trace = self.session.trace
        if trace is None:
            self.setWindowTitle(tr("Main", "Swin Explorer"))
            return
        source = Path(str(trace.meta.get("source", ""))).name or tr("Main", "image")
        model = trace.meta.get("model", "model")
        title = tr("Main", "Swin Explorer — {model} — {source}", model=model, source=source)
        if trace.meta.get("random_weights"):
            title += tr("Main", " — RANDOM WEIGHTS")
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

    def report_error(self, title: str, message: str) -> None:
        """One line in the status bar, and a warning box unless in quiet mode."""
        self.show_status(message, error=True)
        if not self.quiet:
            show_error(self, title, message)

    # ---- panels ------------------------------------------------------------------------------
    def active_panel(self) -> tuple[str, QWidget | None]:
        name = self.active_panel_name if self.active_panel_name in self.panels else "grid"
        return name, self.panels.get(name)

    def _set_active_panel(self, name: str) -> None:
        self.active_panel_name = name

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        name = self._docks.panel_of(new)
        if name is not None:
            self.active_panel_name = name

    def fit_active_panel(self) -> None:
        """View › Fit (Ctrl+0): the active panel back to its laid-out size."""
        panel = self.active_panel()[1]
        if panel is not None and hasattr(panel, "view"):
            panel.view.fit()

    # ---- dialogs -----------------------------------------------------------------------------
    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(menus.shortcut_rows(), self)
        dialog.open()
        return dialog

    def show_architecture(self) -> ArchitectureDialog | None:
        trace = self.session.trace
        if trace is None:
            self.show_status(tr("Main", "no model loaded yet"), error=True)
            return None
        rows = architecture_rows(self.session.model, trace.config, trace.image.shape[:2])
        dialog = ArchitectureDialog(rows, self)
        dialog.open()
        return dialog

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            tr("Main", "About Swin Explorer"),
            tr(
                "Main",
                "Swin Explorer: windows, shifts, masks, attention heads and patch "
                "merging of Swin Transformers (v1/v2), on your own images.",
            ),
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
            self.controller.open_path(paths[0])

    def _restore_settings(self) -> None:
        self.session.select(colormap=self.settings.colormap())
        self.setMinimumSize(*placement.fitted_size(self, MIN_SIZE))
        geometry, state = self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*placement.fitted_size(self, DEFAULT_SIZE))
            docks.default_layout(self, self.docks)
        if state is not None:
            self.restoreState(state)
        self.resize(*placement.fitted_size(self, (self.width(), self.height())))

    def closeEvent(self, event) -> None:
        if not self.quiet:
            self.settings.set_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        if self._focus_connected:
            self._focus_connected = False
            QApplication.instance().focusChanged.disconnect(self._on_focus_changed)
        self.controller.shutdown()
        super().closeEvent(event)


def _initial_request(
    model: Any, image: Any, size: str | int | None, device: str, settings: AppSettings
) -> tuple[CaptureRequest, str]:
    """(the first thing to load, a status note); the demo falls back to a small random
    preset."""
    from ..api import DEMO_MODEL, resolve_device

    model, note = "demo" if model is None else model, ""
    if model == "demo" and not DEMO_MODEL.exists():
        model = "swin_tiny_patch4_window7_224"
        note = tr(
            "Main",
            "demo weights not found ({file}); showing {model} with RANDOM weights",
            file=DEMO_MODEL.name,
            model=model,
        )
    if image is None:
        image, source = actions.default_image()
    else:
        source = str(image) if isinstance(image, (str, Path)) else type(image).__name__
    size = size if size is not None else settings.size_mode()
    if device == "auto":
        device = resolve_device("auto").type
    return CaptureRequest(model, image, size, device, source), note
