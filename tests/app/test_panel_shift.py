"""ShiftPanel two-way sync with real mouse events: the "Shift (S)" button writes
`shift_view` and follows it; the shift ablation appears when the shell puts it into the
session; clicks on either token grid select the ORIGINAL token; hovering a rolled cell
names its token and region; hovers from other panels outline both places."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from swin_gui import api
from swin_gui.app.panels.shift import ShiftPanel
from swin_gui.app.state import Hover, ShiftAblation
from swin_gui.render import figure as F
from swin_gui.render.shift import figure_shift


@pytest.fixture
def panel(make_panel, trace224) -> ShiftPanel:
    return make_panel(ShiftPanel, trace224, (800, 760))


def test_button_writes_the_shift_view(qtbot, panel):
    session, button = panel.session, panel.shift_button
    session.select(stage=1, block=1)  # SW-MSA, s = 3
    assert button.isChecked() and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert session.selection.shift_view is False and not button.isChecked()
    assert np.all(panel.figure.data == 0)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert session.selection.shift_view is None and button.isChecked()  # back to as computed
    session.select(stage=1, block=0)  # W-MSA: the button forces a shift on
    assert not button.isChecked()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert session.selection.shift_view is True and button.isChecked()
    assert np.any(panel.figure.data > 0)  # regions appear on the forced view
    assert panel.heading.full == "Cyclic shift · block 1.0 · s=3"
    assert "W-MSA block, shift forced on" in panel.caption.full


def test_button_follows_the_session(panel):
    session, button = panel.session, panel.shift_button
    session.select(stage=0, block=1)
    assert button.isChecked()
    session.select(shift_view=False)
    assert not button.isChecked() and np.all(panel.figure.data == 0)
    session.select(stage=3, block=1, shift_view=None)  # 7×7 grid: the rule switches it off
    assert not button.isChecked() and not button.isEnabled()
    assert "7×7" in button.toolTip()


def test_ablation_appears_below_the_grids(tiny_model, trace224, panel):
    session = panel.session
    session.select(stage=1, block=1)
    assert "ablation" not in [p.key for p in panel.figure.plots]
    session.select(shift_view=False)  # the shell now computes the ablation
    pending = panel.figure.plot("ablation")
    assert isinstance(pending.layers[0], F.Text) and "computing" in pending.layers[0].text
    out = api.ablate_shift(tiny_model, trace224, 1, 1)
    session.set_ablation(ShiftAblation(id(trace224), 1, 0, 0, out))  # another block's
    assert isinstance(panel.figure.plot("ablation").layers[0], F.Text)  # still pending
    session.set_ablation(ShiftAblation(id(trace224), 1, 1, 0, out))
    plot = panel.figure.plot("ablation")
    assert plot.colorbar.unit == "‖Δ output‖ (L2)"
    assert isinstance(plot.layers[0], F.Heatmap) and np.nanmax(plot.layers[0].data) > 0
    assert "relative change" in panel.caption.full
    session.set_ablation(None)  # cleared by the shell: the drawn heatmap goes back to pending
    assert isinstance(panel.figure.plot("ablation").layers[0], F.Text)
    session.select(shift_view=None)  # shift back on: ablation cleared, no ablation plot
    assert session.ablation is None
    assert "ablation" not in [p.key for p in panel.figure.plots]


def test_clicks_on_both_grids_select_the_original_token(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=2, block=1)  # 14×14, s = 3
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "after", 9.5, 12.5)  # rolled cell (12, 9)
    assert session.selection.token == (1, 12)  # (12 + 3) mod 14, 9 + 3
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "before", 2.5, 8.5)
    assert session.selection.token == (8, 2)
    marks = [r for r in panel.figure.plot("after").layers if isinstance(r, F.Rects) and r.fill]
    assert tuple(marks[0].rects[0]) == (13, 5, 1, 1)  # redrawn at the rolled place


def test_hover_names_token_region_and_rolled_place(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=2, block=1)
    messages: list[str] = []
    session.message.connect(messages.append)
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        figure_mouse.move(panel, "after", 11.5, 11.5)  # rolled cell (11, 11) = token (0, 0)
    assert blocker.args[0] == Hover(2, ((0, 0),), "shift")
    assert messages[-1] == "shift region 8 · token (0, 0) rolled to (11, 11)"


def test_hover_from_another_panel_outlines_both_places(panel):
    session = panel.session
    session.select(stage=2, block=1)
    session.set_hover(Hover(2, ((0, 0),), "grid"))
    assert panel.hover_rects(Hover(2, ((0, 0),), "grid")) == [
        ("before", 0.0, 0.0, 1.0, 1.0),
        ("after", 11.0, 11.0, 1.0, 1.0),
    ]
    assert not panel.view.figure_scene.highlight.path().isEmpty()
    session.set_hover(None)
    assert panel.view.figure_scene.highlight.path().isEmpty()


def test_figure_matches_the_pure_function_and_svg(panel, trace224, tmp_path):
    from swin_gui.app.figure_file import write_figure

    session = panel.session
    session.select(stage=2, block=1, token=(4, 4))
    expected = figure_shift(trace224, session.selection)
    np.testing.assert_array_equal(panel.figure.data, expected.data)
    assert panel.figure.texts() == expected.texts()
    svg = write_figure(panel.figure, tmp_path / "shift.svg").read_text()
    for text in ("before: original", "after roll(−3, −3)", "regions"):
        assert f">{text}<" in svg
