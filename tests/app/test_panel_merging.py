"""Patch merging panel: follows the stage and token, a real click on the image crop
selects the stage token under it, hovering the 4C row names the neighbour and channel."""

from __future__ import annotations

import numpy as np

from swin_gui.app.panels.merging import MergingPanel


def test_follows_stage_and_token_and_clicks_select(make_panel, trace224, figure_mouse):
    p = make_panel(MergingPanel, trace224, (1000, 420))
    session = p.session
    assert "Patch embed" in p.figure.title
    session.select(stage=2, token=(4, 6))
    assert "Patch merging into stage 2" in p.figure.title
    np.testing.assert_array_equal(p.figure.data, trace224.stages[2].merge_out[4, 6])
    P = 16  # a stage-2 token: the crop spans tokens 5..7 across, 3..5 down
    figure_mouse.click(p, "crop", 7 * P + P / 2, 3 * P + P / 2)  # top-right cell
    assert session.selection.token == (3, 7)
    assert p.figure.plot("crop").xlim == (6 * P, 9 * P)  # the crop re-centred


def test_hover_on_the_4c_row(make_panel, trace224, figure_mouse):
    p = make_panel(MergingPanel, trace224, (1000, 420))
    session = p.session
    session.select(stage=1, token=(2, 3))
    messages = []
    session.message.connect(messages.append)
    figure_mouse.move(p, "concat", 16 + 4.5, 0.5)  # C = 16: neighbour 1 (5, 6), channel 4
    value = float(trace224.stages[1].merge_in[5, 6, 4])
    assert (
        messages[-1].startswith("activation ") and "neighbour 1 (5, 6) · channel 4" in messages[-1]
    )
    assert float(messages[-1].split()[1].replace("−", "-")) == np.float32(f"{value:.4g}")


def test_irrelevant_changes_do_not_rerender(make_panel, trace224):
    p = make_panel(MergingPanel, trace224, (1000, 420))
    fig = p.figure
    p.session.select(head=0, feature_mode="pca")
    assert p.figure is fig
