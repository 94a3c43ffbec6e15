"""Menus, the toolbar and the keyboard shortcuts of the main window.

Navigation keys are window-wide `QShortcut`s, so they work whichever panel has focus;
a focused text field keeps its own keys (it claims them through ShortcutOverride).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QLabel, QMenu, QSizePolicy, QToolBar

from ..model import PRESETS
from . import actions, export_all
from .panels.base import ElidedLabel
from .settings import COLORMAPS

if TYPE_CHECKING:
    from .main import MainWindow

SHORTCUT_ROWS: list[tuple[str, str]] = [
    ("← / →", "previous / next step (crosses stage boundaries)"),
    ("PgUp / PgDn", "previous / next stage"),
    ("1 … 9", "the 1st–9th attention head, i.e. head 0–8 (ignored beyond the head count)"),
    ("0", "mean of heads"),
    ("S", "shift view: as computed → the opposite → back"),
    ("Shift + ← → ↑ ↓", "move the selected token"),
    ("Ctrl+O", "open an image"),
    ("Ctrl+V", "paste an image from the clipboard"),
    ("Ctrl+E", "export the current panel as PNG, SVG or PDF (+ NPY of its numbers)"),
    ("Ctrl+Shift+E", "export everything for this image: trace, every view's figure, feature maps"),
    ("Ctrl+0, double-click", "fit: the active panel back to its laid-out size"),
    ("mouse wheel, drag", "zoom (bounded) and pan inside a panel"),
    ("F1", "this list"),
    ("Ctrl+Q", "quit"),
]
SIZES: list[tuple[str, object]] = [
    ("model size", "model"),
    ("native", "native"),
    ("224", 224),
    ("256", 256),
    ("384", 384),
    ("512", 512),
]
FITS: list[tuple[str, object]] = [
    ("auto", None),
    ("crop", "crop"),
    ("pad", "pad"),
    ("stretch", "stretch"),
]
OPEN_CHECKPOINT, OPEN_HF = "__open_checkpoint__", "__open_hf__"


def install_shortcuts(window: MainWindow) -> list[QShortcut]:
    """←/→, PgUp/PgDn, 1–9/0, S and Shift+arrows on the whole window."""
    s = window.session
    bindings = [
        ("Left", lambda: s.step_by(-1)),
        ("Right", lambda: s.step_by(1)),
        ("PgUp", lambda: s.stage_by(-1)),
        ("PgDown", lambda: s.stage_by(1)),
        ("0", lambda: s.select(head=None)),
        ("S", window.toggle_shift_view),
        ("Shift+Left", lambda: s.move_token(0, -1)),
        ("Shift+Right", lambda: s.move_token(0, 1)),
        ("Shift+Up", lambda: s.move_token(-1, 0)),
        ("Shift+Down", lambda: s.move_token(1, 0)),
    ]
    bindings += [(str(k), partial(window.select_head, k - 1)) for k in range(1, 10)]
    shortcuts = []
    for key, slot in bindings:
        sc = QShortcut(QKeySequence(key), window)
        sc.setContext(Qt.ShortcutContext.WindowShortcut)
        sc.activated.connect(slot)
        shortcuts.append(sc)
    return shortcuts


def _action(window: MainWindow, name: str, text: str, slot, shortcut=None, tip="") -> QAction:
    act = QAction(text, window)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        act.setStatusTip(tip)
        act.setToolTip(tip)
    act.triggered.connect(lambda _checked=False: slot())
    window.acts[name] = act
    return act


def build_menus(window: MainWindow) -> None:
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    edit = bar.addMenu("&Edit")
    edit.addAction(window.acts["paste"])
    _model_menu(window, bar.addMenu("&Model"))
    _view_menu(window, bar.addMenu("&View"))
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(
        _action(window, "shortcuts", "Keyboard &shortcuts", window.show_shortcuts, "F1")
    )
    help_menu.addAction(_action(window, "about", "&About Swin Explorer", window.show_about))


def _file_menu(window: MainWindow, menu: QMenu) -> None:
    w = window
    menu.addAction(
        _action(w, "open", "&Open image…", partial(actions.open_image_dialog, w), "Ctrl+O")
    )
    w.recent_menu = menu.addMenu("Recent &files")
    w.recent_menu.aboutToShow.connect(partial(rebuild_recent_menu, w))
    rebuild_recent_menu(w)
    samples = menu.addMenu("&Samples")
    for path in actions.sample_images():
        samples.addAction(path.name, partial(actions.open_path, w, path))
    samples.setEnabled(bool(samples.actions()))
    menu.addAction(_action(w, "paste", "&Paste image", partial(actions.paste_image, w), "Ctrl+V"))
    menu.addSeparator()
    tip_panel = "Save the active panel's figure (PNG, SVG or PDF) and its numbers (NPY)"
    menu.addAction(
        _action(
            w,
            "export",
            "&Export view as…",
            partial(export_all.export_current_panel, w),
            "Ctrl+E",
            tip_panel,
        )
    )
    menu.addAction(
        _action(
            w,
            "export_all",
            "Export &all for this image…",
            partial(export_all.export_all, w),
            "Ctrl+Shift+E",
            "trace.npz, every view's figure and per-stage feature maps",
        )
    )
    menu.addSeparator()
    menu.addAction(_action(w, "quit", "&Quit", w.close, "Ctrl+Q"))


def rebuild_recent_menu(window: MainWindow) -> None:
    menu = window.recent_menu
    menu.clear()
    files = window.settings.recent_files()
    for path in files:
        menu.addAction(Path(path).name, partial(actions.open_path, window, path)).setToolTip(path)
    if files:
        menu.addSeparator()
        menu.addAction("Clear list", lambda: (window.settings.clear_recent(), menu.clear()))
    menu.setEnabled(bool(files))


def _model_menu(window: MainWindow, menu: QMenu) -> None:
    w = window
    menu.addAction("Demo model (swin-demo)", partial(w.set_model, "demo", "swin-demo"))
    presets = menu.addMenu("Presets (random weights)")
    for name in PRESETS:
        presets.addAction(name, partial(w.set_model, name, f"{name} (random)"))
    menu.addAction(
        _action(
            w, "open_checkpoint", "Open &checkpoint…", partial(actions.open_checkpoint_dialog, w)
        )
    )
    menu.addAction(
        _action(w, "open_hf", "Open &Hugging Face folder…", partial(actions.open_hf_dialog, w))
    )
    menu.addSeparator()
    menu.addAction(_action(w, "architecture", "&Architecture summary…", w.show_architecture))


def _view_menu(window: MainWindow, menu: QMenu) -> None:
    menu.addAction(
        _action(
            window,
            "fit",
            "&Fit",
            window.fit_active_panel,
            "Ctrl+0",
            "The active panel back to its laid-out size",
        )
    )
    menu.addSeparator()
    for dock in window.docks.values():
        menu.addAction(dock.toggleViewAction())
    menu.addSeparator()
    cmap_menu = menu.addMenu("&Colormap")
    group = QActionGroup(window)
    group.setExclusive(True)
    for name in COLORMAPS:
        act = QAction(name, window, checkable=True)
        act.setChecked(name == window.session.selection.colormap)
        act.triggered.connect(partial(window.set_colormap, name))
        group.addAction(act)
        cmap_menu.addAction(act)
        window.acts[f"cmap_{name}"] = act
    menu.addSeparator()
    menu.addAction(_action(window, "reset_layout", "&Reset layout", window.reset_layout))


def build_toolbar(window: MainWindow) -> QToolBar:
    """model ▾ · device ▾ · size ▾ · breadcrumb."""
    bar = QToolBar("Model and input", window)
    bar.setObjectName("toolbar_main")
    window.toolbar = bar
    bar.setMovable(False)
    window.model_combo = QComboBox(bar)
    window.model_combo.setMinimumContentsLength(14)
    window.model_combo.setSizeAdjustPolicy(
        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
    )
    window.model_combo.setToolTip("Model: the demo, a preset with random weights, or your own")
    window.device_combo = QComboBox(bar)
    window.device_combo.addItem("CPU", "cpu")
    import torch

    if torch.cuda.is_available():
        window.device_combo.addItem("CUDA", "cuda")
    window.device_combo.setToolTip("Where the model runs (changing it re-runs the model)")
    window.size_combo = QComboBox(bar)
    for label, value in SIZES:
        window.size_combo.addItem(label, value)
    window.size_combo.setToolTip(
        "Input size: the model's own, the image's native size (padded to windows), or N×N"
    )
    window.fit_combo = QComboBox(bar)
    for label, value in FITS:
        window.fit_combo.addItem(label, value)
    window.fit_combo.setToolTip(
        "How a non-square image meets a square size: crop (timm's eval transform), pad "
        "(letterbox) or stretch; auto = the checkpoint's convention"
    )
    window.breadcrumb = ElidedLabel(1, parent=bar)
    window.breadcrumb.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    window.breadcrumb.setToolTip(
        "Stages, blocks and heads count from 0 (stage 0 is the paper's Stage 1)"
    )
    for label, widget in (
        ("model", window.model_combo),
        ("device", window.device_combo),
        ("size", window.size_combo),
        ("fit", window.fit_combo),
    ):
        bar.addWidget(QLabel(f"  {label} "))
        bar.addWidget(widget)
    bar.addWidget(QLabel("  "))
    bar.addWidget(window.breadcrumb)
    fill_model_combo(window)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    return bar


def fill_model_combo(window: MainWindow) -> None:
    combo = window.model_combo
    combo.addItem("swin-demo", "demo")
    for name in PRESETS:
        combo.addItem(f"{name} (random)", name)
    combo.insertSeparator(combo.count())
    combo.addItem("Open checkpoint…", OPEN_CHECKPOINT)
    combo.addItem("Open HF folder…", OPEN_HF)


def ensure_model_item(window: MainWindow, spec: Any, label: str | None = None) -> int:
    """The model combo's index for `spec`, adding an item (at the top) when new."""
    combo = window.model_combo
    for i in range(combo.count()):
        data = combo.itemData(i)
        if data is spec or (isinstance(spec, str) and data == spec):
            return i
    if label is None:
        info = getattr(spec, "info", None)
        label = Path(spec).name if isinstance(spec, str) else getattr(info, "label", None)
    combo.insertItem(0, label or type(spec).__name__, spec)
    return 0


def sync_combos(window: MainWindow, request) -> None:
    """Show the request's model, size and device in the toolbar."""
    window.model_combo.setCurrentIndex(ensure_model_item(window, request.model))
    pairs = (
        (window.size_combo, request.size),
        (window.device_combo, request.device),
        (window.fit_combo, request.fit),
    )
    for combo, value in pairs:
        for i in range(combo.count()):
            if str(combo.itemData(i)) == str(value):
                combo.setCurrentIndex(i)
                break
    window.device_label.setText(f"device: {str(request.device).upper()}")


def on_model_combo(window: MainWindow, index: int) -> None:
    """A model picked in the toolbar; the two "Open…" entries open a dialog first."""
    data = window.model_combo.itemData(index)
    opened = True
    if data == OPEN_CHECKPOINT:
        opened = actions.open_checkpoint_dialog(window)
    elif data == OPEN_HF:
        opened = actions.open_hf_dialog(window)
    else:
        window.set_model(data)
    if not opened:
        sync_combos(window, window.accepted)
