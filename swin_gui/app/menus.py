"""The menus and the keyboard shortcuts of the main window (the toolbar: `toolbar.py`).

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
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from ..i18n import tr
from ..model import PRESETS
from . import actions, export_all
from .controller import Controller
from .language import add_language_menu
from .settings import COLORMAPS
from .state import Session


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
        self.language = add_language_menu(menu, self.ctl.settings)  # View › Language
        menu.addSeparator()
        menu.addAction(
            self._action("reset_layout", lambda: tr("Main", "&Reset layout"), c.reset_layout)
        )
