"""Block internals panel: follows the session's block, clicks on the chart select a block,
and irrelevant selection changes do not re-render."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.analysis.internals import block_list, block_norms
from swin_gui.app.panels.internals import InternalsPanel
from swin_gui.app.state import Session
from swin_gui.render.chart import chart_box
from swin_gui.render.internals import CHART_H, CHART_W


@pytest.fixture
def panel(make_panel, trace224) -> InternalsPanel:
    return make_panel(InternalsPanel, trace224, (800, 700))


@pytest.fixture
def session(panel) -> Session:
    return panel.session


def test_follows_the_block(panel, session, trace224):
    assert "block 0.0" in panel.picture.title
    first = panel.picture.rgb
    session.select(stage=2, block=1)
    assert "block 2.1" in panel.picture.title
    assert "block 2.1" in panel.heading.text()
    assert not np.array_equal(panel.picture.rgb, first)
    np.testing.assert_array_equal(panel.picture.data, block_norms(trace224))
    assert "pre-norm" in panel.caption.text()


def test_click_on_chart_selects_block(panel, session, trace224):
    blocks = block_list(trace224)
    cb = chart_box(CHART_W, CHART_H, len(blocks))
    i = blocks.index((3, 1))
    panel.canvas.clicked.emit(cb.x(i), (cb.y0 + cb.y1) / 2)
    sel = session.selection
    assert (sel.stage, sel.block, sel.step) == (3, 1, "block")
    assert "block 3.1" in panel.picture.title
    panel.canvas.clicked.emit(5.0, CHART_H + 50.0)  # the schematic: nothing happens
    assert (session.selection.stage, session.selection.block) == (3, 1)


def test_head_and_feature_mode_do_not_rerender(panel, session):
    pic = panel.picture
    session.select(head=0)
    session.select(feature_mode="pca")
    assert panel.picture is pic
    session.select(token=(3, 3))
    assert panel.picture is not pic
