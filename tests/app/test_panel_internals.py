"""Block internals panel with real mouse events: it follows the session's block, a click
on the chart selects a block, a click on the heatmap a token, and selection changes that
the figure does not depend on do not re-render."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.app.panels.internals import InternalsPanel
from swin_gui.render import figure as F


@pytest.fixture
def panel(make_panel, trace224) -> InternalsPanel:
    return make_panel(InternalsPanel, trace224, (800, 900))


def test_follows_the_block(panel, trace224):
    assert panel.heading.full.endswith("· 0.0")
    panel.session.select(stage=2, block=1)
    assert panel.heading.full == "Block internals · v1 pre-norm · 2.1"
    band = panel.figure.plot("chart").layers[0]
    assert isinstance(band, F.Rects) and float(band.rects[0][0]) == 4.5
    x_out = np.linalg.norm(trace224.block(2, 1).out, axis=-1).mean()  # mean token L2 norm
    assert f"‖x_out‖ {x_out:.3g}" in panel.caption.full


def test_click_on_chart_selects_block(qtbot, panel, figure_mouse):
    session = panel.session
    messages: list[str] = []
    session.message.connect(messages.append)
    figure_mouse.move(panel, "chart", 6.1, 2.0)
    assert messages[-1].startswith("‖x_out‖ ") and messages[-1].endswith(
        "block 3.0 (click to select)"
    )
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "chart", 6.1, 2.0)
    assert (session.selection.stage, session.selection.block) == (3, 0)
    assert session.selection.step == "block"


def test_click_on_heatmap_selects_token(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=1, block=0)
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "heat", 4.5, 7.5)
    assert session.selection.token == (7, 4)
    assert tuple(panel.figure.plot("heat").layers[-1].rects[0]) == (4, 7, 1, 1)


def test_head_and_feature_mode_do_not_rerender(panel):
    session = panel.session
    before = panel.figure
    session.select(head=1)
    session.select(feature_mode="pca")
    assert panel.figure is before
    session.select(block=1)
    assert panel.figure is not before
