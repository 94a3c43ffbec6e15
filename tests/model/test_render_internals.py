"""Block internals figure: the norms table against numpy, the chart's curves and hit
region, the block diagram following the model's ACTUAL version (v1 pre-norm, v2
res-post-norm) with this block's numbers, the current-block band, the per-token heatmap,
and NaN/Inf norms that do not raise."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from swin_gui import api
from swin_gui.analysis.internals import NORM_COLUMNS, block_list, block_norms, non_finite_blocks
from swin_gui.render import figure as F
from swin_gui.render.internals import figure_internals, nice_ticks
from swin_gui.render.selection import Selection


@pytest.fixture(scope="module")
def trace_v2(make_model, make_trace):
    return make_trace(make_model(version=2))


def _mean_norm(x: np.ndarray) -> float:
    return float(np.linalg.norm(x.astype(np.float64), axis=-1).mean())


def _texts(plot) -> list[str]:
    return [layer.text for layer in plot.layers if isinstance(layer, F.Text)]


@pytest.mark.parametrize("which", ["v1", "v2"])
def test_norm_table_equals_numpy(which, trace_native, trace_v2):
    trace = trace_native if which == "v1" else trace_v2
    table = block_norms(trace)
    assert table.shape == (sum(trace.config.depths), len(NORM_COLUMNS)) == (8, 5)
    for i, (s, b) in enumerate(block_list(trace)):
        st = trace.stages[s]
        x_in = st.blocks[b - 1].out if b > 0 else trace.embed if s == 0 else st.merge_out
        mid, out = st.blocks[b].mid, st.blocks[b].out
        expected = [
            _mean_norm(x_in),
            _mean_norm(mid),
            _mean_norm(out),
            _mean_norm(mid - x_in),
            _mean_norm(out - mid),
        ]
        np.testing.assert_allclose(table[i], expected, rtol=1e-5)
    fig = figure_internals(trace, Selection(stage=1, block=1))
    np.testing.assert_array_equal(fig.data, table)


def test_chart_curves_ticks_and_hits(trace_native):
    table = block_norms(trace_native)
    fig = figure_internals(trace_native, Selection(stage=0, block=0))
    chart = fig.plot("chart")
    assert chart.y_up and not chart.aspect
    stream, attn, mlp = [layer for layer in chart.layers if isinstance(layer, F.Lines)][:3]
    # 8 blocks × 3 points = 24 points; 23 links minus the 3 patch mergings = 20 segments
    assert len(stream.segments) == 20
    np.testing.assert_allclose(stream.segments[0], [[-0.3, table[0, 0]], [0.0, table[0, 1]]])
    np.testing.assert_allclose(attn.segments[:, 0, 1], table[:-1, 3])
    np.testing.assert_allclose(mlp.segments[-1, 1], [7, table[7, 4]])
    assert [t for _, t in chart.xticks] == ["0.0", "0.1", "1.0", "1.1", "2.0", "2.1", "3.0", "3.1"]
    assert _texts(chart) == ["stage 0", "stage 1", "stage 2", "stage 3"]
    hit = fig.hit("chart", 5.2, 1.0)
    assert hit.cell == (0, 5) and hit.region.payload["blocks"][5] == (2, 1)
    assert hit.value == pytest.approx(float(table[5, 2]))
    assert hit.value_text().endswith(" L2 norm")


def test_nice_ticks_by_hand():
    assert nice_ticks(34.0) == (0, 10, 20, 30)
    assert nice_ticks(7.0) == (0, 2, 4, 6)
    assert nice_ticks(0.9) == pytest.approx((0, 0.2, 0.4, 0.6, 0.8))


def test_v1_diagram_is_pre_norm(trace_native):
    fig = figure_internals(trace_native, Selection(stage=1, block=1))
    diagram = fig.plot("diagram")
    texts = _texts(diagram)
    assert fig.title == "Block internals · v1 pre-norm · 1.1"
    assert texts.index("LN1") < texts.index("SW-MSA M=7 s=3")  # LN before attention
    assert texts.index("LN2") < texts.index("MLP")
    assert "x = x + W-MSA(LN1(x));  x = x + MLP(LN2(x))" in texts
    assert not any("res-post-norm" in t for t in (*texts, *fig.notes))


def test_v2_diagram_is_res_post_norm(trace_v2):
    fig = figure_internals(trace_v2, Selection(stage=2, block=0))
    texts = _texts(fig.plot("diagram"))
    assert fig.title == "Block internals · v2 res-post-norm · 2.0"
    assert texts.index("W-MSA M=7 s=0") < texts.index("LN1")  # LN after attention
    assert texts.index("MLP") < texts.index("LN2")
    assert "x = x + LN1(W-MSA(x));  x = x + LN2(MLP(x))" in texts


def test_current_block_numbers_and_band(trace_native):
    row = block_norms(trace_native)[5]  # blocks 0.0 0.1 1.0 1.1 2.0 2.1 -> index 5
    fig = figure_internals(trace_native, Selection(stage=2, block=1, token=(3, 4)))
    texts = _texts(fig.plot("diagram"))
    assert f"‖attn‖ {row[3]:.3g}" in texts and f"‖x_in‖ {row[0]:.3g}" in texts
    assert f"‖x_in‖ {row[0]:.3g}" in fig.notes[1]
    band = fig.plot("chart").layers[0]
    assert isinstance(band, F.Rects) and tuple(band.rects[0][:3]) == (4.5, 0.0, 1.0)
    heat = fig.plot("heat")
    out = trace_native.block(2, 1).out
    np.testing.assert_allclose(heat.layers[0].data, np.linalg.norm(out, axis=-1), rtol=1e-5)
    assert tuple(heat.layers[-1].rects[0]) == (4, 3, 1, 1)  # the token, x = col
    assert heat.colorbar.unit == "L2 norm" and heat.hits[0].payload["origin"] == (0, 0)


def test_non_finite_weight_does_not_raise(make_model):
    model = make_model()
    with torch.no_grad():
        model.layers[1].blocks[0].mlp.fc1.weight[0, 0] = float("nan")
    torch.manual_seed(3)
    trace = api.capture(model, torch.randn(1, 3, 64, 64) * 0.3)
    table = block_norms(trace)
    bad = non_finite_blocks(table)
    assert bad and bad[0] == 2  # block 1.0 and everything after it
    fig = figure_internals(trace, Selection(stage=1, block=0))
    assert any("non-finite" in n for n in fig.notes)
    assert "×" in _texts(fig.plot("chart"))
    assert "‖x_out‖ NaN" in _texts(fig.plot("diagram"))
    lo, hi = fig.plot("heat").colorbar.levels
    assert np.isfinite([lo, hi]).all()
    if not np.isfinite(fig.plot("heat").hits[0].values).any():
        assert "non-finite" in _texts(fig.plot("heat"))
    assert _masked_pixel(figure_internals(trace, Selection(stage=3, block=1)), "heat")


def _masked_pixel(fig, key: str) -> bool:
    """The centre of plot `key` drawn in the masked colour (grey, not black)."""
    from PySide6.QtGui import QImage

    from swin_gui.app.figure_file import ensure_app, figure_scene, scene_bytes
    from swin_gui.render.colormap import NAN_COLOR

    ensure_app()
    scene = figure_scene(fig, width_pt=450)
    x, y, w, h = scene.info.layout.of(key).box
    image = QImage.fromData(scene_bytes(scene, "png"))
    px = scene.info.px_per_pt
    c = image.pixelColor(int((x + w * 0.3) * px), int((y + h * 0.3) * px))
    return (c.red(), c.green(), c.blue()) == NAN_COLOR
    assert all(np.isfinite(v) for v, _ in fig.plot("chart").yticks)


def test_inf_norms_do_not_raise(trace224):
    st = trace224.stages[3]
    out = st.blocks[1].out.copy()
    out[0, 0, 0] = np.inf
    blocks = (st.blocks[0], replace(st.blocks[1], out=out))
    trace = replace(trace224, stages=(*trace224.stages[:3], replace(st, blocks=blocks)))
    fig = figure_internals(trace, Selection(stage=3, block=1))
    assert non_finite_blocks(fig.data) == [7]
    assert "non-finite norms (NaN/Inf) in blocks 3.1 (marked ×)" in fig.notes
    heat = fig.plot("heat")
    assert np.isnan(heat.layers[0].data[0, 0]) and heat.hits[0].values[0, 0] == np.inf
    assert "‖x_out‖ ∞" in _texts(fig.plot("diagram"))


def test_svg_holds_the_labels(trace224, tmp_path):
    from swin_gui.app.figure_file import write_figure

    fig = figure_internals(trace224, Selection(stage=0, block=1))
    svg = write_figure(fig, tmp_path / "internals.svg").read_text()
    for text in ("LN1", "LN2", "MLP", "stage 1", "‖attn branch‖", "L2 norm"):
        assert f">{text}<" in svg
