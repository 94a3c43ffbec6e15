"""The Concepts panel: what the selected step and the view being looked at show, why it
matters and this image's numbers, then the lecture notes' errors corrected with the loaded
model's evidence (`render.concepts.figure_concepts`, text from `swin_gui.render.concept_text`).

- Links (a block, a window, a region's token) are hit regions with a ``select`` payload:
  a click selects that thing in every panel (the generic handler in `base.Panel`); the
  cursor turns into a hand over them and the status bar says what a click selects.
- The text wraps to the panel's width: a resize re-renders it (debounced). The wheel
  scrolls instead of zooming (zooming text that keeps its point size would only move it).
- Which view it explains (the hook): `set_active_view(name)`. Without wiring from the main
  window the panel follows on its own: it listens to `QApplication.focusChanged` (a click
  in a panel focuses its figure view), to the main window's docks becoming visible (a tab
  raised; watched from the panel's first showing on, after the start-up layout) and, when
  it is shown, reads the main window's `active_panel_name` (the last panel clicked, or the
  one `--view`/`go_to` raised). Its own name is ignored, so clicking a link here keeps
  the view it explains.
- The Cost lab's measurement: `set_cost_result(result)`; without it the panel reads the
  Cost panel's `result` when there is one (and re-renders when its sweep finishes), else
  cites the README's recorded sweep.
- A language switch re-renders the text (`base.Panel.retranslate`).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from ... import i18n
from ...render import figure as F
from ...render.concept_text import EXPLAINED_VIEWS
from ...render.concepts import figure_concepts
from ...render.selection import Selection
from ..state import Session
from .base import Panel


class _DockWatch(QObject):
    """Tells the panel when dock `name` becomes visible (a child of the panel, so the
    connection ends with it)."""

    def __init__(self, panel: ConceptsPanel, name: str) -> None:
        super().__init__(panel)
        self.panel, self.name = panel, name

    def visible(self, shown: bool) -> None:
        if shown:
            self.panel.set_active_view(self.name)


class _CostWatch(QObject):
    """Re-renders the panel when the Cost lab's sweep finishes (a child of the panel)."""

    def __init__(self, panel: ConceptsPanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def finished(self, _result) -> None:
        self.panel._request_refresh()


class ConceptsPanel(Panel):
    """Concepts (`view_name` "concepts")."""

    view_name = "concepts"
    watches = None  # every selection field can change a number in the text

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.active_view = "grid"
        self.cost_result = None
        self._width = 0.0
        self._docks_watched = False
        self._rewrap = QTimer(self, singleShot=True, interval=60)
        self._rewrap.timeout.connect(self._on_rewrap)
        # the scroll bar is always there, so showing it never narrows the text's width
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.viewport().installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.focusChanged.connect(self._on_focus_changed)
        self.refresh()

    def tooltip_text(self) -> str:
        return i18n.tr(
            "Concepts",
            "What the selected block or step and the view you are looking at show, with this "
            "image's numbers, and what the lecture notes get wrong. Underlined words select.",
        )

    # ---- the hook ----------------------------------------------------------------------------
    def set_active_view(self, name: str | None) -> None:
        """Explain view `name` (a registry name); names it has no text for are ignored."""
        if name in EXPLAINED_VIEWS and name != self.active_view:
            self.active_view = name
            self._request_refresh()

    def set_cost_result(self, result) -> None:
        """The Cost lab's `SweepResult` (None: back to the README's recorded sweep)."""
        self.cost_result = result
        self._request_refresh()

    def _on_focus_changed(self, _old, new) -> None:
        widget = new
        while widget is not None:
            if isinstance(widget, Panel):
                if widget is not self:
                    self.set_active_view(widget.view_name)
                return
            widget = widget.parentWidget()

    def _sync_from_window(self) -> None:
        window = self.window()
        self.set_active_view(getattr(window, "active_panel_name", None))
        if not self._docks_watched:
            self._docks_watched = True
            for name, dock in getattr(window, "docks", {}).items():
                if name != self.view_name:
                    dock.visibilityChanged.connect(_DockWatch(self, name).visible)
            worker = getattr(getattr(window, "panels", {}).get("cost"), "worker", None)
            if worker is not None:
                worker.finished.connect(_CostWatch(self).finished)

    def _cost(self):
        if self.cost_result is not None:
            return self.cost_result
        panels = getattr(self.window(), "panels", {})
        return getattr(panels.get("cost"), "result", None)

    # ---- rendering -------------------------------------------------------------------------
    def make_figure(self, trace, selection: Selection) -> F.Figure:
        self._width = self.width_pt()
        return figure_concepts(trace, selection, self.active_view, self._width, self._cost())

    def set_exposed(self, exposed: bool) -> None:
        if exposed:
            self._sync_from_window()
        super().set_exposed(exposed)

    def _on_rewrap(self) -> None:
        if self.figure is not None and abs(self.width_pt() - self._width) > 0.5:
            self._request_refresh()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """The wheel scrolls the text (the figure view would zoom it); a new viewport width
        re-wraps it."""
        if obj is self.view.viewport():
            if event.type() == QEvent.Type.Wheel:
                QApplication.sendEvent(self.view.verticalScrollBar(), event)
                return True
            if event.type() == QEvent.Type.Resize:
                self._rewrap.start()
        return super().eventFilter(obj, event)

    # ---- links -----------------------------------------------------------------------------
    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        if hit.kind == "link":
            return i18n.tr("Concepts", "click: select {what}", what=hit.region.payload["link"])
        return super().describe_tokens(hit, tokens)

    def on_hit_hovered(self, hit: F.Hit | None) -> None:
        super().on_hit_hovered(hit)
        link = hit is not None and hit.kind == "link"
        shape = Qt.CursorShape.PointingHandCursor if link else Qt.CursorShape.OpenHandCursor
        self.view.viewport().setCursor(shape)
