"""The Predictions panel: the classifier's top-5 classes as a bar chart
(`render.predictions.figure_predictions`), with the random-weights banner, the no-head and
non-finite statements. It depends only on the trace, never on the selection; hovering a
bar reads its probability and class."""

from __future__ import annotations

from ...i18n import tr
from ...render import figure as F
from .base import Panel


class PredictionsPanel(Panel):
    """Top-5 predictions (`view_name` "predictions")."""

    view_name = "predictions"
    watches = ()  # the trace only

    def tooltip_text(self) -> str:
        return tr(
            "Predictions",
            "The head's answer: global average pooling of the last stage, then a linear layer; "
            "probabilities are the softmax of its logits.",
        )

    def describe_tokens(self, hit: F.Hit, tokens: tuple) -> str:
        if hit.kind == "bars":
            ticks = self.figure.plot(hit.plot).yticks if self.figure is not None else ()
            i = hit.cell[0]
            return ticks[i][1] if i < len(ticks) else ""
        return super().describe_tokens(hit, tokens)
