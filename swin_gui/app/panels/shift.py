"""The cyclic-shift panel: the token grid before and after roll(−s, −s) (`figure_shift`),
with a checkable "Shift (S)" button that toggles the shifted view (two-way with
`Selection.shift_view`). On a real SW-MSA block with the shift toggled off it also shows the
ablation that the shell computes into `session.ablation` (a `ShiftAblation`), re-rendering
when it arrives.

Hover and click come from the figure's hit regions: every cell of either grid names its
ORIGINAL token, so a click selects it and a hover outlines it in both grids and elsewhere.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton

from ...i18n import tr
from ...render import figure as F
from ...render.selection import Selection, view_shift
from ...render.shift import ablation_applies
from .base import Panel


def button_tooltip() -> str:
    return tr(
        "Shift",
        "Draw the shifted (SW-MSA) or the regular (W-MSA) partition; switching the shift off "
        "on an SW-MSA block re-runs that block without it and shows how much its output "
        "changes.",
    )


class ShiftPanel(Panel):
    """Before/after the cyclic shift; the shift toggle and the shift ablation."""

    view_name = "shift"
    watches = ("stage", "block", "token", "window", "shift_view", "colormap")

    def tooltip_text(self) -> str:
        return tr(
            "Shift",
            "Swin shifts its windows by rolling the token grid by (−s, −s) with s = M/2; tokens "
            "that wrap around share a window with tokens from the far side of the image, so the "
            "attention mask keeps the 9 regions apart.",
        )

    def __init__(self, session, parent=None) -> None:
        super().__init__(session, parent)
        self.shift_button = QPushButton(tr("Shift", "Shift (S)"))
        self.shift_button.setCheckable(True)
        self.shift_button.setToolTip(button_tooltip())
        self.shift_button.clicked.connect(self._on_shift_clicked)
        row = QHBoxLayout()
        row.addWidget(self.shift_button)
        row.addStretch(1)
        self.layout().insertLayout(1, row)
        session.ablationChanged.connect(self._on_ablation_changed)
        self._sync_button()
        self.refresh()

    def retranslate(self) -> None:
        self.shift_button.setText(tr("Shift", "Shift (S)"))
        self._sync_button()
        super().retranslate()

    # ---- rendering ------------------------------------------------------------------------
    def make_figure(self, trace, selection: Selection) -> F.Figure:
        return self.spec.figure_function()(trace, selection, ablation=self.session.ablation_out())

    def _on_trace_changed(self, trace) -> None:
        self._sync_button()
        super()._on_trace_changed(trace)

    def _on_selection_changed(self, new: Selection, old: Selection) -> None:
        self._sync_button()
        super()._on_selection_changed(new, old)

    def _on_ablation_changed(self, ablation) -> None:
        """Redraw when an ablation arrives, or when one that is drawn is cleared (a cleared
        one that was never drawn is followed by the selection or trace change anyway)."""
        trace = self.session.trace
        if trace is None or not ablation_applies(trace, self.session.selection):
            return
        if ablation is not None or self._shows_ablation():
            self._request_refresh()

    def _shows_ablation(self) -> bool:
        plots = () if self.figure is None else self.figure.plots
        return any(p.key == "ablation" and p.colorbar is not None for p in plots)

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
            tip = tr("Shift", "No shift possible: the grid {H}×{W} fits one window.", H=H, W=W)
        else:
            tip = button_tooltip()
        if tip != self.shift_button.toolTip():  # (setting it costs 0.2 ms, on every token)
            self.shift_button.setToolTip(tip)

    def _on_shift_clicked(self, checked: bool) -> None:
        """Widget → model: the shifted or the regular partition; back to "as computed"
        (None) when that is what the block did, as the S key does."""
        block = self.session.current_block()
        if block is None:
            return
        self.session.select(shift_view=None if checked == (block.shift > 0) else bool(checked))
        self._sync_button()

    # ---- mouse ------------------------------------------------------------------------------
    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        """'token (r, c) rolled to (p, q)' on the grids; the region is the hit's value."""
        block = self.session.current_block()
        if hit.plot not in ("before", "after") or not tokens or block is None:
            return super().describe_tokens(hit, tokens)
        r, c = tokens[0]
        Hp, Wp = block.padded
        s = view_shift(block, self.session.selection)
        p, q = (r - s) % Hp, (c - s) % Wp
        H, W = block.resolution
        if r < H and c < W:
            return tr("Shift", "token ({r}, {c}) rolled to ({p}, {q})", r=r, c=c, p=p, q=q)
        return tr("Shift", "padding token ({r}, {c}) rolled to ({p}, {q})", r=r, c=c, p=p, q=q)
