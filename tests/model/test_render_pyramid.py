"""The feature pyramid figure (`figure_pyramid`): per-stage layers, colour bars and units,
the current stage's frame and token, hit regions that map a point of the image back to
the stage token, padding hatched, non-finite features drawn, PCA deterministic."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from swin_gui import api
from swin_gui.analysis.features import pca_rgb
from swin_gui.render import figure as F
from swin_gui.render import layout as L
from swin_gui.render.pyramid import figure_pyramid
from swin_gui.render.selection import Selection


@pytest.fixture
def trace(each_trace):
    """The pyramid tests run on the 224 and on the 333x250 (padded) input."""
    return each_trace


def layer(plot: F.Plot, kind):
    return [lay for lay in plot.layers if isinstance(lay, kind)]


def top_energy(f: np.ndarray) -> int:
    """Independent: the channel with the largest mean squared activation."""
    return int(np.argmax((f.astype(np.float64) ** 2).mean(axis=(0, 1))))


def l2(f: np.ndarray) -> np.ndarray:
    return np.sqrt((f.astype(np.float64) ** 2).sum(axis=2))


def test_one_plot_per_stage_in_image_pixels(trace):
    fig = figure_pyramid(trace, Selection(stage=1, feature_mode="norm"))
    assert [p.key for p in fig.plots] == ["stage0", "stage1", "stage2", "stage3"]
    assert {p.group for p in fig.plots} == {"stages"} and all(p.fill for p in fig.plots)
    W = trace.image.shape[1]
    # the tiny model: patch 4, so a stage-s token is 4 * 2**s pixels; 333x250 needs padding
    widest = {224: (224, 224), 333: (352, 256)}[W]  # stage 3: 11 x 32 = 352, 8 x 32 = 256
    for s, p in enumerate(fig.plots):
        Hs, Ws = trace.stages[s].resolution
        assert p.xlim == (0.0, widest[0]) and p.ylim == (0.0, widest[1])
        (heat,) = layer(p, F.Heatmap)
        assert heat.extent == (0.0, 0.0, Ws * 4 * 2**s, Hs * 4 * 2**s)
        np.testing.assert_allclose(heat.data, l2(trace.stages[s].out), rtol=1e-5)
        assert p.title == f"stage {s} · {Hs}×{Ws}"


def test_padding_beyond_the_image_is_hatched(trace_native):
    fig = figure_pyramid(trace_native, Selection())
    (hatch,) = layer(fig.plot("stage3"), F.Hatch)
    np.testing.assert_array_equal(hatch.rects, [[333, 0, 19, 256], [0, 250, 333, 6]])


def test_units_colour_bars_and_data(trace):
    norm = figure_pyramid(trace, Selection(stage=2, feature_mode="norm"))
    for s, p in enumerate(norm.plots):
        values = l2(trace.stages[s].out)
        assert p.colorbar.unit == "L2 norm" and p.colorbar.cmap == "viridis"
        assert p.colorbar.levels == pytest.approx((values.min(), values.max()), rel=1e-5)
    np.testing.assert_allclose(norm.data, l2(trace.stages[2].out), rtol=1e-5)
    assert "L2 norm" in norm.title
    chan = figure_pyramid(trace, Selection(stage=2, feature_mode="channel", channel=3))
    assert chan.plot("stage2").colorbar.unit == "activation"
    np.testing.assert_array_equal(chan.data, trace.stages[2].out[:, :, 3])
    top = top_energy(trace.stages[2].out)
    assert chan.plot("stage2").xlabel == ("ch 3 (top)" if top == 3 else "ch 3")
    pca = figure_pyramid(trace, Selection(stage=3, feature_mode="pca"))
    assert all(p.colorbar is None for p in pca.plots)
    (heat,) = layer(pca.plot("stage3"), F.Heatmap)
    assert heat.is_rgb and heat.data.dtype == np.uint8
    np.testing.assert_array_equal(heat.data, np.round(pca_rgb(trace.stages[3].out) * 255))
    assert any("PCA: first 3 components" in n for n in pca.notes)
    assert pca.plot("stage3").xlabel.startswith("PC 1–3: ")


def test_explicit_channel_applies_to_the_current_stage_only(trace):
    fig = figure_pyramid(trace, Selection(stage=1, feature_mode="channel", channel=7))
    (heat1,) = layer(fig.plot("stage1"), F.Heatmap)
    np.testing.assert_array_equal(heat1.data, trace.stages[1].out[:, :, 7])
    for s in (0, 2, 3):
        f = trace.stages[s].out
        (heat,) = layer(fig.plot(f"stage{s}"), F.Heatmap)
        np.testing.assert_array_equal(heat.data, f[:, :, top_energy(f)])
        assert fig.plot(f"stage{s}").xlabel == f"ch {top_energy(f)} (top)"


def test_hot_channel_is_the_top_one(trace):
    st = trace.stages[2]
    out = st.out.copy()
    out[:, :, 5] = 0.0
    out[:2, :2, 5] = 100.0  # H, W, C
    hot = replace(trace, stages=(*trace.stages[:2], replace(st, out=out), trace.stages[3]))
    fig = figure_pyramid(hot, Selection(stage=2, feature_mode="channel"))
    assert any("channel 5 (top energy)" in n for n in fig.notes)
    assert fig.plot("stage2").colorbar.levels == (0.0, 100.0)


def test_current_stage_framed_and_token_outlined(trace):
    for stage in range(4):
        Hs, Ws = trace.stages[stage].resolution
        r, c = Hs - 1, Ws // 2
        fig = figure_pyramid(trace, Selection(stage=stage, token=(r, c)))
        assert [p.frame for p in fig.plots] == [
            "selected" if s == stage else None for s in range(4)
        ]
        P = 4 * 2**stage
        (box,) = layer(fig.plot(f"stage{stage}"), F.Rects)
        np.testing.assert_array_equal(box.rects, [[c * P, r * P, P, P]])
        assert box.edge == "selected"
        others = [layer(fig.plot(f"stage{s}"), F.Rects) for s in range(4) if s != stage]
        assert others == [[], [], []]


def test_hits_map_a_point_back_to_the_stage_token(trace):
    fig = figure_pyramid(trace, Selection(stage=1, feature_mode="channel", channel=2))
    for s in range(4):
        P = 4 * 2**s
        Hs, Ws = trace.stages[s].resolution
        r, c = Hs // 2, Ws - 2
        hit = fig.hit(f"stage{s}", c * P + P / 2, r * P + P / 2)
        assert hit.cell == (r, c) and hit.kind == "tokens"
        assert hit.region.payload["origin"] == (0, 0) and hit.region.payload["stage"] == s
        expected = trace.stages[s].out[r, c, 2 if s == 1 else top_energy(trace.stages[s].out)]
        assert hit.value == pytest.approx(float(expected))
        assert hit.value_text().startswith("activation ")
        assert ("select" in hit.region.payload) == (s != 1)  # another stage: its block 0
    assert fig.hit("stage0", -1, 5) is None


def test_non_finite_features_do_not_crash(trace):
    st = trace.stages[1]
    out = st.out.copy()
    out[0, 0, :] = np.nan
    out[1, 1, 0] = np.inf
    bad = replace(trace, stages=(trace.stages[0], replace(st, out=out), *trace.stages[2:]))
    for mode in ("norm", "channel", "pca"):
        fig = figure_pyramid(bad, Selection(stage=1, feature_mode=mode, channel=0))
        assert any("non-finite features on stage 1" in n for n in fig.notes)
        bar = fig.plot("stage1").colorbar
        if bar is not None:
            assert np.isfinite(bar.levels).all()


def test_pca_is_deterministic_between_runs(make_model):
    model = make_model(1)
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    a, b = api.capture(model, x), api.capture(model, x.clone())
    fa = figure_pyramid(a, Selection(feature_mode="pca"))
    fb = figure_pyramid(b, Selection(feature_mode="pca"))
    for pa, pb in zip(fa.plots, fb.plots, strict=True):
        np.testing.assert_array_equal(pa.layers[0].data, pb.layers[0].data)


def test_svg_holds_the_labels_as_text(trace224, tmp_path):
    from swin_gui.app.figure_file import write_figure

    fig = figure_pyramid(trace224, Selection(stage=0, feature_mode="norm"))
    svg = write_figure(fig, tmp_path / "pyramid.svg", width_pt=700).read_text()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for label in ("stage 0 · 56×56", "stage 3 · 7×7", "L2 norm"):
        assert label in texts


@pytest.mark.parametrize(
    ("width", "height", "rows"), [(900, 180, 1), (667, 95, 1), (450, 600, 2), (300, 900, 4)]
)
def test_stage_plots_fill_the_dock_and_wrap_when_narrow(trace224, width, height, rows):
    fig = figure_pyramid(trace224, Selection(feature_mode="norm"))
    lay = L.layout(fig, width, height)
    tops = sorted({round(p.box[1], 3) for p in lay.placements})
    assert len(tops) == rows
    for p in lay.placements:
        x, y, w, h = p.outer
        assert x + w <= width + 1 and y + h <= height + 1  # inside the panel
        assert p.box[2] == pytest.approx(p.box[3])  # square tokens: 224 x 224
    boxes = [p.outer for p in lay.placements]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a[0] + a[2] <= b[0]
                or b[0] + b[2] <= a[0]
                or a[1] + a[3] <= b[1]
                or b[1] + b[3] <= a[1]
            )
            assert apart
    if rows == 1 and width == 900:  # wide and short: the height is the limit, fully used
        assert max(p.outer[1] + p.outer[3] for p in lay.placements) > 0.8 * height
