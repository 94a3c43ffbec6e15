"""ShiftPanel two-way sync: the "Shift (S)" button writes `shift_view` and follows it;
the shift ablation appears when the shell puts it into the session; clicks on either
token grid select the original token; hovers from other panels outline both places."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt

from swin_gui import api
from swin_gui.app.panels.shift import ShiftPanel
from swin_gui.app.state import Hover
from swin_gui.render.shift import render_shift


@pytest.fixture
def panel(make_panel, trace224) -> ShiftPanel:
    return make_panel(ShiftPanel, trace224, (800, 760))


def test_button_writes_the_shift_view(qtbot, panel):
    session, button = panel.session, panel.shift_button
    session.select(stage=1, block=1)  # SW-MSA, s = 3
    assert button.isChecked() and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert session.selection.shift_view is False and not button.isChecked()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert session.selection.shift_view is None and button.isChecked()  # back to as computed
    session.select(stage=1, block=0)  # W-MSA: the button forces a shift on
    assert not button.isChecked()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert session.selection.shift_view is True and button.isChecked()
    assert np.any(panel.picture.data > 0)  # regions appear on the forced view


def test_button_follows_the_session(panel):
    session, button = panel.session, panel.shift_button
    session.select(stage=0, block=1)
    assert button.isChecked()
    session.select(shift_view=False)
    assert not button.isChecked() and np.all(panel.picture.data == 0)
    session.select(shift_view=True)
    assert button.isChecked() and np.any(panel.picture.data > 0)
    session.select(stage=3, block=1, shift_view=None)  # 7×7 grid: the rule switches it off
    assert not button.isChecked() and not button.isEnabled()
    assert "7×7" in button.toolTip()


def test_ablation_appears_below_the_grids(tiny_model, trace224, panel):
    session = panel.session
    session.select(stage=1, block=1)
    plain = panel.picture.rgb.shape[0]
    session.select(shift_view=False)  # the shell now computes the ablation
    pending = panel.picture.rgb.shape[0]
    assert pending > plain
    session.set_ablation(api.ablate_shift(tiny_model, trace224, 1, 1))
    assert panel.picture.rgb.shape[0] > pending
    assert any("relative change" in note for note in panel.picture.notes)
    assert "relative change" in panel.caption.text()
    session.select(shift_view=None)  # shift back on: ablation cleared, picture as before
    assert session.ablation is None and panel.picture.rgb.shape[0] == plain


def test_clicks_on_both_grids_select_the_original_token(qtbot, panel, picture_mouse):
    session = panel.session
    session.select(stage=2, block=1)
    lay = panel.layout_info
    (bx, by, k, _), (ax, ay, _, _) = lay.token_rects(1, 12)
    panel._on_canvas_clicked(bx + k / 2, by + k / 2)
    assert session.selection.token == (1, 12)
    _, (ax, ay, _, _) = lay.token_rects(8, 2)
    assert (ax, ay) != lay.token_rects(8, 2)[0][:2]  # rolled elsewhere
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        picture_mouse.click(panel, ax + k / 2, ay + k / 2)
    assert session.selection.token == (8, 2)


def test_hover_reports_the_region_and_the_rolled_place(qtbot, panel):
    session = panel.session
    session.select(stage=2, block=1)
    messages: list[str] = []
    session.message.connect(messages.append)
    (bx, by, k, _), _ = panel.layout_info.token_rects(0, 0)
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        panel._on_canvas_hovered(bx + k / 2, by + k / 2)
    assert blocker.args[0] == Hover(2, ((0, 0),), "shift")
    assert messages[-1] == "token (0, 0) → region 8, rolled to (11, 11)"  # 0 - 3 mod 14


def test_hover_from_another_panel_outlines_both_places(panel):
    session = panel.session
    session.select(stage=2, block=1)
    session.set_hover(Hover(2, ((0, 0),), "grid"))
    box = panel.canvas.highlight.path().boundingRect()
    before, after = panel.layout_info.token_rects(0, 0)
    assert box == QRectF(*before).united(QRectF(*after))
    session.set_hover(None)
    assert panel.canvas.highlight.path().isEmpty()


def test_picture_matches_the_pure_render(panel, trace224):
    session = panel.session
    session.select(stage=2, block=1, token=(4, 4))
    expected = render_shift(trace224, session.selection)
    np.testing.assert_array_equal(panel.picture.rgb, expected.rgb)
    np.testing.assert_array_equal(panel.picture.data, expected.data)
