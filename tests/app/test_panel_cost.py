"""The Cost lab panel: the analytic figure before a run, Run (a tiny synchronous sweep and
one on the real worker thread) redrawing the figure with the measured plots and table,
Cancel between measurements, and the result following the session's model."""

from __future__ import annotations

import dataclasses
import math

import pytest
from PySide6.QtCore import Qt, QThread

from swin_gui.app.figure_file import write_figure
from swin_gui.app.panels.cost import CostPanel
from swin_gui.model.vit import ViTConfig
from swin_gui.render.cost import figure_cost

VIT = ViTConfig("vit_test", img_size=64, embed_dim=32, depth=2, num_heads=2, num_classes=5)


@pytest.fixture
def panel(make_panel, trace224):
    p = make_panel(CostPanel, trace224, size=(700, 900))
    p.sizes, p.vit, p.repeats, p.budget_s = (32, 48), VIT, 1, None
    return p


def _texts(fig) -> str:
    return " | ".join(fig.texts() + list(fig.notes))


def test_before_a_run_only_analytic_macs(panel, trace224):
    fig = panel.figure
    assert [p.key for p in fig.plots] == ["macs", "table"]
    assert any("press Run to measure" in n for n in fig.notes)
    assert any("3–5×" in n for n in fig.notes)
    text = _texts(fig)
    for paper in ("28.3 M", "4.5 G", "22 M", "4.6 G", "86 M", "17.6 G"):
        assert paper in text
    assert "this image 224×224" in text
    assert panel.run_button.text() == "Run"


def test_run_measures_and_redraws(panel, qtbot, tmp_path):
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    result = panel.result
    assert result is not None and result.sizes == (32, 48)
    fig = panel.figure
    assert [p.key for p in fig.plots] == ["time", "macs", "memory", "table"]
    assert panel.run_button.text() == "Run"
    assert panel.progress_bar.value() == panel.progress_bar.maximum() == 2 * 2 * 2
    text = _texts(fig)
    assert "measured here at 32 px" in text and "vit_test" in text
    assert any("measured here" in n and "tokens^" in n for n in fig.notes)
    # 4 rows of data: (size, family, params, macs, ms, MiB), measured
    assert fig.data.shape == (4, 6) and (fig.data[:, 4] > 0).all()
    svg = write_figure(fig, tmp_path / "cost.svg", width_pt=500).read_text()
    for label in ("time (ms)", "peak activation (MiB)", "Swin-T", "DeiT-B"):
        assert label in svg


def test_the_figure_is_the_registry_figure_with_the_result(panel, qtbot, trace224):
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    again = figure_cost(trace224, panel.session.selection, panel.result)
    assert again.texts() == panel.figure.texts()


def test_cancel_stops_between_measurements(panel, qtbot):
    clicks = []

    def press_cancel(done, total, what):
        if not clicks:
            clicks.append(done)
            assert panel.run_button.text() == "Cancel"
            qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)

    panel.worker.progress.connect(press_cancel)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert clicks == [1]
    assert panel.result is None and panel.status.full == "cancelled"
    assert panel.run_button.text() == "Run"
    assert [p.key for p in panel.figure.plots] == ["macs", "table"]


def test_result_follows_the_model(panel, qtbot, trace224):
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert panel.result is not None
    other_image = dataclasses.replace(trace224, meta={"source": "another image"})
    panel.session.set_trace(other_image)  # same architecture: the measurement stays
    assert panel.result is not None and "time" in [p.key for p in panel.figure.plots]
    other_model = dataclasses.replace(trace224, config=trace224.config.with_(embed_dim=32))
    panel.session.set_trace(other_model)  # another architecture: back to analytic
    assert panel.result is None
    assert [p.key for p in panel.figure.plots] == ["macs", "table"]


def test_threaded_run_applies_the_result_on_the_gui_thread(threaded, make_panel, trace224, qtbot):
    panel = make_panel(CostPanel, trace224, size=(700, 900))
    panel.sizes, panel.vit, panel.repeats, panel.budget_s = (32,), VIT, 1, None
    assert not panel.worker.sync
    threads = []
    panel.worker.finished.connect(lambda r: threads.append(QThread.currentThread()))
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert panel.run_button.text() == "Cancel"
    assert threads == [panel.thread()]
    assert panel.result is not None and "time" in [p.key for p in panel.figure.plots]
    panel.worker.shutdown()
    assert panel.worker._thread is None


def test_hovering_a_point_reads_out_its_measurement(panel, qtbot, figure_mouse):
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    vit32 = next(r for r in panel.result.rows if r.family == "vit" and r.size == 32)
    messages = []
    panel.session.message.connect(messages.append)
    x, y = math.log10(32 * 32), math.log10(vit32.ms)
    figure_mouse.move(panel, "time", x, y)
    assert messages, "no read-out on hover"
    assert messages[-1].startswith("time of vit_test at 32 px ")
    assert messages[-1].endswith(" ms")
    shown = float(messages[-1].split(" px ")[1].removesuffix(" ms"))
    assert shown == pytest.approx(vit32.ms, rel=1e-3)
