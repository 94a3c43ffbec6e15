"""GridPanel two-way sync with real mouse events: clicks and hovers on the window grid
write the token (and the hover) to the session; session changes move the ✚ and the window
outline; tokens hovered in other panels, of any stage, are outlined at their own size."""

from __future__ import annotations

import pytest

from swin_gui.app.panels.grid import GridPanel
from swin_gui.app.state import Hover
from swin_gui.render import figure as F


@pytest.fixture
def panel(make_panel, trace224) -> GridPanel:
    return make_panel(GridPanel, trace224, (700, 760))


def centre(panel, r: int, c: int) -> tuple[float, float]:
    t = panel.session.trace.token_pixels(panel.session.selection.stage)
    return (c + 0.5) * t, (r + 0.5) * t


def test_click_selects_the_token_and_its_window(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=1, block=1)
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "image", *centre(panel, 5, 9))
    block = session.current_block()
    assert session.selection.token == (5, 9)
    assert session.selection.window == block.locate(5, 9)[0]


def test_click_on_padding_selects_nothing(make_panel, trace_native, figure_mouse):
    panel = make_panel(GridPanel, trace_native, (700, 760))
    session = panel.session
    session.select(stage=3, block=0, token=(1, 1))
    assert session.current_block().resolution == (8, 11)
    figure_mouse.click(panel, "image", *centre(panel, 12, 12))  # padding of the 14×14 grid
    assert session.selection.token == (1, 1)


def test_session_token_moves_the_cross_and_outline(panel):
    session = panel.session
    session.select(stage=1, block=1, token=(3, 4))
    cross = [l for l in panel.figure.plot("image").layers if isinstance(l, F.Lines)][-1]
    assert cross.segments[0, 0, 1] == pytest.approx(3.5 * 8)  # through the token's centre
    session.select(token=(20, 15))
    cross2 = [l for l in panel.figure.plot("image").layers if isinstance(l, F.Lines)][-1]
    assert cross2.segments[1, 0, 0] == pytest.approx(15.5 * 8)


def test_hover_reports_token_window_and_position(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=1, block=1)
    messages: list[str] = []
    session.message.connect(messages.append)
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        figure_mouse.move(panel, "image", *centre(panel, 2, 26))
    assert blocker.args[0] == Hover(1, ((2, 26),), "grid")
    w, p = session.current_block().locate(2, 26)
    assert messages[-1] == f"token (2, 26) → window {w}, pos ({p // 7}, {p % 7})"


def test_hover_from_another_panel_outlines_tokens_of_any_stage(panel):
    session = panel.session
    session.select(stage=1, block=1)
    scene = panel.view.figure_scene
    session.set_hover(Hover(1, ((2, 3), (5, 6)), "mask"))
    one = scene.info.layout.of("image").box[2] / 224 * scene.info.px_per_pt  # px per input px
    box = scene.highlight.path().boundingRect()
    assert box.width() == pytest.approx((6 + 1 - 3) * 8 * one, rel=0.05)  # cols 3..6, 8 px
    session.set_hover(Hover(3, ((0, 0),), "pyramid"))  # a stage-3 token: 4x a stage-1 one
    big = scene.highlight.path().boundingRect()
    assert big.width() == pytest.approx(32 * one, rel=0.05)
    session.set_hover(None)
    assert scene.highlight.path().isEmpty()


def test_head_change_does_not_redraw(panel):
    session = panel.session
    session.select(stage=2, block=1, token=(3, 3))
    fig = panel.figure
    session.select(head=1)
    assert panel.figure is fig
    session.select(shift_view=False)
    assert panel.figure is not fig
    assert "shift toggled off" in panel.heading.full
