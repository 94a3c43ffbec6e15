"""The Cost lab panel: Swin against a ViT, measured on this machine
(`render.cost.figure_cost`).

Before a run the figure shows the analytic MACs only. Run measures the loaded Swin's
architecture (its config, random weights: cost does not depend on the weights) against
DeiT-S at the sizes in `sizes`, on a worker thread (`app.cost_worker.CostWorker`), with a
progress bar; the button turns into Cancel meanwhile, which stops the sweep between two
measurements. The result is applied on the GUI thread and redraws the figure; it is kept
while images change (only the "this image" mark moves) and dropped when a model with
another architecture is loaded.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from ...i18n import num, tr
from ...render.cost import figure_cost
from ...render.selection import Selection
from ..cost_worker import CostWorker
from ..state import Session
from .base import ElidedLabel, Panel


def _not_measured() -> str:
    return tr("Cost", "not measured yet")


class CostPanel(Panel):
    """The cost lab (`view_name` "cost")."""

    view_name = "cost"
    watches = ()  # the trace (model and image size) only

    def tooltip_text(self) -> str:
        return tr(
            "Cost",
            "Swin's windowed attention makes its cost grow linearly with the pixels; ViT's global "
            "attention grows quadratically. Run measures both here, on this machine.",
        )

    sizes: tuple[int, ...] = (224, 384, 512, 768, 1024)
    vit = "vit_small_patch16_224"  # a preset name or a ViTConfig
    repeats = 2
    budget_s: float | None = 25.0

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.result = None
        self._result_config = None
        self.worker = CostWorker(self)
        self.run_button = QPushButton(tr("Cost", "Run"))
        self.run_button.setToolTip(
            tr("Cost", "Measure time, MACs and memory at every size (Cancel stops)")
        )
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setValue(0)
        self.status = ElidedLabel(1)
        self._status = _not_measured
        self._set_status(_not_measured)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.progress_bar, 1)
        self.layout().insertLayout(1, row)
        self.layout().insertWidget(2, self.status)
        self.run_button.clicked.connect(self.toggle)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)

    def _set_status(self, text: Callable[[], str]) -> None:
        """The status line, kept as the function that writes it so that a language switch
        writes it again."""
        self._status = text
        self.status.set_full_text(text())

    def retranslate(self) -> None:
        running = self.worker.is_running()
        self.run_button.setText(tr("Cost", "Cancel") if running else tr("Cost", "Run"))
        self.run_button.setToolTip(
            tr("Cost", "Measure time, MACs and memory at every size (Cancel stops)")
        )
        self._set_status(self._status)
        super().retranslate()

    def make_figure(self, trace, selection: Selection):
        return figure_cost(trace, selection, self.result)

    # ---- running --------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.worker.is_running():
            self._set_status(lambda: tr("Cost", "cancelling after the current measurement…"))
            self.worker.cancel()
        else:
            self.start()

    def start(self) -> None:
        trace = self.session.trace
        if trace is None:
            self.session.message.emit(
                tr("Cost", "open an image first: the sweep measures its model")
            )
            return
        self._result_config = trace.config
        self.run_button.setText(tr("Cost", "Cancel"))
        self.progress_bar.setValue(0)
        self._set_status(lambda: tr("Cost", "measuring…"))
        self.worker.run(
            swin=trace.config,
            vit=self.vit,
            sizes=self.sizes,
            repeats=self.repeats,
            budget_s=self.budget_s,
        )

    def _idle(self, text: Callable[[], str]) -> None:
        self.run_button.setText(tr("Cost", "Run"))
        self._set_status(text)

    def _on_progress(self, done: int, total: int, what: str) -> None:
        self.progress_bar.setMaximum(total)
        self.progress_bar.setValue(done)
        self._set_status(lambda: what)

    def _on_finished(self, result) -> None:
        self.result = result
        self._idle(lambda: tr("Cost", "measured in {s} s", s=num(result.wall_s, ".1f")))
        self.refresh()

    def _on_failed(self, message: str) -> None:
        self._idle(lambda: tr("Cost", "failed: {message}", message=message))
        self.session.message.emit(tr("Cost", "cost sweep failed: {message}", message=message))

    def _on_cancelled(self) -> None:
        self.progress_bar.setValue(0)
        self._idle(lambda: tr("Cost", "cancelled"))

    # ---- session ------------------------------------------------------------------------------
    def _on_trace_changed(self, trace) -> None:
        if trace is not None and self.result is not None and trace.config != self._result_config:
            self.result = None  # measured for another architecture
            self._idle(_not_measured)
        super()._on_trace_changed(trace)

    def closeEvent(self, event) -> None:
        self.worker.shutdown()
        super().closeEvent(event)
