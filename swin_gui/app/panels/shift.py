"""The cyclic-shift panel: the token grid before and after roll(-s, -s), with a checkable
"Shift (S)" button that toggles the shifted view (two-way with `Selection.shift_view`).
On a real SW-MSA block with the shift toggled off it also shows the ablation that the
shell computes into `session.ablation`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton

from ...model.geometry import shift_regions
from ...render.selection import Picture, Selection, view_shift
from ...render.shift import ablation_applies, render_shift_view, shift_layout
from ..state import Hover
from .base import Rect, TokenGridPanel

SHIFT_TOOLTIP = (
    "Swin shifts its windows by rolling the token grid by (−s, −s) with s = M/2; tokens "
    "that wrap around share a window with tokens from the far side of the image, so the "
    "attention mask keeps the 9 regions apart."
)
BUTTON_TOOLTIP = (
    "Draw the shifted (SW-MSA) or the regular (W-MSA) partition; switching the shift off on "
    "an SW-MSA block re-runs that block without it and shows how much its output changes."
)


class ShiftPanel(TokenGridPanel):
    """Before/after the cyclic shift; the shift toggle and the shift ablation."""

    title = "Cyclic shift"
    view_name = "shift"
    watches = ("stage", "block", "token", "window", "shift_view", "colormap")
    canvas_tooltip = SHIFT_TOOLTIP
    hover_width = 3.0

    def __init__(self, session, parent=None) -> None:
        super().__init__(session, parent)
        self.shift_button = QPushButton("Shift (S)")
        self.shift_button.setCheckable(True)
        self.shift_button.setToolTip(BUTTON_TOOLTIP)
        self.shift_button.clicked.connect(self._on_shift_clicked)
        row = QHBoxLayout()
        row.addWidget(self.shift_button)
        row.addStretch(1)
        self.layout().insertLayout(1, row)
        session.ablationChanged.connect(self._on_ablation_changed)
        self._sync_button()
        self.refresh()

    # ---- rendering ------------------------------------------------------------------------
    def render(self, trace, selection: Selection) -> Picture:
        self.layout_info = shift_layout(trace, selection)
        self.canvas.set_highlight([])  # hover outlines belong to the previous picture
        return render_shift_view(trace, selection, self.session.ablation)

    def _on_trace_changed(self, trace) -> None:
        self._sync_button()
        super()._on_trace_changed(trace)

    def _on_selection_changed(self, new: Selection, old: Selection) -> None:
        self._sync_button()
        super()._on_selection_changed(new, old)

    def _on_ablation_changed(self, ablation) -> None:
        trace = self.session.trace
        if trace is not None and ablation_applies(trace, self.session.selection):
            self._request_refresh()

    # ---- the shift toggle -----------------------------------------------------------------------
    def _sync_button(self) -> None:
        """The button shows whether the drawn partition is shifted (model → widget)."""
        block = self.session.current_block()
        shifted = block is not None and view_shift(block, self.session.selection) > 0
        can_shift = block is not None and min(block.resolution) > block.window
        self.shift_button.blockSignals(True)
        self.shift_button.setChecked(shifted)
        self.shift_button.setEnabled(can_shift)
        self.shift_button.blockSignals(False)
        if block is not None and not can_shift:
            H, W = block.resolution
            self.shift_button.setToolTip(f"No shift possible: the grid {H}×{W} fits one window.")
        else:
            self.shift_button.setToolTip(BUTTON_TOOLTIP)

    def _on_shift_clicked(self, checked: bool) -> None:
        """Widget → model: the shifted or the regular partition; back to "as computed"
        (None) when that is what the block did, as the S key does."""
        block = self.session.current_block()
        if block is None:
            return
        self.session.select(shift_view=None if checked == (block.shift > 0) else bool(checked))
        self._sync_button()

    # ---- mouse ------------------------------------------------------------------------------
    def describe(self, r: int, c: int) -> str:
        """'token (r, c) → region k, rolled to (p, q)' for the status bar."""
        lay = self.layout_info
        block = self.session.current_block()
        Hp, Wp = lay.padded
        s = lay.shift
        p, q = (r - s) % Hp, (c - s) % Wp
        region = int(shift_regions(Hp, Wp, block.window, s)[p, q])
        H, W = block.resolution
        kind = "token" if r < H and c < W else "padding token"
        return f"{kind} ({r}, {c}) → region {region}, rolled to ({p}, {q})"

    def hover_rects(self, hover: Hover) -> list[Rect] | None:
        """Tokens hovered in other panels, in both grids (before and after the roll)."""
        lay = self.layout_info
        own = hover.source == self.view_name
        if own or lay is None or hover.stage != self.session.selection.stage:
            return []
        return [rect for r, c in hover.tokens for rect in lay.token_rects(r, c)]
