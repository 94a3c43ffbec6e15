"""The Concepts view: a few paragraphs on the selected step and the view being looked at —
what is shown, why it matters, this image's numbers — and the lecture notes' errors
corrected with the loaded model's evidence (`render.concept_text`), laid out as a Figure.

One plot per paragraph (keys "p0", "p1", …, stacked in group "text"), whose data units are
points: every word is a `Text` at its place after wrapping to `width_pt` (the panel passes
its own width and re-renders on resize, so the text always wraps to the dock), headings
bold at 10 pt, body at 9 pt. Link words (a block, a window, a
region's token) are drawn in the "hover" role colour, underlined by one `Lines` layer, and
each carries a `HitRegion` (kind "link") whose payload ``select`` is the selection it makes:
the generic panel click handler (`app/panels/base.py`) selects it in every panel.
`data` is None (the figure is text).
"""

from __future__ import annotations

import numpy as np

from ..i18n import tr
from . import figure as F
from .concept_text import explain
from .concept_text.common import describe_link
from .concept_text.textlayout import LINE, Para, Word, wrap
from .concept_text.views import view_title
from .selection import Selection

DEFAULT_WIDTH_PT = 420.0  # snapshots and files: fits the 500–720 pt layouts of the CLI
MIN_WIDTH_PT = 140.0
LINK_COLOR = "hover"  # a theme role: cyan on dark, teal on light
UNDERLINE_EM = 1.08  # below the text's top, in ems (DejaVu Sans ascent ≈ 0.93 em)
GLYPH_EM = 1.25  # a line's ink and underline below its top: the last line of a paragraph


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
    plots = tuple(_plot(f"p{i}", para, width) for i, para in enumerate(paras))
    step = paras[0].text.split(":")[0] if paras else ""  # "Block 1.1", "Patch merging into …"
    if len(_INTERNED) > MAX_INTERNED:
        _INTERNED.clear()
    return F.Figure(
        title=tr("Concepts", "Concepts · {step} · in {view}", step=step, view=view_title(view)),
        plots=plots,
        notes=(tr("Concepts", "links select a block, a window or a token in every panel"),),
        data=None,
        view="concepts",
    )


def _plot(key: str, para: Para, width: float) -> F.Plot:
    """One paragraph: its words wrapped to `width`, its links' underlines and hits."""
    words, _ = wrap([para], width)
    layers: list[F.Layer] = []
    hits: list[F.HitRegion] = []
    underline: list[tuple[float, float, float]] = []
    for i, w in enumerate(words):
        link = w.select is not None
        color = LINK_COLOR if link else "fg"
        layers.append(_intern(F.Text(w.x, w.y, w.text, w.size_pt, color, "lt", bold=w.bold)))
        if link:
            underline.append((w.x, _underline_end(words, i), w.y + UNDERLINE_EM * w.size_pt))
            hits.append(_hit(w))
    if underline:
        layers.append(_underlines(tuple(underline)))
    size = words[0].size_pt if words else F.MIN_TEXT_PT
    height = (max(w.y for w in words) if words else 0.0) + GLYPH_EM * size
    return F.Plot(
        key,
        (0.0, width),
        (0.0, height),
        (width, height),
        tuple(layers),
        group="text",
        aspect=False,
        hits=tuple(hits),
    )


# The same word at the same place is the same `Text` object from one figure to the next:
# the scene keeps the items of layers it drew before (keyed by identity), so moving the
# token redraws only the paragraphs whose words changed.
_INTERNED: dict = {}
MAX_INTERNED = 20_000


def _intern(text: F.Text) -> F.Text:
    return _INTERNED.setdefault(text, text)


def _underlines(spans: tuple[tuple[float, float, float], ...]) -> F.Lines:
    """One Lines layer of underlines (x0, x1, y), interned like the words."""
    key = ("underline", spans)
    if key not in _INTERNED:
        segments = np.asarray([((a, y), (b, y)) for a, b, y in spans], np.float32)
        _INTERNED[key] = F.Lines(segments, LINK_COLOR, 1.0)
    return _INTERNED[key]


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
