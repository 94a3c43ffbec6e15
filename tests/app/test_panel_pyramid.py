"""Feature pyramid panel: two-way sync of the mode combo, channel spin and top-channels
combo with the session; real mouse clicks and moves on the stage plots; irrelevant
selection changes do not re-render."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.app.panels.pyramid import PyramidPanel
from swin_gui.app.state import Session


@pytest.fixture
def panel(make_panel, trace224) -> PyramidPanel:
    return make_panel(PyramidPanel, trace224, (1000, 420))


@pytest.fixture
def session(panel) -> Session:
    return panel.session


def energy_order(f: np.ndarray) -> list[int]:
    """Independent: channels by mean squared activation, strongest first."""
    e = (f.astype(np.float64) ** 2).mean(axis=(0, 1))
    return [int(c) for c in np.argsort(-e, kind="stable")]


def test_mode_combo_two_way(panel, session):
    assert panel.figure.plot("stage0").colorbar.unit == "L2 norm"
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("pca"))  # widget -> session
    assert session.selection.feature_mode == "pca"
    assert panel.figure.plot("stage0").colorbar is None and "PCA" in panel.heading.full
    session.select(feature_mode="channel")  # session -> widget
    assert panel.mode_combo.currentData() == "channel"
    assert panel.figure.plot("stage2").colorbar.unit == "activation"
    session.select(feature_mode="norm")
    assert panel.mode_combo.currentText() == "norm"


def test_channel_spin_two_way(panel, session, trace224):
    assert panel.channel_spin.text() == "top" and session.selection.channel is None
    panel.channel_spin.setValue(5)  # widget -> session (and channel mode)
    assert session.selection.channel == 5 and session.selection.feature_mode == "channel"
    np.testing.assert_array_equal(panel.figure.data, trace224.stages[0].out[:, :, 5])
    panel.channel_spin.setValue(-1)
    assert session.selection.channel is None
    session.select(channel=11)  # session -> widget
    assert panel.channel_spin.value() == 11
    session.select(stage=2, channel=40)
    assert panel.channel_spin.maximum() == trace224.stages[2].dim - 1
    assert panel.channel_spin.value() == 40


def test_top_channels_follow_the_stage_and_select(panel, session, trace224):
    expected = energy_order(trace224.stages[0].out)[:8]
    items = [panel.top_combo.itemData(i) for i in range(panel.top_combo.count())]
    assert items == expected and "energy" in panel.top_combo.itemText(0)
    panel.top_combo.activated.emit(2)  # the user picks the third strongest channel
    assert session.selection.channel == expected[2]
    assert panel.top_combo.currentIndex() == 2
    session.select(stage=3)
    items = [panel.top_combo.itemData(i) for i in range(panel.top_combo.count())]
    assert items == energy_order(trace224.stages[3].out)[:8]


def test_click_a_stage_selects_stage_and_token(panel, session, figure_mouse):
    session.select(stage=0, block=1)
    P = 16  # a stage-2 token of the tiny model covers 16 px
    figure_mouse.click(panel, "stage2", 3 * P + P / 2, 5 * P + P / 2)
    sel = session.selection
    assert (sel.stage, sel.block, sel.step, sel.token) == (2, 0, "block", (5, 3))
    assert [p.frame for p in panel.figure.plots] == [None, None, "selected", None]
    figure_mouse.click(panel, "stage2", 10 * P + 2, 1 * P + 2)  # same stage: the token only
    assert (session.selection.stage, session.selection.token) == (2, (1, 10))


def test_hover_reads_value_and_token(panel, session, trace224, figure_mouse):
    hovers, messages = [], []
    session.hoverChanged.connect(hovers.append)
    session.message.connect(messages.append)
    P = 8
    figure_mouse.move(panel, "stage1", 2 * P + 3, 7 * P + 3)
    assert hovers[-1].stage == 1 and hovers[-1].tokens == ((7, 2),)
    norm = float(np.sqrt((trace224.stages[1].out[7, 2].astype(np.float64) ** 2).sum()))
    assert messages[-1].startswith("L2 norm ") and "stage 1 token (7, 2)" in messages[-1]
    assert float(messages[-1].split()[2]) == pytest.approx(norm, rel=1e-3)


def test_hover_elsewhere_outlines_the_token(panel, session):
    from swin_gui.app.state import Hover

    session.set_hover(Hover(3, ((1, 2),), "grid"))
    assert panel.hover_rects(Hover(3, ((1, 2),), "grid")) == [("stage3", 64.0, 32.0, 32.0, 32.0)]


def test_irrelevant_changes_do_not_rerender(panel, session):
    fig = panel.figure
    session.select(head=0)
    session.select(block=1)
    assert panel.figure is fig
    session.select(token=(3, 3))
    assert panel.figure is not fig


def test_export_svg_holds_the_labels(panel, tmp_path):
    import re

    svg, npy = panel.export(tmp_path / "pyramid.svg")
    found = re.findall(r"<text[^>]*>([^<]*)</text>", svg.read_text())
    assert "stage 0 · 56×56" in found and "L2 norm" in found
    assert np.load(npy).shape == (56, 56)
