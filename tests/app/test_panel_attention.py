"""AttentionPanel two-way sync: clicks and hovers on the picture write to the session, and
session changes redraw the picture (head outline, query token)."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.analysis.attention import query_attention
from swin_gui.app.panels.attention import AttentionPanel
from swin_gui.app.state import Hover
from swin_gui.render.attention import token_rect
from swin_gui.render.attention_matrix import SELECTED


@pytest.fixture
def panel(make_panel, trace224) -> AttentionPanel:
    return make_panel(AttentionPanel, trace224)


def outlined(panel, head) -> bool:
    slot = next(s for s in panel.layout_info.slots if s.head == head)
    return bool((panel.picture.rgb[slot.title_y - 2, slot.x + 10] == SELECTED).all())


def test_clicking_a_head_title_selects_the_head(qtbot, panel, picture_mouse):
    session = panel.session
    session.select(stage=3, block=0)  # 4 heads
    slot = panel.layout_info.slots[2]
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        picture_mouse.click(panel, slot.x + 8, slot.title_y + 8)
    assert session.selection.head == 2
    mean = panel.layout_info.slots[-1]
    picture_mouse.click(panel, mean.x + 8, mean.title_y + 8)
    assert session.selection.head is None


def test_session_head_change_moves_the_outline(panel):
    session = panel.session
    session.select(stage=3, block=0, head=2)
    assert outlined(panel, 2) and not outlined(panel, None)
    before = panel.picture.rgb.copy()
    session.select(head=1)
    assert outlined(panel, 1) and not outlined(panel, 2)
    assert not np.array_equal(before, panel.picture.rgb)
    assert "head 1" in panel.heading.text()


def test_clicking_a_token_in_a_tile_selects_it(panel, picture_mouse):
    session = panel.session
    session.select(stage=1, block=1)
    slot = panel.layout_info.slots[1]  # head 1
    x, y, w, h = token_rect(panel.layout_info, slot, (5, 9))
    picture_mouse.click(panel, x + w / 2, y + h / 2)
    assert session.selection.token == (5, 9) and session.selection.head == 1
    q = query_attention(session.trace.block(1, 1), (5, 9))
    np.testing.assert_allclose(panel.picture.data[1][5, 9], q.rows[1][q.position])


def test_clicking_a_matrix_cell_selects_its_key(panel, picture_mouse):
    session = panel.session
    session.select(stage=2, block=0, token=(3, 3))
    q = query_attention(session.trace.block(2, 0), (3, 3))
    info = panel.layout_info
    j = 40
    mx, my = info.matrix
    picture_mouse.click(panel, mx + (j + 0.5) * info.cell, my + (q.position + 0.5) * info.cell)
    assert session.selection.token == tuple(int(v) for v in q.keys[j])


def test_hovering_a_matrix_cell_emits_query_and_key(qtbot, panel, picture_mouse):
    session = panel.session
    session.select(stage=0, block=1, token=(55, 55))
    q = query_attention(session.trace.block(0, 1), (55, 55))
    info = panel.layout_info
    i, j = 10, 44
    mx, my = info.matrix
    x, y = mx + (j + 0.5) * info.cell, my + (i + 0.5) * info.cell
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        picture_mouse.move(panel, x, y)  # a real mouse move
    hover = blocker.args[0]
    assert isinstance(hover, Hover) and hover.source == "attention" and hover.stage == 0
    assert hover.tokens == (tuple(int(v) for v in q.keys[i]), tuple(int(v) for v in q.keys[j]))
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        panel.canvas.hovered.emit(-1.0, -1.0)  # leaving clears the hover
    assert blocker.args[0] is None


def test_hover_from_elsewhere_is_outlined_in_every_tile(panel):
    panel.session.select(stage=1, block=0)
    panel.session.set_hover(Hover(1, ((4, 4),), "grid"))
    path = panel.canvas.highlight.path()
    assert path.elementCount() >= 5 * len(panel.layout_info.slots)  # one rectangle per tile
    panel.session.set_hover(None)
    assert panel.canvas.highlight.path().isEmpty()


def test_irrelevant_changes_do_not_re_render(panel):
    panel.session.select(stage=1, block=0)
    before = panel.picture
    panel.session.select(feature_mode="pca", channel=3)
    assert panel.picture is before
    panel.session.select(token=(2, 2))
    assert panel.picture is not before
