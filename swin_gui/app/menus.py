"""The menus, the toolbar and the keyboard shortcuts of the main window.

They call the `Controller` (open, capture, export, recent files) and the session (the
selection); what only the window can do (dialogs about it, its layout) comes through
`WindowCommands`. Every text is re-applied by `retranslate()`.

Navigation keys are window-wide `QShortcut`s, so they work whichever panel has focus;
a focused text field keeps its own keys (it claims them through ShortcutOverride).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from ..i18n import tr
from ..model import PRESETS
from . import actions, export_all
from .controller import Controller
from .panels.base import ElidedLabel
from .settings import COLORMAPS
from .state import CaptureRequest, Session

SIZES: list[tuple[Callable[[], str], object]] = [
    (lambda: tr("Main", "model size"), "model"),
    (lambda: tr("Main", "native"), "native"),
    *((lambda n=n: str(n), n) for n in (224, 256, 384, 512)),
]
FITS: list[tuple[Callable[[], str], object]] = [
    (lambda: tr("Main", "auto"), None),
    (lambda: tr("Main", "crop"), "crop"),
    (lambda: tr("Main", "pad"), "pad"),
    (lambda: tr("Main", "stretch"), "stretch"),
]
OPEN_CHECKPOINT, OPEN_HF = "__open_checkpoint__", "__open_hf__"


def shortcut_rows() -> list[tuple[str, str]]:
    """(keys, what they do) for Help › Keyboard shortcuts."""
    t = partial(tr, "Main")
    return [
        ("← / →", t("previous / next step (crosses stage boundaries)")),
        ("PgUp / PgDn", t("previous / next stage")),
        ("1 … 9", t("the 1st–9th attention head, i.e. head 0–8 (ignored beyond the head count)")),
        ("0", t("mean of heads")),
        ("S", t("shift view: as computed → the opposite → back")),
        ("Shift + ← → ↑ ↓", t("move the selected token")),
        ("Ctrl+O", t("open an image")),
        ("Ctrl+V", t("paste an image from the clipboard")),
        ("Ctrl+E", t("export the current panel as PNG, SVG or PDF (+ NPY of its numbers)")),
        (
            "Ctrl+Shift+E",
            t("export everything for this image: trace, every view's figure, feature maps"),
        ),
        ("Ctrl+0, double-click", t("fit: the active panel back to its laid-out size")),
        (t("mouse wheel, drag"), t("zoom (bounded) and pan inside a panel")),
        ("F1", t("this list")),
        ("Ctrl+Q", t("quit")),
    ]


SHORTCUT_ROWS = shortcut_rows()


class WindowCommands(Protocol):
    """What the menus ask of the window itself."""

    docks: dict[str, QDockWidget]

    def show_shortcuts(self) -> object: ...
    def show_about(self) -> None: ...
    def show_architecture(self) -> object: ...
    def fit_active_panel(self) -> None: ...
    def reset_layout(self) -> None: ...
    def set_colormap(self, name: str) -> None: ...
    def active_panel(self) -> tuple[str, QWidget | None]: ...
    def close(self) -> bool: ...


def install_shortcuts(window: QWidget, session: Session) -> list[QShortcut]:
    """←/→, PgUp/PgDn, 1–9/0, S and Shift+arrows on the whole window."""
    s = session
    bindings = [
        ("Left", lambda: s.step_by(-1)),
        ("Right", lambda: s.step_by(1)),
        ("PgUp", lambda: s.stage_by(-1)),
        ("PgDown", lambda: s.stage_by(1)),
        ("0", lambda: s.select(head=None)),
        ("S", s.toggle_shift_view),
        ("Shift+Left", lambda: s.move_token(0, -1)),
        ("Shift+Right", lambda: s.move_token(0, 1)),
        ("Shift+Up", lambda: s.move_token(-1, 0)),
        ("Shift+Down", lambda: s.move_token(1, 0)),
    ]
    bindings += [(str(k), partial(s.select_head, k - 1)) for k in range(1, 10)]
    shortcuts = []
    for key, slot in bindings:
        sc = QShortcut(QKeySequence(key), window)
        sc.setContext(Qt.ShortcutContext.WindowShortcut)
        sc.activated.connect(slot)
        shortcuts.append(sc)
    return shortcuts


class Menus:
    """The menu bar: File, Edit, Model, View, Help. `acts` names the actions."""

    def __init__(self, window: QMainWindow, commands: WindowCommands, ctl: Controller) -> None:
        self.window, self.commands, self.ctl = window, commands, ctl
        self.acts: dict[str, QAction] = {}
        self._texts: list[tuple[Any, Callable[[], str], Callable[[], str] | None]] = []
        bar = window.menuBar()
        self._file_menu(self._menu(bar, lambda: tr("Main", "&File")))
        edit = self._menu(bar, lambda: tr("Main", "&Edit"))
        edit.addAction(self.acts["paste"])
        self._model_menu(self._menu(bar, lambda: tr("Main", "&Model")))
        self._view_menu(self._menu(bar, lambda: tr("Main", "&View")))
        help_menu = self._menu(bar, lambda: tr("Main", "&Help"))
        help_menu.addAction(
            self._action(
                "shortcuts",
                lambda: tr("Main", "Keyboard &shortcuts"),
                commands.show_shortcuts,
                "F1",
            )
        )
        about = self._action(
            "about", lambda: tr("Main", "&About Swin Explorer"), commands.show_about
        )
        help_menu.addAction(about)
        ctl.recentChanged.connect(self.rebuild_recent)

    def retranslate(self) -> None:
        for item, text, tip in self._texts:
            (item.setTitle if isinstance(item, QMenu) else item.setText)(text())
            if tip is not None:
                item.setStatusTip(tip())
                item.setToolTip(tip())
        self.rebuild_recent()

    # ---- building ------------------------------------------------------------------------------
    def _menu(self, parent, text: Callable[[], str]) -> QMenu:
        menu = parent.addMenu(text())
        self._texts.append((menu, text, None))
        return menu

    def _action(self, name: str, text, slot, shortcut=None, tip=None) -> QAction:
        act = QAction(text(), self.window)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip is not None:
            act.setStatusTip(tip())
            act.setToolTip(tip())
        act.triggered.connect(lambda _checked=False: slot())
        self.acts[name] = act
        self._texts.append((act, text, tip))
        return act

    def _file_menu(self, menu: QMenu) -> None:
        w, ctl = self.window, self.ctl
        menu.addAction(
            self._action(
                "open",
                lambda: tr("Main", "&Open image…"),
                partial(actions.open_image_dialog, w, ctl),
                "Ctrl+O",
            )
        )
        self.recent = self._menu(menu, lambda: tr("Main", "Recent &files"))
        self.recent.aboutToShow.connect(self.rebuild_recent)
        self.rebuild_recent()
        samples = self._menu(menu, lambda: tr("Main", "&Samples"))
        for path in actions.sample_images():
            samples.addAction(path.name, partial(ctl.open_path, path))
        samples.setEnabled(bool(samples.actions()))
        paste = partial(actions.paste_image, w, ctl)
        menu.addAction(self._action("paste", lambda: tr("Main", "&Paste image"), paste, "Ctrl+V"))
        menu.addSeparator()

        def export_view():
            export_all.export_current_panel(w, ctl, *self.commands.active_panel())

        menu.addAction(
            self._action(
                "export",
                lambda: tr("Main", "&Export view as…"),
                export_view,
                "Ctrl+E",
                lambda: tr(
                    "Main",
                    "Save the active panel's figure (PNG, SVG or PDF) and its numbers (NPY)",
                ),
            )
        )
        menu.addAction(
            self._action(
                "export_all",
                lambda: tr("Main", "Export &all for this image…"),
                partial(export_all.export_all, w, ctl),
                "Ctrl+Shift+E",
                lambda: tr("Main", "trace.npz, every view's figure and per-stage feature maps"),
            )
        )
        menu.addSeparator()
        menu.addAction(self._action("quit", lambda: tr("Main", "&Quit"), w.close, "Ctrl+Q"))

    def rebuild_recent(self) -> None:
        menu, ctl = self.recent, self.ctl
        menu.clear()
        files = ctl.recent_files()
        for path in files:
            menu.addAction(Path(path).name, partial(ctl.open_path, path)).setToolTip(path)
        if files:
            menu.addSeparator()
            menu.addAction(tr("Main", "Clear list"), ctl.clear_recent)
        menu.setEnabled(bool(files))

    def _model_menu(self, menu: QMenu) -> None:
        w, ctl = self.window, self.ctl
        demo = partial(ctl.set_model, "demo")
        menu.addAction(self._action("demo", lambda: tr("Main", "Demo model (swin-demo)"), demo))
        presets = self._menu(menu, lambda: tr("Main", "Presets (random weights)"))
        for name in PRESETS:
            presets.addAction(name, partial(ctl.set_model, name))
        menu.addAction(
            self._action(
                "open_checkpoint",
                lambda: tr("Main", "Open &checkpoint…"),
                partial(actions.open_checkpoint_dialog, w, ctl),
            )
        )
        menu.addAction(
            self._action(
                "open_hf",
                lambda: tr("Main", "Open &Hugging Face folder…"),
                partial(actions.open_hf_dialog, w, ctl),
            )
        )
        menu.addSeparator()
        menu.addAction(
            self._action(
                "architecture",
                lambda: tr("Main", "&Architecture summary…"),
                self.commands.show_architecture,
            )
        )

    def _view_menu(self, menu: QMenu) -> None:
        c = self.commands
        menu.addAction(
            self._action(
                "fit",
                lambda: tr("Main", "&Fit"),
                c.fit_active_panel,
                "Ctrl+0",
                lambda: tr("Main", "The active panel back to its laid-out size"),
            )
        )
        menu.addSeparator()
        for dock in c.docks.values():
            menu.addAction(dock.toggleViewAction())
        menu.addSeparator()
        cmap_menu = self._menu(menu, lambda: tr("Main", "&Colormap"))
        group = QActionGroup(self.window)
        group.setExclusive(True)
        for name in COLORMAPS:
            act = QAction(name, self.window, checkable=True)
            act.setChecked(name == self.ctl.session.selection.colormap)
            act.triggered.connect(partial(c.set_colormap, name))
            group.addAction(act)
            cmap_menu.addAction(act)
            self.acts[f"cmap_{name}"] = act
        menu.addSeparator()
        menu.addAction(
            self._action("reset_layout", lambda: tr("Main", "&Reset layout"), c.reset_layout)
        )


class Toolbar(QToolBar):
    """model ▾ · device ▾ · size ▾ · fit ▾ · breadcrumb; a choice asks the controller."""

    def __init__(self, window: QMainWindow, ctl: Controller) -> None:
        super().__init__(window)
        self.window_, self.ctl = window, ctl
        self.setObjectName("toolbar_main")
        self.setMovable(False)
        self.model_combo = QComboBox(self)
        self.model_combo.setMinimumContentsLength(14)
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.device_combo = QComboBox(self)
        self.device_combo.addItem("CPU", "cpu")
        import torch

        if torch.cuda.is_available():
            self.device_combo.addItem("CUDA", "cuda")
        self.size_combo = QComboBox(self)
        for _label, value in SIZES:
            self.size_combo.addItem("", value)
        self.fit_combo = QComboBox(self)
        for _label, value in FITS:
            self.fit_combo.addItem("", value)
        self.breadcrumb = ElidedLabel(1, parent=self)
        self.breadcrumb.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.labels = {}
        for name, widget in (
            ("model", self.model_combo),
            ("device", self.device_combo),
            ("size", self.size_combo),
            ("fit", self.fit_combo),
        ):
            self.labels[name] = QLabel(self)
            self.addWidget(self.labels[name])
            self.addWidget(widget)
        self.addWidget(QLabel("  ", self))
        self.addWidget(self.breadcrumb)
        self._fill_model_combo()
        self.retranslate()
        self.model_combo.activated.connect(self._on_model)
        self.size_combo.activated.connect(lambda i: ctl.capture(size=self.size_combo.itemData(i)))
        self.fit_combo.activated.connect(lambda i: ctl.capture(fit=self.fit_combo.itemData(i)))
        self.device_combo.activated.connect(
            lambda i: ctl.capture(device=self.device_combo.itemData(i))
        )
        ctl.requestChanged.connect(self.sync)

    def retranslate(self) -> None:
        self.setWindowTitle(tr("Main", "Model and input"))
        names = {
            "model": tr("Main", "model"),
            "device": tr("Main", "device"),
            "size": tr("Main", "size"),
            "fit": tr("Main", "fit"),
        }
        for name, label in self.labels.items():
            label.setText(f"  {names[name]} ")
        for combo, items in ((self.size_combo, SIZES), (self.fit_combo, FITS)):
            for i, (label, _value) in enumerate(items):
                combo.setItemText(i, label())
        for i in range(self.model_combo.count()):
            data = self.model_combo.itemData(i)
            if data == OPEN_CHECKPOINT:
                self.model_combo.setItemText(i, tr("Main", "Open checkpoint…"))
            elif data == OPEN_HF:
                self.model_combo.setItemText(i, tr("Main", "Open HF folder…"))
            elif isinstance(data, str) and data in PRESETS:
                self.model_combo.setItemText(i, tr("Main", "{name} (random)", name=data))
        self.model_combo.setToolTip(
            tr("Main", "Model: the demo, a preset with random weights, or your own")
        )
        self.device_combo.setToolTip(
            tr("Main", "Where the model runs (changing it re-runs the model)")
        )
        self.size_combo.setToolTip(
            tr(
                "Main",
                "Input size: the model's own, the image's native size (padded to windows), or N×N",
            )
        )
        self.fit_combo.setToolTip(
            tr(
                "Main",
                "How a non-square image meets a square size: crop (timm's eval transform), pad "
                "(letterbox) or stretch; auto = the checkpoint's convention",
            )
        )
        self.breadcrumb.setToolTip(
            tr("Main", "Stages, blocks and heads count from 0 (stage 0 is the paper's Stage 1)")
        )

    def _fill_model_combo(self) -> None:
        combo = self.model_combo
        combo.addItem("swin-demo", "demo")
        for name in PRESETS:
            combo.addItem(name, name)
        combo.insertSeparator(combo.count())
        combo.addItem("", OPEN_CHECKPOINT)
        combo.addItem("", OPEN_HF)

    def ensure_model_item(self, spec: Any, label: str | None = None) -> int:
        """The model combo's index for `spec`, adding an item (at the top) when new."""
        combo = self.model_combo
        for i in range(combo.count()):
            data = combo.itemData(i)
            if data is spec or (isinstance(spec, str) and data == spec):
                return i
        if label is None:
            info = getattr(spec, "info", None)
            label = Path(spec).name if isinstance(spec, str) else getattr(info, "label", None)
        combo.insertItem(0, label or type(spec).__name__, spec)
        return 0

    def sync(self, request: CaptureRequest) -> None:
        """Show the request's model, size, device and fit."""
        self.model_combo.setCurrentIndex(self.ensure_model_item(request.model))
        pairs = (
            (self.size_combo, request.size),
            (self.device_combo, request.device),
            (self.fit_combo, request.fit),
        )
        for combo, value in pairs:
            for i in range(combo.count()):
                if str(combo.itemData(i)) == str(value):
                    combo.setCurrentIndex(i)
                    break

    def _on_model(self, index: int) -> None:
        """A model picked; the two "Open…" entries open a dialog first."""
        data = self.model_combo.itemData(index)
        if data == OPEN_CHECKPOINT:
            opened = actions.open_checkpoint_dialog(self.window_, self.ctl)
        elif data == OPEN_HF:
            opened = actions.open_hf_dialog(self.window_, self.ctl)
        else:
            opened = self.ctl.set_model(data) is not None
        if not opened:
            self.sync(self.ctl.request)
