"""The Feature pyramid panel: every stage's output aligned to the image, one plot per stage
(`render.pyramid.figure_pyramid`), with its controls above the figure.

Controls, all two-way synced with the session:
- mode combo (channel | norm | PCA) <-> `Selection.feature_mode`;
- channel spin box ("top" = the channel with the most energy) <-> `Selection.channel`;
- "top channels" combo: the current stage's 8 strongest channels with their energy;
  picking one selects that channel (and channel mode); every stage's energy is computed
  off the GUI thread when a trace comes in (and kept per trace), so a stage change only
  reads it.
Mouse (the base panel's generic hit handling): hover reads the value and the token; a
click selects that stage's token, and the stage (block 0) when it is another one.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from ...i18n import num, tr
from ...render.pyramid import stage_energy, strongest_channels
from ..state import Pending, Session
from .base import Panel

MODES = ("channel", "norm", "pca")  # Selection.feature_mode, in the combo's order
TOP_K = 8
TOOLTIP_ROLE = Qt.ItemDataRole.ToolTipRole


def mode_texts() -> dict[str, tuple[str, str]]:
    """feature_mode -> (label, tooltip) in the current language."""
    return {
        "channel": (
            tr("Pyramid", "channel"),
            tr(
                "Pyramid",
                "One channel's activation per stage (the top-energy channel unless you pick one).",
            ),
        ),
        "norm": (
            tr("Pyramid", "norm"),
            tr("Pyramid", "The L2 norm of each token's feature vector over its channels."),
        ),
        "pca": (
            "PCA",
            tr(
                "Pyramid",
                "The first three principal components of the stage's tokens shown as R, G, B.",
            ),
        ),
    }


class PyramidPanel(Panel):
    """Feature pyramid (`view_name` "pyramid")."""

    view_name = "pyramid"
    watches = ("stage", "feature_mode", "channel", "colormap", "token")

    def tooltip_text(self) -> str:
        return tr(
            "Pyramid",
            "The feature pyramid: each stage's output (56², 28², 14², 7² tokens at 224) drawn over "
            "the same image; patch merging halves the resolution and doubles the channels.",
        )

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.mode_combo = QComboBox()
        for mode in MODES:
            self.mode_combo.addItem("", mode)
        self.channel_spin = QSpinBox()
        self.channel_spin.setRange(-1, 0)
        self.top_combo = QComboBox()
        self.top_combo.setMinimumContentsLength(18)
        self.mode_label, self.channel_label, self.top_label = QLabel(), QLabel(), QLabel()
        # the heading shares its row with the controls: the bottom dock is short, and every
        # line above the figure is taken from the stage plots
        self.layout().removeWidget(self.heading)
        row = QHBoxLayout()
        row.addWidget(self.heading, 1)
        for w in (
            self.mode_label,
            self.mode_combo,
            self.channel_label,
            self.channel_spin,
            self.top_label,
            self.top_combo,
        ):
            row.addWidget(w)
        self._control_texts()
        self.layout().insertLayout(0, row)
        self._top_key: tuple | None = None
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.channel_spin.valueChanged.connect(self._on_channel_changed)
        self.top_combo.activated.connect(self._on_top_picked)
        self._sync_controls()

    def _control_texts(self) -> None:
        texts = mode_texts()
        for i, mode in enumerate(MODES):
            label, tip = texts[mode]
            self.mode_combo.setItemText(i, label)
            self.mode_combo.setItemData(i, tip, TOOLTIP_ROLE)
        self.mode_combo.setToolTip(
            tr("Pyramid", "Feature mode: one channel, the L2 norm, or PCA → RGB.")
        )
        self.channel_spin.setSpecialValueText(tr("Pyramid", "top"))
        self.channel_spin.setToolTip(
            tr(
                "Pyramid",
                "Channel of the current stage shown in channel mode; 'top' = most energy.",
            )
        )
        self.top_combo.setToolTip(
            tr(
                "Pyramid",
                "The current stage's strongest channels by mean squared activation (energy).",
            )
        )
        self.top_combo.setPlaceholderText(tr("Pyramid", "top {k} by energy", k=TOP_K))
        self.mode_label.setText(tr("Pyramid", "mode"))
        self.channel_label.setText(tr("Pyramid", "channel"))
        self.top_label.setText(tr("Pyramid", "top channels"))

    def retranslate(self) -> None:
        self._control_texts()
        self._top_key = None  # the top-channel items are text too
        super().retranslate()

    # ---- rendering ---------------------------------------------------------------------------
    def _on_trace_changed(self, trace) -> None:
        super()._on_trace_changed(trace)
        if trace is not None:  # every stage's energy, off the GUI thread: a stage change reads it
            stages = range(len(trace.stages))
            work = lambda: [stage_energy(trace, s) for s in stages]  # noqa: E731
            self.session.compute_later(Pending(("energy", id(trace)), work, "", "energy"))

    def refresh(self) -> None:
        self._sync_controls()
        super().refresh()

    # ---- controls: session -> widgets ---------------------------------------------------------
    def _sync_controls(self) -> None:
        """Show the session's feature mode, channel and top channels without echoing back."""
        sel, trace = self.session.selection, self.session.trace
        with QSignalBlocker(self.mode_combo), QSignalBlocker(self.channel_spin):
            index = max(0, self.mode_combo.findData(sel.feature_mode))
            if index != self.mode_combo.currentIndex():
                self.mode_combo.setCurrentIndex(index)
            dim = trace.stages[sel.stage].dim if trace is not None else 0
            if self.channel_spin.maximum() != max(0, dim - 1):  # untouched: no repaint
                self.channel_spin.setRange(-1, max(0, dim - 1))
            value = -1 if sel.channel is None else sel.channel
            if value != self.channel_spin.value():
                self.channel_spin.setValue(value)
        self._fill_top_channels()

    def _fill_top_channels(self) -> None:
        trace, sel = self.session.trace, self.session.selection
        key = (id(trace), sel.stage)
        if key != self._top_key:
            self._top_key = key
            with QSignalBlocker(self.top_combo):
                self.top_combo.clear()
                if trace is not None:  # both cached per trace and stage
                    energy = stage_energy(trace, sel.stage)
                    for c in strongest_channels(trace, sel.stage, TOP_K):
                        text = tr(
                            "Pyramid",
                            "ch {c} · energy {energy}",
                            c=int(c),
                            energy=num(energy[c], ".3g"),
                        )
                        self.top_combo.addItem(text, int(c))
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
