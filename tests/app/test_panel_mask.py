"""MaskPanel two-way sync with real mouse events: a thumbnail click selects its window (and
a token in it), a matrix hover reads "additive mask −100" with the query and key tokens
(outlined elsewhere), a cell click selects the key; session changes redraw the window of
the selected token; the SVG export holds the labels as text."""

from __future__ import annotations

import re

import numpy as np
import pytest

from swin_gui.app.figure_file import write_figure
from swin_gui.app.panels.mask import MaskPanel
from swin_gui.app.state import Hover


@pytest.fixture
def panel(make_panel, trace224) -> MaskPanel:
    return make_panel(MaskPanel, trace224, (700, 900))


def test_thumbnail_click_selects_the_window(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=1, block=1)  # 28x28 grid: 4x4 windows
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "windows", 2.5, 1.5)  # column 2, row 1 -> window 6
    assert session.selection.window == 6
    block = session.current_block()
    assert block.locate(*session.selection.token)[0] == 6  # the token followed the window
    assert "window 6 of 16" in panel.figure.title
    np.testing.assert_array_equal(panel.figure.data, block.mask[6])


def test_hovering_a_masked_cell_reads_the_mask_and_hovers_both_tokens(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=0, block=1, token=(55, 55))  # window 63, keys 52..55, 0..2
    messages: list[str] = []
    session.message.connect(messages.append)
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        figure_mouse.move(panel, "matrix", 4.5, 0.5)  # query (52, 52), key (52, 0)
    assert blocker.args[0] == Hover(0, ((52, 52), (52, 0)), "mask")
    assert messages[-1] == "additive mask −100 · query (52, 52) → key (52, 0)"
    figure_mouse.move(panel, "matrix", 1.5, 0.5)
    assert messages[-1] == "additive mask 0 · query (52, 52) → key (52, 53)"


def test_cell_click_selects_the_key_token(panel, figure_mouse):
    session = panel.session
    session.select(stage=0, block=1, token=(55, 55))
    figure_mouse.click(panel, "matrix", 32.5, 3.5)  # key 32 = window (4, 4) = (0, 0)
    assert session.selection.token == (0, 0)


def test_session_token_change_shows_its_window(panel):
    session = panel.session
    session.select(stage=0, block=1, token=(10, 10))  # rolled (7, 7): window 9
    assert "window 9 of 64" in panel.figure.title
    session.select(token=(55, 55))
    assert "window 63 of 64" in panel.figure.title
    assert int((panel.figure.data == -100).sum()) == 1776
    fig = panel.figure
    session.select(head=0)  # the mask is shared by every head
    assert panel.figure is fig


def test_unshifted_block_says_no_mask(panel):
    panel.session.select(stage=0, block=0)
    assert np.all(panel.figure.data == 0)
    assert "no mask" in panel.caption.full


def test_hover_elsewhere_outlines_the_row_and_column(panel):
    session = panel.session
    session.select(stage=0, block=1, token=(55, 55))
    rects = panel.hover_rects(Hover(0, ((0, 0),), "grid"))  # key 32 of window 63
    assert ("matrix", 0.0, 32.0, 49.0, 1.0) in rects and ("matrix", 32.0, 0.0, 1.0, 49.0) in rects
    assert not [r for r in panel.hover_rects(Hover(0, ((20, 20),), "grid")) if r[0] == "matrix"]


def test_svg_holds_the_panel_labels_as_text(tmp_path, panel):
    panel.session.select(stage=0, block=1, token=(55, 55))
    path = write_figure(panel.figure, tmp_path / "mask.svg", width_pt=panel.width_pt())
    texts = {t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text())}
    for label in (
        "query i",
        "additive mask",
        "42",
        "−100",
        "all 64 windows (click one to select it)",
    ):
        assert label in texts


def test_moving_the_token_inside_its_window_does_not_redraw(panel):
    session = panel.session
    session.select(stage=0, block=1, token=(10, 10))  # rolled (7, 7): window 9
    fig = panel.figure
    session.select(token=(12, 11))  # rolled (9, 8): still window 9
    assert panel.figure is fig
    session.select(token=(10, 9))  # rolled (7, 6): window 8
    assert panel.figure is not fig and "window 8 of 64" in panel.figure.title
