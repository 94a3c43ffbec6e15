"""The main window's panels and docks: which panel goes where, the default layout, and
which panel is "current" (the last one clicked or focused, for File › Export panel).

Panels are imported defensively: a panel module that is missing (or fails to import) is
skipped, and the centre falls back to a plain view of the input image.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

from ..render.selection import Picture, Selection
from .navigator import NavigatorPanel
from .panels.base import Panel

if TYPE_CHECKING:
    from .main import MainWindow

# (name, module, class, area); area: center | right | bottom | bottom-right
PANEL_SPECS = [
    ("grid", "panels.grid", "GridPanel", "center"),
    ("attention", "panels.attention", "AttentionPanel", "right"),
    ("mask", "panels.mask", "MaskPanel", "right"),
    ("shift", "panels.shift", "ShiftPanel", "right"),
    ("bias", "panels.bias", "BiasPanel", "right"),
    ("internals", "panels.internals", "InternalsPanel", "right"),
    ("pyramid", "panels.pyramid", "PyramidPanel", "bottom"),
    ("merging", "panels.merging", "MergingPanel", "bottom"),
    ("predictions", "panels.predictions", "PredictionsPanel", "bottom-right"),
]
LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


class ImagePanel(Panel):
    """Fallback centre view (the input image) when the window-grid panel is missing."""

    title = "Input image"
    view_name = "image"

    def render(self, trace, selection: Selection) -> Picture:
        return Picture(trace.image, trace.image, title="Input image")

    def depends_on(self, new: Selection, old: Selection) -> bool:
        return False


def load_panel_class(module: str, cls: str) -> type | None:
    try:
        return getattr(importlib.import_module(f".{module}", __package__), cls)
    except (ImportError, AttributeError) as e:
        if os.environ.get("SWIN_GUI_DEBUG") == "1":
            print(f"swin-gui: panel {cls} unavailable: {e}", file=sys.stderr)
        return None


class _ClickTracker(QObject):
    """Remembers the last panel the user pressed a mouse button in."""

    def __init__(self, window: MainWindow, name: str) -> None:
        super().__init__(window)
        self.window, self.name = window, name

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress:
            self.window.active_panel_name = self.name
        return False


def build_docks(window: MainWindow) -> None:
    """Navigator dock, the centre panel and one dock per available panel."""
    window.navigator = NavigatorPanel(window.session, window)
    _add_dock(window, "navigator", window.navigator, "Navigator")
    for name, module, cls_name, area in PANEL_SPECS:
        cls = load_panel_class(module, cls_name) or (ImagePanel if name == "grid" else None)
        if cls is None:
            continue
        panel = cls(window.session, window)
        panel.lazy = area != "center"  # tabbed-away panels render when shown
        window.panels[name] = panel
        for w in [panel, *panel.findChildren(QWidget)]:
            w.installEventFilter(_ClickTracker(window, name))
        if area == "center":
            window.setCentralWidget(panel)
        else:
            _add_dock(window, name, panel, getattr(panel, "title", name))
    default_layout(window)
    QApplication.instance().focusChanged.connect(window._on_focus_changed)


def _add_dock(window: MainWindow, name: str, widget: QWidget, title: str) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{name}")
    dock.setWidget(widget)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    window.docks[name] = dock
    return dock


def default_layout(window: MainWindow) -> None:
    """Navigator left; analysis tabs right; pyramid | merging tabs and predictions bottom.

    Splits come before tabs: `splitDockWidget` on a tabbed dock would add another tab."""
    docks = window.docks
    areas = {name: area for name, _, _, area in PANEL_SPECS}
    right = [n for n in docks if areas.get(n) == "right"]
    bottom = [n for n in docks if areas.get(n) == "bottom"]
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    window.addDockWidget(LEFT, docks["navigator"])
    for group, area in ((right, RIGHT), (bottom, BOTTOM)):
        if group:
            window.addDockWidget(area, docks[group[0]])
    if "predictions" in docks:
        if bottom:
            window.splitDockWidget(
                docks[bottom[0]], docks["predictions"], Qt.Orientation.Horizontal
            )
        else:
            window.addDockWidget(BOTTOM, docks["predictions"])
    for group in (right, bottom):
        for name in group[1:]:
            window.tabifyDockWidget(docks[group[0]], docks[name])
    for dock in docks.values():
        dock.show()
    for group in (right, bottom):
        if group:
            docks[group[0]].raise_()
    _default_sizes(window, right, bottom)


def _default_sizes(window: MainWindow, right: list[str], bottom: list[str]) -> None:
    docks = window.docks
    horizontal = [docks["navigator"]] + ([docks[right[0]]] if right else [])
    window.resizeDocks(horizontal, [300, 620][: len(horizontal)], Qt.Orientation.Horizontal)
    if bottom:
        window.resizeDocks([docks[bottom[0]]], [300], Qt.Orientation.Vertical)
        if "predictions" in docks:
            pair = [docks[bottom[0]], docks["predictions"]]
            window.resizeDocks(pair, [1150, 420], Qt.Orientation.Horizontal)


def panel_of(window: MainWindow, widget: QWidget | None) -> str | None:
    """The name of the panel that contains `widget`, if any."""
    while widget is not None:
        for name, panel in window.panels.items():
            if widget is panel:
                return name
        widget = widget.parentWidget()
    return None
