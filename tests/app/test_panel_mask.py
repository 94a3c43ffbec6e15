"""MaskPanel two-way sync: clicking a thumbnail selects its window, clicking a cell its
query token, hovering a cell emits the query and key tokens; session changes redraw the
matrix of the selected window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from swin_gui.app.panels.mask import MaskPanel
from swin_gui.app.state import Hover


@pytest.fixture
def panel(make_panel, trace224) -> MaskPanel:
    return make_panel(MaskPanel, trace224, (700, 900))


def middle(rect) -> tuple[float, float]:
    x, y, w, h = rect
    return x + w / 2, y + h / 2


def test_thumbnail_click_selects_the_window(qtbot, panel, picture_mouse):
    session = panel.session
    session.select(stage=1, block=1)
    panel._on_canvas_clicked(*middle(panel.layout_info.thumb_rect(6)))
    assert session.selection.window == 6
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        picture_mouse.click(panel, *middle(panel.layout_info.thumb_rect(15)))
    assert session.selection.window == 15
    np.testing.assert_array_equal(panel.picture.data, session.current_block().mask[15])


def test_hovering_a_masked_cell_emits_query_and_key(qtbot, panel):
    session = panel.session
    session.select(stage=0, block=1, window=63)
    block = session.current_block()
    i, j = (int(v[0]) for v in np.nonzero(block.mask[63] == -100.0))
    tokens = block.window_tokens(63)
    q, k = tuple(int(v) for v in tokens[i]), tuple(int(v) for v in tokens[j])
    messages: list[str] = []
    session.message.connect(messages.append)
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        panel._on_canvas_hovered(*middle(panel.layout_info.cell_rect(i, j)))
    assert blocker.args[0] == Hover(0, (q, k), "mask")
    assert messages[-1] == f"query ({q[0]}, {q[1]}) ↔ key ({k[0]}, {k[1]}): masked (−100)"
    assert panel.canvas.highlight.path().boundingRect() == QRectF(
        *panel.layout_info.cell_rect(i, j)
    )
    zero = np.argwhere(block.mask[63] == 0.0)[0]
    panel._on_canvas_hovered(*middle(panel.layout_info.cell_rect(*zero)))
    assert messages[-1].endswith("attend (0)")


def test_cell_click_selects_the_query_token(panel):
    session = panel.session
    session.select(stage=1, block=1, window=5)
    tokens = session.current_block().window_tokens(5)
    panel._on_canvas_clicked(*middle(panel.layout_info.cell_rect(10, 3)))
    assert session.selection.token == tuple(int(v) for v in tokens[10])
    assert session.selection.window == 5


def test_session_window_change_redraws(panel):
    session = panel.session
    session.select(stage=1, block=1, window=0)
    first = panel.picture.rgb.copy()
    session.select(window=15)
    assert not np.array_equal(first, panel.picture.rgb)
    np.testing.assert_array_equal(panel.picture.data, session.current_block().mask[15])
    assert "window 15 of 16" in panel.heading.text()
    pic = panel.picture
    session.select(head=1)  # the mask is shared by every head
    assert panel.picture is pic


def test_unshifted_block_says_no_mask(panel):
    session = panel.session
    session.select(stage=0, block=0)
    assert np.all(panel.picture.data == 0)
    assert "no mask" in panel.caption.text()


def test_grid_hover_outlines_the_row_and_column(panel):
    session = panel.session
    session.select(stage=1, block=1, window=5)
    tokens = session.current_block().window_tokens(5)
    n = 17
    session.set_hover(Hover(1, (tuple(int(v) for v in tokens[n]),), "grid"))
    lay = panel.layout_info
    side = lay.tokens * lay.cell
    box = panel.canvas.highlight.path().boundingRect()
    assert box == QRectF(lay.matrix[0], lay.matrix[1], side, side)  # row n ∪ column n
    session.set_hover(Hover(1, ((0, 0),), "grid"))  # not in window 5
    assert panel.canvas.highlight.path().isEmpty()
