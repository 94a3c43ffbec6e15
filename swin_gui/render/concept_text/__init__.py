"""The Concepts texts (Qt-free): for the selected step and the view being looked at, what
is shown, why it matters and this image's numbers, then the lecture notes' errors with the
app's own evidence. In the interface language (context "Concepts" of the catalogue).

    paras = explain(trace, selection, view="mask")     # list of textlayout.Para
    plain_text(paras)                                  # for tests and the caption

`render.concepts.figure_concepts` lays the paragraphs out as a Figure whose link words are
hit regions that select (a block, a window, a region's token).
"""

from __future__ import annotations

from ..selection import Selection
from .notes import notes_paras
from .steps import step_paras
from .textlayout import Para
from .views import VIEWS, view_paras

EXPLAINED_VIEWS = tuple(VIEWS)


def explain(trace, selection: Selection, view: str = "grid", cost=None) -> list[Para]:
    """Paragraphs for the selection's step, for `view` (a registry name; the Concepts view
    itself and unknown names explain the window grid), and the notes' errors. `cost` is
    the Cost lab's `SweepResult` when one was run."""
    return [
        *step_paras(trace, selection),
        *view_paras(trace, selection, view if view in VIEWS else "grid"),
        *notes_paras(trace, selection, cost),
    ]


def plain_text(paras: list[Para]) -> str:
    """One line per paragraph, links as their words."""
    return "\n".join(p.text for p in paras)


__all__ = ["EXPLAINED_VIEWS", "Para", "explain", "plain_text"]
