"""Feature pyramid and patch merging panels: two-way sync of the mode combo, channel spin
and top-channels combo with the session, and clicks on stage tiles / the merging crop."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.analysis.features import top_channels
from swin_gui.app.panels.merging import MergingPanel
from swin_gui.app.panels.pyramid import PyramidPanel
from swin_gui.app.state import Session
from swin_gui.render.merging import crop_token_pixels
from swin_gui.render.pyramid import tile_origins


@pytest.fixture
def panel(make_panel, trace224) -> PyramidPanel:
    return make_panel(PyramidPanel, trace224, (1000, 420))


@pytest.fixture
def session(panel) -> Session:
    return panel.session


def test_mode_combo_two_way(panel, session):
    before = panel.picture.rgb.copy()
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("pca"))  # widget -> session
    assert session.selection.feature_mode == "pca"
    assert panel.picture.colormap is None and not np.array_equal(panel.picture.rgb, before)
    session.select(feature_mode="channel")  # session -> widget
    assert panel.mode_combo.currentData() == "channel"
    assert panel.picture.units == "activation"
    session.select(feature_mode="norm")
    assert panel.mode_combo.currentText() == "norm"


def test_channel_spin_two_way(panel, session, trace224):
    assert panel.channel_spin.text() == "top" and session.selection.channel is None
    panel.channel_spin.setValue(5)  # widget -> session (and channel mode)
    assert session.selection.channel == 5 and session.selection.feature_mode == "channel"
    np.testing.assert_array_equal(panel.picture.data, trace224.stages[0].out[:, :, 5])
    panel.channel_spin.setValue(-1)
    assert session.selection.channel is None
    session.select(channel=11)  # session -> widget
    assert panel.channel_spin.value() == 11
    session.select(stage=2, channel=40)
    assert panel.channel_spin.maximum() == trace224.stages[2].dim - 1
    assert panel.channel_spin.value() == 40


def test_top_channels_follow_the_stage_and_select(panel, session, trace224):
    expected = [int(c) for c in top_channels(trace224.stages[0].out, 8)]
    items = [panel.top_combo.itemData(i) for i in range(panel.top_combo.count())]
    assert items == expected and "energy" in panel.top_combo.itemText(0)
    panel.top_combo.activated.emit(2)  # the user picks the third strongest channel
    assert session.selection.channel == expected[2]
    assert panel.top_combo.currentIndex() == 2
    session.select(stage=3)
    items = [panel.top_combo.itemData(i) for i in range(panel.top_combo.count())]
    assert items == [int(c) for c in top_channels(trace224.stages[3].out, 8)]


def test_click_stage_tile_selects_stage_and_token(panel, session, trace224, picture_mouse):
    session.select(stage=0, block=1)
    x0, y0 = tile_origins(trace224)[2]
    P = trace224.token_pixels(2)
    picture_mouse.click(panel, x0 + 3 * P + P / 2, y0 + 5 * P + P / 2)
    sel = session.selection
    assert (sel.stage, sel.block, sel.step, sel.token) == (2, 0, "block", (5, 3))
    framed = tile_origins(trace224)[2][0] - 3  # the current stage's frame moved
    assert tuple(panel.picture.rgb[1, framed]) == (255, 235, 59)


def test_hover_reports_the_token(panel, session, trace224):
    got = []
    session.hoverChanged.connect(got.append)
    x0, y0 = tile_origins(trace224)[1]
    P = trace224.token_pixels(1)
    panel.canvas.hovered.emit(x0 + 2 * P + 1, y0 + 7 * P + 1)
    assert got[-1].stage == 1 and got[-1].tokens == ((7, 2),)
    panel.canvas.hovered.emit(-1.0, -1.0)
    assert got[-1] is None


def test_irrelevant_changes_do_not_rerender(panel, session):
    pic = panel.picture
    session.select(head=0)
    session.select(block=1)
    assert panel.picture is pic


def test_merging_panel_follows_stage_and_token(make_panel, trace224):
    p = make_panel(MergingPanel, trace224, (1000, 420))
    session = p.session
    assert "Patch embed" in p.picture.title
    session.select(stage=2, token=(4, 6))
    assert "Patch merging into stage 2" in p.picture.title
    np.testing.assert_array_equal(p.picture.data, trace224.stages[2].merge_out[4, 6])
    q = crop_token_pixels(trace224, 2)
    p.canvas.clicked.emit(2.5 * q, 0.5 * q)  # right-top token of the 3x3 crop
    assert session.selection.token == (3, 7)
