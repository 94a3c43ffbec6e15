"""BiasPanel two-way sync: clicking a head's table selects the head, session changes move
the outline and the token row, hovers name the tokens an offset or a cell connects."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.analysis.attention import window_keys
from swin_gui.app.panels.bias import BiasPanel
from swin_gui.app.state import Hover
from swin_gui.render.attention_matrix import FRAME, HIGHLIGHT, SELECTED
from swin_gui.render.bias import slot_rect


@pytest.fixture
def panel(make_panel, trace224) -> BiasPanel:
    return make_panel(BiasPanel, trace224)


def outlined(panel, head) -> bool:
    slot = next(s for s in panel.layout_info.slots if s.head == head)
    x, y, _, _ = slot_rect(panel.layout_info, slot)
    return bool((panel.picture.rgb[y, x + 5] == SELECTED).all())


def test_clicking_a_table_selects_its_head(qtbot, panel, picture_mouse):
    session = panel.session
    session.select(stage=3, block=1)  # 4 heads
    info = panel.layout_info
    slot = info.slots[2]
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        picture_mouse.click(panel, slot.x + info.side / 2, slot.y + info.side / 3)
    assert session.selection.head == 2
    assert outlined(panel, 2) and not outlined(panel, None)


def test_session_head_change_redraws(panel):
    session = panel.session
    session.select(stage=3, block=1, head=2)
    before = panel.picture.rgb.copy()
    session.select(head=None)
    assert outlined(panel, None) and not outlined(panel, 2)
    assert not np.array_equal(before, panel.picture.rgb)
    assert panel.picture.levels is not None and panel.picture.units  # its colour bar's scale


def test_token_matters_only_through_its_row(panel):
    session = panel.session
    session.select(stage=0, block=0, token=(3, 3))  # W-MSA: window 0, position 24
    before = panel.picture
    session.select(token=(10, 10))  # window 9, same position (3, 3): same picture
    assert panel.picture is before
    session.select(token=(10, 11))  # position 25: the outlined row moves
    assert panel.picture is not before
    info = panel.layout_info
    mx, my, c = *info.matrix, info.cell
    np.testing.assert_array_equal(panel.picture.rgb[my - FRAME + 25 * c, mx + 20], HIGHLIGHT)


def test_hovering_a_table_cell_names_the_offset_key(qtbot, panel, picture_mouse):
    session = panel.session
    session.select(stage=1, block=0, token=(10, 12))
    info = panel.layout_info
    slot, t, M = info.slots[0], info.table_cell, info.window
    dy, dx = 2, -3  # key = query - offset
    x = slot.x + (dx + M - 1 + 0.5) * t
    y = slot.y + (dy + M - 1 + 0.5) * t
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        picture_mouse.move(panel, x, y)
    hover = blocker.args[0]
    assert isinstance(hover, Hover) and hover.source == "bias" and hover.stage == 1
    assert hover.tokens == ((10, 12), (8, 15))


def test_expansion_cells_hover_and_click(qtbot, panel, picture_mouse):
    session = panel.session
    session.select(stage=2, block=1, token=(5, 6))
    bt = session.trace.block(2, 1)
    keys, _ = window_keys(bt, bt.locate(5, 6)[0])
    info = panel.layout_info
    mx, my, c = *info.matrix, info.cell
    i, j = 4, 30
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        panel.canvas.hovered.emit(mx + (j + 0.5) * c, my + (i + 0.5) * c)
    assert blocker.args[0].tokens == (tuple(map(int, keys[i])), tuple(map(int, keys[j])))
    picture_mouse.click(panel, mx + (j + 0.5) * c, my + (i + 0.5) * c)
    assert session.selection.token == tuple(map(int, keys[j]))
