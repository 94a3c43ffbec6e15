"""The Feature pyramid panel: every stage's output side by side, aligned to the image
(`render.pyramid.render_pyramid_view`), with its controls.

Controls, all two-way synced with the session:
- mode combo (channel | norm | PCA) <-> `Selection.feature_mode`;
- channel spin box ("top" = the channel with the most energy) <-> `Selection.channel`;
- "top channels" combo: the current stage's 8 strongest channels with their energy;
  picking one selects that channel (and channel mode).
Mouse: click a stage tile to make it the current stage (block 0) and select the token
under the mouse; hover shows the token on the other panels.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from ...analysis.features import channel_energy, top_channels
from ...render.pyramid import (
    display_scale,
    pyramid_hit,
    render_pyramid_view,
    tile_origins,
)
from ...render.selection import Picture, Selection
from ..state import Hover, Session
from .base import Panel, Rect

MODES = (("channel", "channel"), ("norm", "norm"), ("PCA", "pca"))  # (label, feature_mode)
TOP_K = 8
TOOLTIP_ROLE = Qt.ItemDataRole.ToolTipRole
TOOLTIP = (
    "The feature pyramid: each stage's output (56², 28², 14², 7² tokens at 224) drawn over "
    "the same image; patch merging halves the resolution and doubles the channels."
)
MODE_TIP = {
    "channel": "One channel's activation per stage (the top-energy channel unless you pick one).",
    "norm": "The L2 norm of each token's feature vector over its channels.",
    "pca": "The first three principal components of the stage's tokens shown as R, G, B.",
}
CHANNEL_TIP = "Channel of the current stage shown in channel mode; 'top' = most energy."
TOP_TIP = "The current stage's strongest channels by mean squared activation (energy)."


class PyramidPanel(Panel):
    """Feature pyramid (`view_name` "pyramid")."""

    title = "Feature pyramid"
    view_name = "pyramid"
    watches = ("stage", "feature_mode", "channel", "colormap", "token")
    tooltip = TOOLTIP
    canvas_tooltip = "Click a stage to select it and the token under the mouse."

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.mode_combo = QComboBox()
        for label, mode in MODES:
            self.mode_combo.addItem(label, mode)
            self.mode_combo.setItemData(self.mode_combo.count() - 1, MODE_TIP[mode], TOOLTIP_ROLE)
        self.mode_combo.setToolTip("Feature mode: one channel, the L2 norm, or PCA → RGB.")
        self.channel_spin = QSpinBox()
        self.channel_spin.setRange(-1, 0)
        self.channel_spin.setSpecialValueText("top")
        self.channel_spin.setToolTip(CHANNEL_TIP)
        self.top_combo = QComboBox()
        self.top_combo.setToolTip(TOP_TIP)
        self.top_combo.setMinimumContentsLength(18)
        self.top_combo.setPlaceholderText(f"top {TOP_K} by energy")
        row = QHBoxLayout()
        for w in (QLabel("mode"), self.mode_combo, QLabel("channel"), self.channel_spin,
                  QLabel("top channels"), self.top_combo):  # fmt: skip
            row.addWidget(w)
        row.addStretch(1)
        self.layout().insertLayout(1, row)
        self._top_key: tuple | None = None
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.channel_spin.valueChanged.connect(self._on_channel_changed)
        self.top_combo.activated.connect(self._on_top_picked)
        self._sync_controls()

    # ---- rendering ---------------------------------------------------------------------------
    def render(self, trace, selection: Selection) -> Picture:
        return render_pyramid_view(trace, selection)

    def refresh(self) -> None:
        self._sync_controls()
        super().refresh()

    # ---- controls: session -> widgets ---------------------------------------------------------
    def _sync_controls(self) -> None:
        """Show the session's feature mode, channel and top channels without echoing back."""
        sel, trace = self.session.selection, self.session.trace
        with QSignalBlocker(self.mode_combo), QSignalBlocker(self.channel_spin):
            self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(sel.feature_mode)))
            dim = trace.stages[sel.stage].dim if trace is not None else 0
            self.channel_spin.setRange(-1, max(0, dim - 1))
            self.channel_spin.setValue(-1 if sel.channel is None else sel.channel)
        self._fill_top_channels()

    def _fill_top_channels(self) -> None:
        trace, sel = self.session.trace, self.session.selection
        key = (id(trace), sel.stage)
        if key != self._top_key:
            self._top_key = key
            with QSignalBlocker(self.top_combo):
                self.top_combo.clear()
                if trace is not None:
                    f = trace.stages[sel.stage].out
                    energy = channel_energy(f)
                    for c in top_channels(f, TOP_K):
                        self.top_combo.addItem(f"ch {int(c)} · energy {energy[c]:.3g}", int(c))
        with QSignalBlocker(self.top_combo):
            i = self.top_combo.findData(sel.channel) if sel.channel is not None else -1
            self.top_combo.setCurrentIndex(i)

    # ---- controls: widgets -> session ---------------------------------------------------------
    def _on_mode_changed(self, index: int) -> None:
        self.session.select(feature_mode=self.mode_combo.itemData(index))

    def _on_channel_changed(self, value: int) -> None:
        if value < 0:
            self.session.select(channel=None)
        else:
            self.session.select(channel=value, feature_mode="channel")

    def _on_top_picked(self, index: int) -> None:
        channel = self.top_combo.itemData(index)
        if channel is not None:
            self.session.select(channel=int(channel), feature_mode="channel")

    # ---- mouse -------------------------------------------------------------------------------
    def _on_canvas_clicked(self, x: float, y: float) -> None:
        trace = self.session.trace
        hit = None if trace is None else pyramid_hit(trace, x, y)
        if hit is None:
            return
        stage, token = hit
        if stage != self.session.selection.stage:
            self.session.select(stage=stage, block=0, step="block", token=token)
        else:
            self.session.select(token=token)

    def _on_canvas_hovered(self, x: float, y: float) -> None:
        trace = self.session.trace
        hit = None if trace is None or x < 0 else pyramid_hit(trace, x, y)
        self._hover((hit[1],) if hit else (), hit, stage=hit[0] if hit else None)

    def hover_rects(self, hover: Hover) -> list[Rect] | None:
        """Outline tokens hovered in any panel on their stage's tile."""
        trace = self.session.trace
        if trace is None or not 0 <= hover.stage < len(trace.stages):
            return []
        x0, y0 = tile_origins(trace)[hover.stage]
        p = trace.token_pixels(hover.stage) * display_scale(trace.image.shape)
        return [(x0 + c * p, y0 + r * p, p, p) for r, c in hover.tokens]
