"""The Concepts figure: the words wrap to the width they are given (none past the edge, none
overlapping its neighbour), the same words at every width, 9 pt or more, link words in the
link colour with an underline and a hit region that selects, and the markup parser."""

from __future__ import annotations

import itertools

import pytest

from swin_gui.render import figure as F
from swin_gui.render import layout as L
from swin_gui.render.concept_text.textlayout import parse, width_pt, wrap
from swin_gui.render.concepts import LINK_COLOR, figure_concepts, text_width
from swin_gui.render.snapshot import snapshot_selection


def _words(fig: F.Figure) -> list[F.Text]:
    return [t for p in fig.plots for t in p.layers if isinstance(t, F.Text)]


def _height(fig: F.Figure) -> float:
    return sum(p.ylim[1] for p in fig.plots)


@pytest.fixture
def sel(trace224):
    return snapshot_selection(trace224, stage=1, block=1, token=(27, 27))


@pytest.mark.parametrize("width", [180.0, 320.0, 700.0])
def test_words_wrap_to_the_width(trace224, sel, width):
    fig = figure_concepts(trace224, sel, "mask", width)
    room = text_width(width)
    assert all(t.size_pt >= F.MIN_TEXT_PT for t in _words(fig))
    for plot in fig.plots:  # one paragraph each
        words = [t for t in plot.layers if isinstance(t, F.Text)]
        for a, b in itertools.pairwise(words):
            assert a.x + width_pt(a.text, a.size_pt, a.bold) <= room + 1e-6 or a.x == 0
            if a.y == b.y:  # same line: b starts after a ends
                assert b.x >= a.x + width_pt(a.text, a.size_pt, a.bold) - 1e-6
    lay = L.layout(fig, width)  # not shrunk (the words keep their places), one per row
    boxes = [lay.of(p.key).box for p in fig.plots]
    assert all(b[2] == pytest.approx(room) for b in boxes)
    assert all(b[1] + b[3] <= c[1] for b, c in itertools.pairwise(boxes))


def test_same_words_at_every_width(trace224, sel):
    narrow = figure_concepts(trace224, sel, "grid", 200.0)
    wide = figure_concepts(trace224, sel, "grid", 800.0)
    assert narrow.texts() == wide.texts()
    assert _height(narrow) > _height(wide)  # more lines when narrow


def test_links_are_coloured_underlined_hits_that_select(trace224, sel):
    fig = figure_concepts(trace224, sel, "grid")
    selects = []
    for plot in fig.plots:
        links = [t for t in plot.layers if isinstance(t, F.Text) and t.color == LINK_COLOR]
        assert len(links) == len(plot.hits)
        lines = [layer for layer in plot.layers if isinstance(layer, F.Lines)]
        assert len(lines) == (1 if links else 0)
        if links:
            assert len(lines[0].segments) == len(links)
        for t, hit in zip(links, plot.hits, strict=True):
            x0, y0, x1, y1 = hit.extent
            assert (x0, y0) == (t.x, t.y) and x1 > x0 and y1 > y0
            assert hit.kind == "link" and hit.payload["select"]
            got = fig.hit(plot.key, (x0 + x1) / 2, (y0 + y1) / 2)
            assert got is not None and got.region is hit
            selects.append(hit.payload["select"])
    assert {"window": 15} in selects  # token (27, 27) is in window 15
    assert {"step": "block", "stage": 1, "block": 1} in selects


def test_an_unchanged_paragraph_keeps_its_objects(trace224, sel):
    """The scene reuses a layer's items by identity: a new token must not rebuild the
    paragraphs it does not change (the notes at the end)."""
    a = figure_concepts(trace224, sel, "grid")
    b = figure_concepts(trace224, sel.with_(token=(10, 10), window=5), "grid")
    assert a.plots[-1].layers[0] is b.plots[-1].layers[0]  # the speed note
    assert a.plots[2].layers[0] is b.plots[2].layers[0]  # the roll paragraph: no token in it
    assert a.plots[3].layers != b.plots[3].layers  # the window paragraph changed


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
