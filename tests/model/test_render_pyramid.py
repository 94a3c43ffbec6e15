"""The feature pyramid view (`render_pyramid_view`) and the patch merging view
(`render_merging`), checked on pixels and against the model's own merging layer."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from swin_gui import api
from swin_gui.analysis.features import channel_energy, pca_rgb
from swin_gui.model import SwinTransformer
from swin_gui.render.chart import ACCENT
from swin_gui.render.colormap import apply_colormap, colormap_lut
from swin_gui.render.merging import merge_neighbours, render_merging
from swin_gui.render.pyramid import (
    PAD,
    pyramid_hit,
    render_pyramid_view,
    tile_origins,
    tile_size,
)
from swin_gui.render.selection import Selection


@pytest.fixture(scope="module")
def model(make_model) -> SwinTransformer:
    return make_model(1)


@pytest.fixture(scope="module")
def model_v2(make_model) -> SwinTransformer:
    return make_model(2)


@pytest.fixture
def trace(each_trace):
    """The pyramid tests run on the 224 and on the 333x250 (padded) input."""
    return each_trace


def _aligned(colours: np.ndarray, stride: int, size: tuple[int, int]) -> np.ndarray:
    """Independent reference: repeat each token `stride` px and crop to the image."""
    up = np.repeat(np.repeat(colours, stride, axis=0), stride, axis=1)
    return up[: size[0], : size[1]]


def _expected_tile(trace, s: int, mode: str, channel: int | None) -> np.ndarray:
    f = trace.stages[s].out
    if mode == "pca":
        colours = np.round(pca_rgb(f) * 255).astype(np.uint8)
    else:
        f64 = f.astype(np.float64)
        norms = np.sqrt((f64 * f64).sum(axis=2)).astype(np.float32)  # the float32 L2 norm
        values = norms if mode == "norm" else f[:, :, channel]
        colours = apply_colormap(values, "viridis", (values.min(), values.max()))
    return _aligned(colours, trace.token_pixels(s), trace.image.shape[:2])


@pytest.mark.parametrize("mode", ["channel", "norm", "pca"])
def test_one_image_aligned_tile_per_stage(trace, mode):
    pic = render_pyramid_view(trace, Selection(stage=1, feature_mode=mode))
    origins = tile_origins(trace)
    assert len(origins) == len(trace.stages) == 4
    assert tile_size(trace) == trace.image.shape[:2]  # 224 and 333x250 are shown 1:1
    H, W = trace.image.shape[:2]
    for s, (x0, y0) in enumerate(origins):
        top = int(np.argmax(channel_energy(trace.stages[s].out)))
        expected = _expected_tile(trace, s, mode, top if mode == "channel" else None)
        np.testing.assert_array_equal(pic.rgb[y0 : y0 + H, x0 : x0 + W], expected)
    assert pic.rgb.shape[1] >= origins[-1][0] + W


def test_units_colour_bar_and_data(trace):
    norm = render_pyramid_view(trace, Selection(stage=2, feature_mode="norm"))
    assert norm.units == "L2 norm" and norm.colormap == "viridis"
    np.testing.assert_allclose(norm.data, np.linalg.norm(trace.stages[2].out, axis=2), rtol=1e-5)
    assert norm.levels == pytest.approx((norm.data.min(), norm.data.max()))
    chan = render_pyramid_view(trace, Selection(stage=2, feature_mode="channel", channel=3))
    assert chan.units == "activation"
    np.testing.assert_array_equal(chan.data, trace.stages[2].out[:, :, 3])
    pca = render_pyramid_view(trace, Selection(stage=3, feature_mode="pca"))
    assert pca.colormap is None and pca.data.shape == (*trace.stages[3].resolution, 3)
    np.testing.assert_allclose(pca.data, pca_rgb(trace.stages[3].out), atol=1e-6)
    assert any("PCA: first 3 components" in n for n in pca.notes)


def test_current_stage_is_framed(trace):
    for stage in range(4):
        pic = render_pyramid_view(trace, Selection(stage=stage))
        for s, (x0, _) in enumerate(tile_origins(trace)):
            corner = tuple(pic.rgb[1, x0 - PAD + 1])
            assert (corner == ACCENT) == (s == stage)


def test_hot_channel_is_shown(trace):
    """A channel made hot in one 2x2-token corner of stage 2 is the one channel mode
    picks (None = top by energy), and exactly that corner is drawn at the top colour."""
    st = trace.stages[2]
    out = st.out.copy()
    hot = 5
    out[:, :, hot] = 0.0
    out[:2, :2, hot] = 100.0  # H, W, C
    hot_trace = replace(trace, stages=(*trace.stages[:2], replace(st, out=out), trace.stages[3]))
    pic = render_pyramid_view(hot_trace, Selection(stage=2, feature_mode="channel"))
    assert any("channel 5" in n for n in pic.notes)
    np.testing.assert_array_equal(pic.data, out[:, :, hot])
    x0, y0 = tile_origins(hot_trace)[2]
    P = hot_trace.token_pixels(2)
    top_colour = colormap_lut("viridis")[-1]
    assert (pic.rgb[y0 : y0 + 2 * P, x0 : x0 + 2 * P] == top_colour).all()
    assert not (pic.rgb[y0 + 2 * P : y0 + 4 * P, x0 : x0 + 2 * P] == top_colour).all(axis=2).any()


def test_explicit_channel_applies_to_the_current_stage_only(trace):
    pic = render_pyramid_view(trace, Selection(stage=1, feature_mode="channel", channel=7))
    x0, y0 = tile_origins(trace)[1]
    H, W = trace.image.shape[:2]
    np.testing.assert_array_equal(
        pic.rgb[y0 : y0 + H, x0 : x0 + W], _expected_tile(trace, 1, "channel", 7)
    )
    top0 = int(np.argmax(channel_energy(trace.stages[0].out)))
    x0, y0 = tile_origins(trace)[0]
    np.testing.assert_array_equal(
        pic.rgb[y0 : y0 + H, x0 : x0 + W], _expected_tile(trace, 0, "channel", top0)
    )


def test_pca_is_deterministic_between_runs(model):
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    a, b = api.capture(model, x), api.capture(model, x.clone())
    assert a is not b
    pa = render_pyramid_view(a, Selection(feature_mode="pca"))
    pb = render_pyramid_view(b, Selection(feature_mode="pca"))
    np.testing.assert_array_equal(pa.rgb, pb.rgb)


def test_hit_maps_pixels_back_to_stage_and_token(trace):
    for s, (x0, y0) in enumerate(tile_origins(trace)):
        P = trace.token_pixels(s)
        H_s, W_s = trace.stages[s].resolution
        r, c = H_s // 2, W_s - 2
        assert pyramid_hit(trace, x0 + c * P + P / 2, y0 + r * P + P / 2) == (s, (r, c))
    assert pyramid_hit(trace, 1, 1) is None  # label strip


def test_token_outline_on_current_stage(trace):
    plain = render_pyramid_view(trace, Selection(stage=3))
    marked = render_pyramid_view(trace, Selection(stage=3, token=(1, 2)))
    x0, y0 = tile_origins(trace)[3]
    P = trace.token_pixels(3)
    assert (marked.rgb[y0 + P, x0 + 2 * P] == 255).all()
    diff = np.argwhere((plain.rgb != marked.rgb).any(axis=2))
    assert diff[:, 1].min() >= x0 + 2 * P and diff[:, 1].max() < x0 + 3 * P


# ---- patch merging ------------------------------------------------------------------------------
def test_neighbour_order_is_the_documented_one():
    assert merge_neighbours(3, 5) == [(6, 10), (7, 10), (6, 11), (7, 11)]


@pytest.mark.parametrize("version", [1, 2])
def test_neighbours_rebuild_the_models_merge(version, model, model_v2):
    """Concatenating the 4 neighbours in the documented order and applying the model's
    own merging layer (v1: LN then Linear; v2: Linear then LN) gives merge_out[token]."""
    m = model if version == 1 else model_v2
    trace = api.capture(m, torch.randn(1, 3, 224, 224))
    for s, (r, c) in ((1, (3, 4)), (2, (6, 1)), (3, (2, 5))):
        x = trace.stages[s].merge_in
        cat = torch.from_numpy(np.concatenate([x[p] for p in merge_neighbours(r, c)]))  # 4C
        down = m.layers[s].downsample
        with torch.no_grad():
            y = down.reduction(down.norm(cat)) if version == 1 else down.norm(down.reduction(cat))
        np.testing.assert_allclose(y.numpy(), trace.stages[s].merge_out[r, c], atol=1e-5)
        pic = render_merging(trace, Selection(stage=s, token=(r, c)))
        np.testing.assert_array_equal(pic.data, trace.stages[s].merge_out[r, c])
        order = "LayerNorm then Linear" if version == 1 else "Linear then LayerNorm"
        assert any(f"v{version}: {order}" in n for n in pic.notes)


def test_merging_numbers_match_the_config(trace):
    H0, W0 = trace.stages[0].resolution
    for s in (1, 2, 3):
        c = 16 * 2 ** (s - 1)
        pic = render_merging(trace, Selection(stage=s, token=(0, 0)))
        assert f"{c} → {4 * c} → {2 * c}" in pic.title
        (Hi, Wi), (Ho, Wo) = trace.stages[s - 1].resolution, trace.stages[s].resolution
        assert f"{Hi}×{Wi} → {Ho}×{Wo}" in pic.title
        odd = any("odd" in n for n in pic.notes)
        assert odd == bool(Hi % 2 or Wi % 2)
    embed = render_merging(trace, Selection(stage=0, token=(1, 2)))
    assert "48 → 16" in embed.title and f"{H0}×{W0} tokens" in embed.title
    np.testing.assert_array_equal(embed.data, trace.embed[1, 2])
    assert embed.rgb.dtype == np.uint8 and embed.rgb.shape[2] == 3


def test_merging_marks_padding_neighbours(trace_native):
    trace = trace_native  # stage 2 is 16x21: odd width
    pic = render_merging(trace, Selection(stage=3, token=(7, 10)))
    assert any("16×21 is odd" in n for n in pic.notes)
    inside = render_merging(trace, Selection(stage=3, token=(7, 9)))
    assert not np.array_equal(pic.rgb, inside.rgb)
