"""Rich text for the Concepts figure, Qt-free: paragraphs of spans (plain words and links),
parsed from a small markup and wrapped word by word to a width in points.

Markup: ``[words](name)`` makes `words` a link to the target `name` of the paragraph's
`links` ({name: selection changes}); everything else is plain text. Translators move the
brackets with the words, so a link stays on the right words in any language:

    "[Block {s}.{b}](block) is SW-MSA"  ->  "[Блок {s}.{b}](block) — SW-MSA"

Widths come from the figures' own font, DejaVu Sans, measured by FreeType through Pillow
(within 0.1 px of Qt's advance at 12, 16 and 24 px, so words sit where Qt draws them);
without the font file the figure model's generous estimate is used and the gaps grow.
One `Word` per word keeps the figure's texts independent of the width: the panel and a
snapshot at another width draw the same words, only placed differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..figure import MIN_TEXT_PT, text_width_pt

LINK = re.compile(r"\[([^\[\]]+)\]\(([A-Za-z0-9_]+)\)")
BREAKS = re.compile(r"([ \t\n]+)")  # where a line may break: not at a no-break space

BODY_PT = MIN_TEXT_PT  # 9 pt: the figure model's floor
HEADING_PT = 10.0
LINE = 1.45  # line pitch in ems
PARA_GAP = 0.55  # extra space after a paragraph, in ems


@dataclass(frozen=True)
class Span:
    """Words of one kind: plain (`link` None) or a link to the paragraph target `link`."""

    text: str
    link: str | None = None


@dataclass(frozen=True)
class Para:
    """A paragraph: its spans, the selection changes each link name stands for, and
    whether it is a (bold, larger) heading."""

    spans: tuple[Span, ...]
    links: dict[str, dict] = field(default_factory=dict)
    heading: bool = False

    @property
    def text(self) -> str:
        """The plain text (links as their words)."""
        return "".join(s.text for s in self.spans)


def parse(markup: str, links: dict[str, dict] | None = None, heading: bool = False) -> Para:
    """`markup` with ``[words](name)`` links -> a `Para`. A name without a target in
    `links` stays plain text (a missing target never makes a dead link)."""
    links = dict(links or {})
    spans: list[Span] = []
    pos = 0
    for m in LINK.finditer(markup):
        if m.start() > pos:
            spans.append(Span(markup[pos : m.start()]))
        name = m.group(2)
        spans.append(Span(m.group(1), name if name in links else None))
        pos = m.end()
    if pos < len(markup):
        spans.append(Span(markup[pos:]))
    return Para(tuple(spans), links, heading)


@dataclass(frozen=True)
class Word:
    """A placed word: top-left (x, y) in points, its measured width, and the selection
    changes its link stands for (None: plain)."""

    x: float
    y: float
    text: str
    width: float
    size_pt: float
    bold: bool = False
    select: dict | None = None
    link_id: int = -1  # words of one link share it (underlines join across their spaces)


@lru_cache(maxsize=2)
def _font(bold: bool):
    """DejaVu Sans at 1000 units per em (None without Pillow's FreeType or the font)."""
    try:
        from PIL import ImageFont

        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", 1000)
    except (ImportError, OSError):
        return None


@lru_cache(maxsize=16384)
def width_pt(text: str, size_pt: float, bold: bool = False) -> float:
    """The advance of `text` at `size_pt` in points, in the figures' font."""
    font = _font(bold)
    if font is None:
        return text_width_pt(text, size_pt)
    return font.getlength(text) * size_pt / 1000.0


def _words(para: Para) -> list[tuple[str, int, bool]]:
    """(word, index of its span, space before) in reading order."""
    out: list[tuple[str, int, bool]] = []
    space = False
    for k, span in enumerate(para.spans):
        for piece in BREAKS.split(span.text):
            if not piece:
                continue
            if BREAKS.fullmatch(piece):
                space = True
                continue
            out.append((piece, k, space))
            space = False
    return out


def _runs(para: Para) -> list[list[tuple[str, int]]]:
    """Unbreakable runs: a word and what follows it without a space (a link and its comma),
    each piece with the index of its span."""
    runs: list[list[tuple[str, int]]] = []
    for text, k, spaced in _words(para):
        if spaced or not runs:
            runs.append([])
        runs[-1].append((text, k))
    return runs


def wrap(paras: list[Para] | tuple[Para, ...], width: float) -> tuple[list[Word], float]:
    """Place every word: lines fill `width` points and break at spaces (a run wider than
    the line gets a line of its own). Returns the words and the height used."""
    words: list[Word] = []
    y = 0.0
    for p, para in enumerate(paras):
        size = HEADING_PT if para.heading else BODY_PT
        bold = para.heading
        space = width_pt(" ", size, bold)
        x = 0.0
        for run in _runs(para):
            widths = [width_pt(text, size, bold) for text, _ in run]
            gap = space if x > 0 else 0.0
            if x > 0 and x + gap + sum(widths) > width:
                x, gap = 0.0, 0.0
                y += LINE * size
            x += gap
            for (text, k), w in zip(run, widths, strict=True):
                link = para.spans[k].link
                select = para.links[link] if link else None
                link_id = p * 10_000 + k if link else -1
                words.append(Word(x, y, text, w, size, bold, select, link_id))
                x += w
        y += (LINE + PARA_GAP) * size
    return words, y
