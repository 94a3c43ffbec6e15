"""GridPanel two-way sync: clicks and hovers on the window grid write the token (and the
hover) to the session; session changes move the ✚ and the window outline; tokens hovered
in other panels are outlined on the canvas."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from swin_gui.app.panels.grid import GridPanel
from swin_gui.app.state import Hover
from swin_gui.render.grid import SELECTED


@pytest.fixture
def panel(make_panel, trace224) -> GridPanel:
    return make_panel(GridPanel, trace224, (700, 760))


def centre(panel, r: int, c: int) -> tuple[float, float]:
    x, y, w, h = panel.layout_info.token_rect(r, c)
    return x + w / 2, y + h / 2


def test_click_selects_the_token_and_its_window(panel):
    session = panel.session
    session.select(stage=1, block=1)
    panel._on_canvas_clicked(*centre(panel, 5, 9))
    block = session.current_block()
    assert session.selection.token == (5, 9)
    assert session.selection.window == block.locate(5, 9)[0]


def test_real_mouse_click_selects_the_token(qtbot, panel, picture_mouse):
    session = panel.session
    session.select(stage=0, block=0)
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        picture_mouse.click(panel, *centre(panel, 20, 31))
    assert session.selection.token == (20, 31)


def test_click_on_padding_selects_nothing(make_panel, trace_native):
    panel = make_panel(GridPanel, trace_native, (700, 760))
    session = panel.session
    session.select(stage=3, block=0, token=(1, 1))
    assert session.current_block().resolution == (8, 11)
    panel._on_canvas_clicked(*centre(panel, 12, 12))  # a padding token of the 14×14 grid
    assert session.selection.token == (1, 1)


def test_session_token_moves_the_cross(panel):
    session = panel.session
    session.select(stage=1, block=1, token=(3, 4))
    first = panel.picture.rgb.copy()
    x, y = centre(panel, 3, 4)
    assert tuple(first[int(y), int(x)]) == SELECTED
    session.select(token=(20, 15))
    x2, y2 = centre(panel, 20, 15)
    assert tuple(panel.picture.rgb[int(y2), int(x2)]) == SELECTED
    assert tuple(panel.picture.rgb[int(y), int(x)]) != SELECTED
    assert not np.array_equal(first, panel.picture.rgb)


def test_hover_reports_token_window_and_position(qtbot, panel):
    session = panel.session
    session.select(stage=1, block=1)
    messages: list[str] = []
    session.message.connect(messages.append)
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        panel._on_canvas_hovered(*centre(panel, 2, 26))
    assert blocker.args[0] == Hover(1, ((2, 26),), "grid")
    w, p = session.current_block().locate(2, 26)
    assert messages[-1] == f"token (2, 26) → window {w}, pos ({p // 7}, {p % 7})"
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        panel._on_canvas_hovered(-1, -1)
    assert blocker.args[0] is None


def test_hover_from_another_panel_outlines_tokens(panel):
    session = panel.session
    session.select(stage=1, block=1)
    session.set_hover(Hover(1, ((2, 3), (5, 6)), "mask"))
    box = panel.canvas.highlight.path().boundingRect()
    x0, y0, _, _ = panel.layout_info.token_rect(2, 3)
    x1, y1, w, h = panel.layout_info.token_rect(5, 6)
    assert box == QRectF(x0, y0, x1 + w - x0, y1 + h - y0)
    session.set_hover(Hover(3, ((0, 0),), "mask"))  # a stage-3 token: 4x a stage-1 one
    big = panel.canvas.highlight.path().boundingRect()
    assert big.width() == 4 * panel.layout_info.token_px
    session.set_hover(None)
    assert panel.canvas.highlight.path().isEmpty()


def test_head_change_does_not_redraw(panel):
    session = panel.session
    session.select(stage=2, block=1, token=(3, 3))
    pic = panel.picture
    session.select(head=1)
    assert panel.picture is pic
    session.select(shift_view=False)
    assert panel.picture is not pic
    assert "shift toggled off" in panel.heading.text()
