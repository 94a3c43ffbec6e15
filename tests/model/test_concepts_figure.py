"""The Concepts figure: the words wrap to the width they are given (none past the edge, none
overlapping its neighbour), the same words at every width, 9 pt or more, link words in the
link colour with an underline and a hit region that selects, and the markup parser."""

from __future__ import annotations

import itertools

import pytest

from swin_gui.concepts.textlayout import parse, width_pt, wrap
from swin_gui.render import figure as F
from swin_gui.render import layout as L
from swin_gui.render.concepts import LINK_COLOR, figure_concepts, text_width
from swin_gui.render.snapshot import snapshot_selection


def _words(fig: F.Figure) -> list[F.Text]:
    return [t for t in fig.plot("text").layers if isinstance(t, F.Text)]


@pytest.fixture
def sel(trace224):
    return snapshot_selection(trace224, stage=1, block=1, token=(27, 27))


@pytest.mark.parametrize("width", [180.0, 320.0, 700.0])
def test_words_wrap_to_the_width(trace224, sel, width):
    fig = figure_concepts(trace224, sel, "mask", width)
    room = text_width(width)
    words = _words(fig)
    assert all(t.size_pt >= F.MIN_TEXT_PT for t in words)
    for a, b in itertools.pairwise(words):
        assert a.x + width_pt(a.text, a.size_pt, a.bold) <= room + 1e-6 or a.x == 0
        if a.y == b.y:  # same line: b starts after a ends
            assert b.x >= a.x + width_pt(a.text, a.size_pt, a.bold) - 1e-6
    lay = L.layout(fig, width)  # the plot is not shrunk: the words keep their places
    box = lay.of("text").box
    assert box[2] == pytest.approx(room)


def test_same_words_at_every_width(trace224, sel):
    narrow = figure_concepts(trace224, sel, "grid", 200.0)
    wide = figure_concepts(trace224, sel, "grid", 800.0)
    assert narrow.texts() == wide.texts()
    assert narrow.plot("text").ylim[1] > wide.plot("text").ylim[1]  # more lines when narrow


def test_links_are_coloured_underlined_hits_that_select(trace224, sel):
    fig = figure_concepts(trace224, sel, "grid")
    plot = fig.plot("text")
    links = [t for t in _words(fig) if t.color == LINK_COLOR]
    assert links and len(links) == len(plot.hits)
    lines = [layer for layer in plot.layers if isinstance(layer, F.Lines)]
    assert len(lines) == 1 and len(lines[0].segments) == len(links)
    for t, hit in zip(links, plot.hits, strict=True):
        x0, y0, x1, y1 = hit.extent
        assert (x0, y0) == (t.x, t.y) and x1 > x0 and y1 > y0
        assert hit.kind == "link" and hit.payload["select"]
        got = fig.hit("text", (x0 + x1) / 2, (y0 + y1) / 2)
        assert got is not None and got.region is hit
    selects = [h.payload["select"] for h in plot.hits]
    assert {"window": 15} in selects  # token (27, 27) is in window 15
    assert {"step": "block", "stage": 1, "block": 1} in selects


def test_parse_keeps_unknown_targets_plain():
    p = parse("[Block 1.1](blk) is [window 5](win), [x](nope).", {"blk": {"block": 1}, "win": {}})
    assert [(s.text, s.link) for s in p.spans] == [
        ("Block 1.1", "blk"),
        (" is ", None),
        ("window 5", "win"),
        (", ", None),
        ("x", None),
        (".", None),
    ]
    assert p.text == "Block 1.1 is window 5, x."


def test_punctuation_stays_on_its_word():
    p = parse("[window 5](w), then", {"w": {"window": 5}})
    words, _ = wrap([p], width_pt("window 5,", 9.0) + 1)  # "then" must go to a new line
    assert [w.text for w in words] == ["window", "5", ",", "then"]
    assert words[2].y == words[1].y and words[3].y > words[2].y
    assert words[2].select is None and words[1].select == {"window": 5}
