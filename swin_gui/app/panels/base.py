"""Shared panel plumbing. A `Panel` shows its view's `Figure` (from the registry) in a
`FigureView`, with a heading and a caption that elide instead of re-laying out the window.

It re-renders on the session changes it `watches`, and turns the figure's hit regions into
user intent with no per-panel code for the common cases (payload keys of `HitRegion`):

- ``tokens`` (rows, cols, 2) int: the stage-grid token of each cell (−1 or ≥ resolution is
  padding), or ``origin`` (r0, c0): cell (i, j) is token (r0 + i, c0 + j);
- ``keys`` (N, 2) [+ ``padding`` (N,)]: an N×N matrix, cell (i, j) = query keys[i] → key
  keys[j]; a click follows the attention to key j;
- ``stage``: the stage those tokens live on (default: the selected one);
- ``select``: extra selection fields a click sets (e.g. {"head": 2}).

A panel whose figure needs something slow first (a big block's on-demand attention) says
so in `background_work`; the session's background runner computes it off the GUI thread
while the panel shows a placeholder, then the panel draws. The job starts a frame
(`controller.FRAME_S`) later, so that the change paints before the job competes with the
GUI thread; one superseded meanwhile never starts.

Hovering a cell tells every panel which tokens are under the mouse (`Hover`) and puts the
value under the cursor, with its unit, and the tokens in the status bar; tokens hovered
elsewhere are outlined on every cell that shows them.

Language: every panel follows `i18n.set_language` (`retranslate`): the heading, the tooltip
(`tooltip_text()`, the subclass's own strings) and the figure, re-rendered in the new
language; subclasses with widgets of their own extend `retranslate`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ... import i18n
from ...i18n import tr
from ...render import figure as F
from ...render.registry import view as registry_view
from ...render.selection import Selection
from ..figure_view import FigureView
from ..state import Hover, Pending, Session
from .elided import ElidedLabel

__all__ = ["ElidedLabel", "Panel"]


PREFETCH_IDLE_MS = 150  # idle time after a figure is drawn before `_prepare_next` starts


class Panel(QWidget):
    """Base panel for the registry view `view_name`. Subclasses set `view_name` and
    `watches` and may override `describe_tokens` or the hit handlers."""

    view_name = ""
    lazy = False  # the main window sets True: hidden (tabbed-away) panels render when shown
    prefetch = False  # prepare the figures of the steps ←/→ show while idle (`_prepare_next`)
    watches: tuple[str, ...] | None = None  # Selection fields the figure depends on; None: all
    tooltip = ""  # a fixed tooltip (prefer `tooltip_text`, which can translate)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.spec = registry_view(self.view_name)
        self.title = self.spec.title
        self.figure: F.Figure | None = None
        self._stale = False
        self._waiting: Pending | None = None  # the background work the figure waits for
        self._last_hover: tuple = ()
        self.heading = ElidedLabel(1, bold=True)
        self.heading.set_full_text(self.title)
        self.view = FigureView(self)
        self.caption = ElidedLabel(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        for w in (self.heading, self.view, self.caption):
            layout.addWidget(w)
        layout.setStretch(1, 1)
        self.setToolTip(self.tooltip_text())
        self._unsubscribe_language = i18n.subscribe(self._on_language)
        session.traceChanged.connect(self._on_trace_changed)
        session.selectionChanged.connect(self._on_selection_changed)
        session.hoverChanged.connect(self._on_hover_changed)
        session.computed.connect(self._on_computed)
        self.view.hovered.connect(self.on_hit_hovered)
        self.view.clicked.connect(self.on_hit_clicked)
        self._prefetch_timer = QTimer(self, singleShot=True, interval=PREFETCH_IDLE_MS)
        self._prefetch_timer.timeout.connect(self._prepare_next)
        self._neighbours: list[Selection] | None = None  # still to prepare (None: not yet)

    @property
    def waiting(self) -> bool:
        """Whether the panel shows a placeholder while its figure's work runs."""
        return self._waiting is not None

    def tooltip_text(self) -> str:
        """The panel's tooltip in the current language ("" for none); subclasses return
        `tr(...)` here so that a language switch re-translates it."""
        return self.tooltip

    # ---- language ---------------------------------------------------------------------------
    def _on_language(self, code: str) -> None:
        if shiboken6.isValid(self):
            self.retranslate()

    def retranslate(self) -> None:
        """Re-apply the texts after a language switch and re-render the figure."""
        self.title = self.spec.title
        self.setToolTip(self.tooltip_text())
        if self.figure is None:
            self.heading.set_full_text(self.title)
        self._request_refresh()

    # ---- rendering -----------------------------------------------------------------------
    def make_figure(self, trace, selection: Selection) -> F.Figure:
        return self.spec.figure_function()(trace, selection)

    def depends_on(self, new: Selection, old: Selection) -> bool:
        if self.watches is None:
            return True
        return any(getattr(new, k) != getattr(old, k) for k in self.watches)

    def background_work(self, trace, selection: Selection) -> Pending | None:
        """What the figure needs computed first, off the GUI thread; None: draw now."""
        return None

    def can_prepare(self, trace, selection: Selection) -> bool:
        """Whether idle time may build this step's figure ahead (`_prepare_next`): only
        when nothing is to be computed for it that the worker would compute."""
        return self.background_work(trace, selection) is None

    def refresh(self, wait: bool = False) -> None:
        """Re-render; when the figure needs background work (and not `wait`), show a
        placeholder until `session.computed` says it is done."""
        trace = self.session.trace
        self._stale = False
        self._waiting = None
        if trace is None:
            return
        pending = None if wait else self.background_work(trace, self.session.selection)
        if pending is not None and self.session.compute_later(pending):
            self._waiting = pending
            self.show_placeholder(pending.text)
            return
        fig = self.make_figure(trace, self.session.selection)
        self.figure = fig
        self.view.show_figure(fig)
        self.heading.set_full_text(fig.title or self.title)
        self.caption.set_full_text(" · ".join(fig.notes))
        if self.prefetch:
            self._prepare_later()

    def _prepare_later(self) -> None:
        self._neighbours = None
        self._prefetch_timer.start(PREFETCH_IDLE_MS)

    def _prepare_next(self) -> None:
        """While idle, one at a time: build the figure a step ←/→ would show, hidden, so the
        first visit of a block shows items instead of building them (the grid's frame of a
        new stage or shift: 5–10 ms on a 1536² image; the attention of a block visited
        before). A step whose figure needs background work is skipped. Any refresh starts
        over."""
        trace, now = self.session.trace, self.session.selection
        if trace is None or self._waiting is not None or not self.isVisible():
            return
        if self._neighbours is None:
            steps = (self.session.stepped(+1), self.session.stepped(-1))
            self._neighbours = [s for s in steps if s is not None and self.depends_on(s, now)]
        if self._neighbours:
            step = self._neighbours.pop(0)
            if self.can_prepare(trace, step):
                self.view.prepare(self.make_figure(trace, step))
            self._prefetch_timer.start(0)

    def show_placeholder(self, text: str) -> None:
        """A one-line figure saying what is being computed (the last figure goes)."""
        line = F.Text(0, 10, text, 11, "selected", "lc")
        plot = F.Plot("pending", (0.0, 380.0), (0.0, 20.0), (380.0, 20.0), (line,), aspect=False)
        self.figure = F.Figure(self.title, (plot,), (text,), view=self.view_name)
        self.view.show_figure(self.figure, keep_extent=True)
        self.caption.set_full_text(text)

    def _on_computed(self, key) -> None:
        if self._waiting is not None and self._waiting.key == key:
            self._waiting = None
            if self.lazy and (not self.isVisible() or self.visibleRegion().isEmpty()):
                self._stale = True
            else:
                self.refresh(wait=True)  # draw now, even if the cache let it go meanwhile

    def _request_refresh(self) -> None:
        """Re-render now, or — for a `lazy` panel not on screen — when next exposed."""
        if self.lazy and (not self.isVisible() or self.visibleRegion().isEmpty()):
            self._stale = True
        else:
            self.refresh()

    def set_exposed(self, exposed: bool) -> None:
        if exposed and self._stale:
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.set_exposed(True)

    def _on_trace_changed(self, trace) -> None:
        self.view.fit()  # a new image resets the zoom
        self.view.figure_scene.set_highlight([])
        self.view.figure_scene.forget_spare()  # hidden items of the old trace's figures
        self._request_refresh()

    def _on_selection_changed(self, new: Selection, old: Selection) -> None:
        if self.depends_on(new, old):
            self._request_refresh()
        elif self.prefetch:  # the same figure, other neighbours (a patch-merging step)
            self._prepare_later()

    # ---- hits -> intent ----------------------------------------------------------------------
    def hit_tokens(self, hit: F.Hit) -> tuple[tuple[int, int], ...]:
        """The stage-grid tokens a cell stands for: (token,), (query, key) or ()."""
        pay, (i, j) = hit.region.payload, hit.cell
        if "keys" in pay:
            keys = pay["keys"]
            return (_tok(keys[i]), _tok(keys[j]))
        if "tokens" in pay:
            t = _tok(pay["tokens"][i, j])
            return () if t[0] < 0 or t[1] < 0 else (t,)
        if "origin" in pay:
            r0, c0 = pay["origin"]
            return ((r0 + i, c0 + j),)
        return ()

    def hit_stage(self, hit: F.Hit) -> int:
        return int(hit.region.payload.get("stage", self.session.selection.stage))

    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        if "keys" in hit.region.payload and len(tokens) == 2:
            (a, b), (c, d) = tokens
            return tr("Panel", "query ({a}, {b}) → key ({c}, {d})", a=a, b=b, c=c, d=d)
        if tokens:
            (r, c) = tokens[0]
            return tr("Panel", "stage {s} token ({r}, {c})", s=self.hit_stage(hit), r=r, c=c)
        return ""

    def on_hit_hovered(self, hit: F.Hit | None) -> None:
        tokens = () if hit is None else self.hit_tokens(hit)
        stage = self.session.selection.stage if hit is None else self.hit_stage(hit)
        if hit is not None:
            parts = [hit.value_text(), self.describe_tokens(hit, tokens)]
            text = " · ".join(p for p in parts if p)
            if text:
                self.session.message.emit(text)
        key = (stage, tokens)
        if key != self._last_hover:
            self._last_hover = key
            self.session.set_hover(Hover(stage, tokens, self.view_name) if tokens else None)

    def on_hit_clicked(self, hit: F.Hit | None) -> None:
        if hit is None:
            return
        pay = hit.region.payload
        changes = dict(pay.get("select", {}))
        tokens = self.hit_tokens(hit)
        if "keys" in pay:
            padding = pay.get("padding")
            if padding is not None and padding[hit.cell[1]]:
                self.session.message.emit(
                    tr("Panel", "that key is a padding token: it is not on the image")
                )
                tokens = ()
            else:
                tokens = tokens[1:]
        if tokens and self._on_grid(self.hit_stage(hit), tokens[0]):
            changes["token"] = tokens[0]
            if self.hit_stage(hit) != self.session.selection.stage:
                changes["stage"] = self.hit_stage(hit)
        if changes:
            self.session.select(**changes)

    def _on_grid(self, stage: int, token: tuple[int, int]) -> bool:
        trace = self.session.trace
        if trace is None or stage >= len(trace.stages):
            return False
        H, W = trace.stages[stage].resolution
        return 0 <= token[0] < H and 0 <= token[1] < W

    # ---- hovers from anywhere ------------------------------------------------------------
    def hover_rects(self, hover: Hover) -> list[tuple[str, float, float, float, float]]:
        """Every cell of this figure that shows a hovered token (same stage)."""
        if self.figure is None:
            return []
        wanted = set(hover.tokens)
        out = []
        for plot in self.figure.plots:
            for region in plot.hits:
                pay = region.payload
                if int(pay.get("stage", self.session.selection.stage)) != hover.stage:
                    continue
                for i, j in _cells_showing(region, wanted):
                    out.append((plot.key, *_cell_rect(region, i, j)))
        return out

    def _on_hover_changed(self, hover: Hover | None) -> None:
        rects = [] if hover is None or hover.source == self.view_name else self.hover_rects(hover)
        self.view.figure_scene.set_highlight(rects)

    # ---- export ------------------------------------------------------------------------------
    def width_pt(self) -> float:
        return self.view.viewport().width() / self.view.px_per_pt

    def export(
        self, path: str | Path, *, scale: float = 1.0, theme: str = "dark", overwrite: bool = False
    ) -> list[Path]:
        """Write the figure as shown (same layout width) to PNG/SVG/PDF, and its numbers
        as .npy beside it."""
        from ...safe_write import save_npy
        from ..figure_file import write_figure

        if self._stale or self._waiting is not None:
            self.refresh(wait=True)
        if self.figure is None:
            raise ValueError(tr("Panel", "nothing to export yet: open an image first"))
        path = Path(path)
        written = [
            write_figure(
                self.figure,
                path,
                scale=scale,
                theme=theme,
                width_pt=self.width_pt(),
                overwrite=overwrite,
            )
        ]
        numbers = self.figure.numbers()
        if numbers is not None:
            written.append(save_npy(numbers, path.with_suffix(".npy"), overwrite))
        return written


def _tok(v) -> tuple[int, int]:
    return int(v[0]), int(v[1])


def _cells_showing(region: F.HitRegion, wanted: set) -> list[tuple[int, int]]:
    pay = region.payload
    if "tokens" in pay:
        t = np.asarray(pay["tokens"])
        hits = np.zeros(t.shape[:2], bool)
        for r, c in wanted:
            hits |= (t[..., 0] == r) & (t[..., 1] == c)
        return [tuple(int(v) for v in ij) for ij in np.argwhere(hits)]
    if "origin" in pay:
        r0, c0 = pay["origin"]
        rows, cols = region.shape
        return [(r - r0, c - c0) for r, c in wanted if 0 <= r - r0 < rows and 0 <= c - c0 < cols]
    return []


def _cell_rect(region: F.HitRegion, i: int, j: int) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = region.extent
    rows, cols = region.shape
    w, h = (x1 - x0) / cols, (y1 - y0) / rows
    return x0 + j * w, y0 + i * h, w, h
