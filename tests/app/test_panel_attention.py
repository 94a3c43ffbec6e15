"""AttentionPanel two-way sync with real mouse events on the figure: a tile click selects
its head and the key under the cursor, a matrix click follows the attention to its key, a
matrix hover reads the probability with query and key; session changes redraw (frame on
the selected head, the query's window); the SVG export holds the labels as text."""

from __future__ import annotations

import re

import numpy as np
import pytest

from swin_gui.app.figure_file import write_figure
from swin_gui.app.panels.attention import AttentionPanel
from swin_gui.app.state import Hover


@pytest.fixture
def panel(make_panel, trace224) -> AttentionPanel:
    return make_panel(AttentionPanel, trace224)


def test_clicking_a_tile_selects_its_head_and_key(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=3, block=0, token=(3, 3))  # 4 heads, one 7x7 window
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "head2", 5.5, 1.5)  # tile column 5, row 1
    assert session.selection.head == 2 and session.selection.token == (1, 5)
    assert panel.figure.plot("head2").frame == "selected"
    assert "head 2" in panel.heading.full
    figure_mouse.click(panel, "mean", 0.5, 0.5)
    assert session.selection.head is None and session.selection.token == (0, 0)


def test_clicking_a_padding_key_selects_the_head_only(make_panel, trace_native, figure_mouse):
    panel = make_panel(AttentionPanel, trace_native)
    session = panel.session
    session.select(stage=3, block=0, token=(7, 10))  # rows >= 8 of the window are padding
    figure_mouse.click(panel, "head1", 2.5, 4.5)
    assert session.selection.head == 1 and session.selection.token == (7, 10)


def test_clicking_a_matrix_cell_follows_to_its_key(panel, figure_mouse):
    session = panel.session
    session.select(stage=0, block=1, token=(55, 55))
    # window 63, query at position 24; key j = 32 is window (4, 4) = original (0, 0)
    figure_mouse.click(panel, "matrix", 32.5, 24.5)
    assert session.selection.token == (0, 0)


def test_hovering_the_matrix_reads_probability_query_and_key(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=0, block=1, token=(55, 55))
    messages: list[str] = []
    session.message.connect(messages.append)
    attn = session.trace.block(0, 1).attn[63].mean(axis=0)  # mean of heads, window 63
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        figure_mouse.move(panel, "matrix", 4.5, 0.5)  # query 0 = (52, 52), key 4 = (52, 0)
    hover = blocker.args[0]
    assert isinstance(hover, Hover) and hover.source == "attention"
    assert hover.tokens == ((52, 52), (52, 0))
    value = messages[-1].split(" · ")[0]
    assert value.startswith("probability ")
    assert float(value.split()[1].replace("−", "-")) == pytest.approx(attn[0, 4], rel=1e-3)
    assert messages[-1].endswith("query (52, 52) → key (52, 0)")


def test_hover_from_elsewhere_is_outlined_in_every_tile(panel):
    session = panel.session
    session.select(stage=3, block=0, token=(3, 3))
    session.set_hover(Hover(3, ((4, 4),), "grid"))
    rects = panel.hover_rects(Hover(3, ((4, 4),), "grid"))
    tiles = {key for key, *_ in rects if key.startswith("head") or key == "mean"}
    assert tiles == {"head0", "head1", "head2", "head3", "mean"}
    assert ("head0", 4.0, 4.0, 1.0, 1.0) in rects
    assert not panel.view.figure_scene.highlight.path().isEmpty()


def test_session_changes_redraw_and_irrelevant_ones_do_not(panel):
    session = panel.session
    session.select(stage=1, block=0, token=(3, 3))
    before = panel.figure
    session.select(feature_mode="pca", channel=3)
    assert panel.figure is before
    session.select(token=(10, 12))
    assert panel.figure is not before
    assert "query (10, 12)" in panel.heading.full
    tokens = panel.figure.plot("mean").hits[0].payload["tokens"]
    assert (10, 12) in {tuple(t) for t in tokens.reshape(-1, 2).tolist()}


def test_svg_holds_the_panel_labels_as_text(tmp_path, panel):
    panel.session.select(stage=1, block=1, head=1, token=(5, 9))
    path = write_figure(panel.figure, tmp_path / "attention.svg", width_pt=panel.width_pt())
    texts = {t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text())}
    for label in ("head 0", "head 1", "mean", "probability", "query i", "42"):
        assert label in texts
    assert np.isfinite(panel.figure.plot("matrix").hits[0].values).all()


def test_hovering_a_padding_key_says_so(qtbot, make_panel, trace_native, figure_mouse):
    panel = make_panel(AttentionPanel, trace_native)
    session = panel.session
    session.select(stage=3, block=0, token=(7, 10))
    messages: list[str] = []
    session.message.connect(messages.append)
    figure_mouse.move(panel, "head0", 2.5, 4.5)  # window row 4 = grid row 11 >= 8
    assert messages[-1].startswith("probability ")
    assert messages[-1].endswith("· padding key (not on the image)")


def test_a_key_beyond_the_seam_selects_its_real_token(panel, figure_mouse):
    session = panel.session
    session.select(stage=0, block=1, token=(55, 55))  # window 63: rows/cols 52..55 | 0..2
    figure_mouse.click(panel, "mean", 5.5, 4.5)  # window (4, 5): beyond both seams
    assert session.selection.token == (0, 1) and session.selection.head is None
