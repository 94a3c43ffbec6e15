"""The main window's panels and docks: which panel goes where, the default layout, and
which panel is "current" (the last one clicked, for File › Export panel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from ..i18n import tr
from ..render.registry import VIEWS
from .navigator import NavigatorPanel
from .panels.base import Panel
from .state import Session

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


class _ClickTracker(QObject):
    """Reports the panel the user pressed a mouse button in."""

    def __init__(self, parent: QObject, name: str, on_click: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.name, self.on_click = name, on_click

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress:
            self.on_click(self.name)
        return False


@dataclass
class Docks:
    """The navigator, every registry view's panel and the docks, by name."""

    navigator: NavigatorPanel
    panels: dict[str, Panel] = field(default_factory=dict)
    docks: dict[str, QDockWidget] = field(default_factory=dict)

    def retranslate(self) -> None:
        self.docks["navigator"].setWindowTitle(tr("Main", "Navigator"))
        for spec in VIEWS:
            if spec.name in self.docks:
                self.docks[spec.name].setWindowTitle(spec.tab)

    def panel_of(self, widget: QWidget | None) -> str | None:
        """The name of the panel that contains `widget`, if any."""
        while widget is not None:
            for name, panel in self.panels.items():
                if widget is panel:
                    return name
            widget = widget.parentWidget()
        return None


def build_docks(window: QMainWindow, session: Session, on_click: Callable[[str], None]) -> Docks:
    """Navigator dock, the centre panel and one dock per registry view; `on_click(name)`
    when the user presses a mouse button in a panel."""
    built = Docks(NavigatorPanel(session, window))
    _add_dock(window, built, "navigator", built.navigator, tr("Main", "Navigator"))
    for spec in VIEWS:
        name, area = spec.name, spec.area
        panel = spec.panel_class()(session, window)
        panel.lazy = area != "center"  # tabbed-away panels render when shown
        if area.startswith("bottom"):  # a short dock: the figure gets the height
            panel.caption.set_lines(1)
        built.panels[name] = panel
        for w in [panel, *panel.findChildren(QWidget)]:
            w.installEventFilter(_ClickTracker(window, name, on_click))
        if area == "center":
            window.setCentralWidget(panel)
        else:
            _add_dock(window, built, name, panel, spec.tab)
    default_layout(window, built.docks)
    return built


def _add_dock(
    window: QMainWindow, built: Docks, name: str, widget: QWidget, title: str
) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{name}")
    dock.setWidget(widget)
    if isinstance(widget, Panel):
        dock.visibilityChanged.connect(widget.set_exposed)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    built.docks[name] = dock
    return dock


def default_layout(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Navigator left; analysis tabs right; pyramid | merging tabs and predictions bottom.

    Splits come before tabs: `splitDockWidget` on a tabbed dock would add another tab."""
    areas = {v.name: v.area for v in VIEWS}
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
    _default_sizes(window, docks, right, bottom)


def _default_sizes(
    window: QMainWindow, docks: dict[str, QDockWidget], right: list[str], bottom: list[str]
) -> None:
    """Shares of the window: navigator 20 % (its step labels, Russian ones too, fit at
    1366 px), right tabs 40 %, bottom row 33 % of the height (predictions a third of its
    width), so 1280×720 to 1920×1080 all fit."""
    W, H = window.width(), window.height()
    horizontal = [docks["navigator"]] + ([docks[right[0]]] if right else [])
    sizes = [max(170, int(W * 0.2)), int(W * 0.40)]
    window.resizeDocks(horizontal, sizes[: len(horizontal)], Qt.Orientation.Horizontal)
    if bottom:
        window.resizeDocks([docks[bottom[0]]], [max(190, int(H * 0.33))], Qt.Orientation.Vertical)
        if "predictions" in docks:
            pair = [docks[bottom[0]], docks["predictions"]]
            window.resizeDocks(pair, [int(W * 0.66), int(W * 0.34)], Qt.Orientation.Horizontal)
