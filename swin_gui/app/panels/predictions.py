"""The Predictions panel: the classifier's top-5 classes as probability bars
(`render.predictions.render_predictions`), with the random-weights warning. It depends
only on the trace, never on the selection."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ...render.predictions import render_predictions
from ...render.selection import Picture, Selection
from ..state import Session
from .base import Panel

TOOLTIP = (
    "The head's answer: global average pooling of the last stage, then a linear layer; "
    "probabilities are the softmax of its logits."
)


class PredictionsPanel(Panel):
    """Top-5 predictions (`view_name` "predictions")."""

    title = "Predictions"
    view_name = "predictions"
    watches = ()  # the trace only
    tooltip = TOOLTIP

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.canvas.setMinimumHeight(120)

    def render(self, trace, selection: Selection) -> Picture:
        return render_predictions(trace, selection)
