"""The Concepts view: a few paragraphs on the selected step and the view being looked at —
what is shown, why it matters, this image's numbers — and the lecture notes' errors
corrected with the loaded model's evidence (`swin_gui.concepts`), laid out as a Figure.

One plot, whose data units are points: every word is a `Text` at its place after wrapping
to `width_pt` (the panel passes its own width and re-renders on resize, so the text always
wraps to the dock), headings bold at 10 pt, body at 9 pt. Link words (a block, a window, a
region's token) are drawn in the "hover" role colour, underlined by one `Lines` layer, and
each carries a `HitRegion` (kind "link") whose payload ``select`` is the selection it makes:
the generic panel click handler (`app/panels/base.py`) selects it in every panel.
`data` is None (the figure is text).
"""

from __future__ import annotations

import numpy as np

from ..concepts import explain
from ..concepts.common import describe_link
from ..concepts.textlayout import LINE, Word, wrap
from ..i18n import tr
from . import figure as F
from .selection import Selection

DEFAULT_WIDTH_PT = 420.0  # snapshots and files: fits the 500–720 pt layouts of the CLI
MIN_WIDTH_PT = 140.0
LINK_COLOR = "hover"  # a theme role: cyan on dark, teal on light
UNDERLINE_EM = 1.08  # below the text's top, in ems (DejaVu Sans ascent ≈ 0.93 em)


def text_width(width_pt: float) -> float:
    """The width the words may fill inside a panel `width_pt` wide: the layout's gaps
    and right margin off (a wider plot would be shrunk, squeezing the words together)."""
    return max(MIN_WIDTH_PT, width_pt - F.GAP_PT - 4.0)


def figure_concepts(
    trace,
    selection: Selection,
    view: str = "grid",
    width_pt: float = DEFAULT_WIDTH_PT,
    cost=None,
) -> F.Figure:
    """The Concepts figure for `selection`, explaining `view` (a registry name), wrapped to
    a panel `width_pt` wide; `cost` is the Cost lab's `SweepResult` when one was run."""
    paras = explain(trace, selection, view, cost)
    width = text_width(width_pt)
    words, height = wrap(paras, width)
    layers: list[F.Layer] = []
    hits: list[F.HitRegion] = []
    underline: list[tuple[tuple[float, float], tuple[float, float]]] = []
    for i, w in enumerate(words):
        link = w.select is not None
        layers.append(
            F.Text(w.x, w.y, w.text, w.size_pt, LINK_COLOR if link else "fg", "lt", bold=w.bold)
        )
        if link:
            y = w.y + UNDERLINE_EM * w.size_pt
            end = _underline_end(words, i)
            underline.append(((w.x, y), (end, y)))
            hits.append(_hit(w))
    if underline:
        layers.append(F.Lines(np.asarray(underline, np.float32), LINK_COLOR, 1.0))
    plot = F.Plot(
        "text",
        (0.0, width),
        (0.0, max(height, 1.0)),
        (width, max(height, 1.0)),
        tuple(layers),
        group="text",
        aspect=False,
        hits=tuple(hits),
    )
    step = paras[0].text if paras else ""
    return F.Figure(
        title=tr("Concepts", "Concepts · {step}", step=step),
        plots=(plot,),
        notes=(tr("Concepts", "links select a block, a window or a token in every panel"),),
        data=None,
        view="concepts",
    )


def _underline_end(words: list[Word], i: int) -> float:
    """A link word's underline runs on under the space to the next word of the same link
    on the same line."""
    w = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else None
    if nxt is not None and nxt.link_id == w.link_id and nxt.y == w.y:
        return nxt.x
    return w.x + w.width


def _hit(w: Word) -> F.HitRegion:
    """The word's box (a line high) as a one-cell hit region that selects."""
    extent = (w.x, w.y, w.x + w.width, w.y + LINE * w.size_pt)
    payload = {"select": dict(w.select), "link": describe_link(w.select)}
    return F.HitRegion("link", extent, (1, 1), payload=payload)
