"""The Explain panel: the reach it draws (hand-worked), two-way token sync with real mouse
events, the methods computed with a model, its pixels, the SVG export, and the worker
(a newer request supersedes an older one, off the GUI thread)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import swin_gui
from swin_gui.app.figure_file import write_figure
from swin_gui.app.panels.explain import ExplainPanel, ExplainWorker
from swin_gui.explain.view import Cancelled


def test_reach_figure_without_a_model(make_panel, trace224):
    panel = make_panel(ExplainPanel, trace224)
    panel.session.select(stage=0, block=0, token=(10, 10))
    fig = panel.figure
    assert {p.key for p in fig.plots} == {"map", "reach_on", "reach_off", "curve"}
    # after a W-MSA block a stage-0 token reaches exactly its window: tokens 7..13 = 28..55 px
    expected = np.zeros((224, 224), bool)
    expected[28:56, 28:56] = True
    assert fig.data.dtype == bool and np.array_equal(fig.data, expected)
    assert "erf needs the model" in " ".join(fig.notes)
    assert panel.result is not None and panel.result.token == (10, 10)


def test_click_selects_the_token_and_selection_redraws(make_panel, figure_mouse, trace224):
    panel = make_panel(ExplainPanel, trace224)
    panel.session.select(stage=0, block=1, token=(3, 3))
    figure_mouse.click(panel, "map", 101.0, 61.0)  # pixel (y 61, x 101) -> token (15, 25)
    assert panel.session.selection.token == (15, 25)
    assert panel.result.token == (15, 25)  # the panel recomputed for the new token
    figure_mouse.click(panel, "reach_off", 9.0, 200.0)  # the side pictures select too
    assert panel.session.selection.token == (50, 2)
    panel.session.select(stage=1, token=(4, 5))  # model -> panel
    assert panel.result.stage == 1 and panel.result.token == (4, 5)


def test_methods_with_a_model(make_panel, tiny_model, trace224):
    panel = make_panel(ExplainPanel, trace224)
    panel.model = tiny_model
    panel.session.select(stage=3, block=1, token=(3, 3))
    panel.target_box.setCurrentIndex(3)  # class 2
    panel.method_box.setCurrentText("gradcam")
    x = torch.tensor(trace224.input)[None]
    want = swin_gui.explain(tiny_model, x, method="gradcam", stage=3, target=2).map
    np.testing.assert_allclose(panel.figure.data, want, rtol=1e-5, atol=1e-7)
    assert {"erf_on", "erf_off"} <= {p.key for p in panel.figure.plots}
    assert panel.result.target == 2 and "class cross" in panel.figure.plot("map").title
    panel.shift_box.setChecked(False)
    off = swin_gui.explain(tiny_model, x, method="gradcam", stage=3, target=2, shift="off").map
    np.testing.assert_allclose(panel.figure.data, off, rtol=1e-5, atol=1e-7)
    panel.method_box.setCurrentText("erf")
    erf_off = swin_gui.explain(
        tiny_model, x, method="erf", stage=3, block=1, token=(3, 3), shift="off"
    ).map
    np.testing.assert_allclose(panel.figure.data, erf_off, rtol=1e-5)


def test_pixels_show_the_reach(make_panel, figure_mouse, trace224):
    panel = make_panel(ExplainPanel, trace224)
    panel.session.select(stage=0, block=0, token=(10, 10))
    image = panel.view.viewport().grab().toImage()

    def rgb(x, y):
        c = image.pixelColor(figure_mouse.point(panel, "map", x, y))
        return c.red(), c.green(), c.blue()

    inside, outside = rgb(40.0, 40.0), rgb(150.0, 150.0)
    assert inside[0] > outside[0] + 60  # amber tint over the reach, darkened elsewhere
    assert sum(outside) < sum(inside)


def test_svg_export_holds_the_labels(make_panel, trace224, tmp_path):
    panel = make_panel(ExplainPanel, trace224)
    path = write_figure(panel.figure, tmp_path / "explain.svg", width_pt=500)
    text = path.read_text()
    for label in ("reach area vs depth", "shift on", "shift off", "after block"):
        assert label in text


def test_newer_request_supersedes_the_older(qtbot):
    worker = ExplainWorker(sync=False)
    try:
        seen = []
        worker.finished.connect(lambda job, result: seen.append(result))

        def slow(progress, should_cancel):
            for _ in range(2000):
                if should_cancel():
                    raise Cancelled("superseded")
                torch.ones(64, 64) @ torch.ones(64, 64)
            return "old"

        worker.submit(slow)
        with qtbot.waitSignal(worker.finished, timeout=20_000):
            worker.submit(lambda progress, should_cancel: "new")
        qtbot.wait(50)
        assert seen == ["new"]
    finally:
        worker.shutdown()


@pytest.mark.parametrize("method", ["rollout", "scorecam"])
def test_rollout_and_scorecam_in_the_panel(make_panel, tiny_model, trace224, method):
    panel = make_panel(ExplainPanel, trace224)
    panel.model = tiny_model
    panel.method_box.setCurrentText(method)
    assert panel.result.method == method and panel.figure.data.shape == (224, 224)
    assert panel.progress_bar.value() == 100 and not panel.messages
