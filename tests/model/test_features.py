"""Feature-map analysis (energy, channels, norm, PCA), the colormaps, and the rendering of
feature maps and the pyramid, checked on hand-made arrays and on a tiny model's trace."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from swin_gui.analysis.features import (
    channel_energy,
    channel_map,
    norm_map,
    pca,
    pca_rgb,
    top_channels,
)
from swin_gui.api import capture
from swin_gui.model import SwinTransformer
from swin_gui.render.colormap import COLORMAPS, apply_colormap, colormap_lut, symmetric_levels
from swin_gui.render.features import (
    align_to_image,
    render_feature_map,
    render_pyramid,
    stage_pictures,
)

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def trace(tiny64_config):
    torch.manual_seed(0)
    model = SwinTransformer(tiny64_config).eval()
    image = np.random.default_rng(3).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    return capture(model, image, size="native")


# ---- analysis ------------------------------------------------------------------------------
def test_norm_energy_and_channels_on_a_hand_made_map():
    f = np.zeros((2, 2, 3), np.float32)
    f[0, 0] = (3, 4, 0)  # norm 5
    f[1, 1] = (0, 0, -2)  # norm 2
    np.testing.assert_allclose(norm_map(f), [[5, 0], [0, 2]])
    np.testing.assert_allclose(channel_energy(f), [9 / 4, 16 / 4, 4 / 4])
    assert list(top_channels(f, 2)) == [1, 0]
    np.testing.assert_array_equal(channel_map(f, 2), [[0, 0], [0, -2]])
    with pytest.raises(IndexError):
        channel_map(f, 3)
    with pytest.raises(ValueError):
        norm_map(f[0])


def test_pca_finds_a_planted_direction():
    u = np.array([1.0, 2.0, -2.0]) / 3.0
    t = RNG.normal(size=(8, 8, 1))
    f = (t * u + 0.01 * RNG.normal(size=(8, 8, 3))).astype(np.float32)
    result = pca(f, 3)
    assert result.scores.shape == (8, 8, 3) and result.components.shape == (3, 3)
    assert abs(float(result.components[0] @ u)) > 0.999
    assert result.explained[0] > 0.99
    assert result.components[0][np.argmax(np.abs(result.components[0]))] > 0  # sign rule


def test_pca_is_deterministic_and_sign_stable():
    f = RNG.normal(size=(7, 9, 16)).astype(np.float32)
    a, b = pca(f), pca(f.copy())
    np.testing.assert_array_equal(a.components, b.components)
    np.testing.assert_array_equal(pca_rgb(f), pca_rgb(f.copy()))
    # the same token cloud in another order (and negated) has the same directions
    shuffled = f.reshape(-1, 16)[RNG.permutation(63)].reshape(7, 9, 16)
    np.testing.assert_allclose(pca(shuffled).components, a.components, atol=1e-5)
    np.testing.assert_allclose(pca(-f).components, a.components, atol=1e-5)


def test_pca_rgb_range_and_few_channels():
    rgb = pca_rgb(RNG.normal(size=(5, 6, 10)))
    assert rgb.shape == (5, 6, 3) and rgb.dtype == np.float32
    assert rgb.min() >= 0 and rgb.max() <= 1 and rgb.max() > 0.9
    two = pca_rgb(RNG.normal(size=(4, 4, 2)))  # only 2 channels: 3rd component is flat
    assert two.shape == (4, 4, 3)
    np.testing.assert_array_equal(two[:, :, 2], 0.5)


# ---- colormaps -----------------------------------------------------------------------------
def test_luts_shape_and_known_endpoints():
    for name in COLORMAPS:
        lut = colormap_lut(name)
        assert lut.shape == (256, 3) and lut.dtype == np.uint8
    # matplotlib's viridis data: (0.267004, 0.004874, 0.329415) and (0.993248, 0.906157, 0.143936)
    assert tuple(colormap_lut("viridis")[0]) == (68, 1, 84)
    assert tuple(colormap_lut("viridis")[255]) == (253, 231, 37)
    np.testing.assert_array_equal(colormap_lut("gray")[:, 0], np.arange(256))
    np.testing.assert_array_equal(colormap_lut("Magma_r"), colormap_lut("magma")[::-1])
    with pytest.raises(KeyError, match="unknown colormap"):
        colormap_lut("jet")


def test_apply_colormap_levels_clip_and_nan():
    a = np.array([[-1.0, 0.0, 0.5, 1.0, 2.0, np.nan]])
    rgb = apply_colormap(a, "gray", levels=(0.0, 1.0), nan_color=(1, 2, 3))
    assert rgb.shape == (1, 6, 3) and rgb.dtype == np.uint8
    assert list(rgb[0, :5, 0]) == [0, 0, 128, 255, 255]
    assert tuple(rgb[0, 5]) == (1, 2, 3)
    lo, hi = symmetric_levels(np.array([-0.5, 2.0]))
    assert (lo, hi) == (-2.0, 2.0)
    middle = apply_colormap(np.zeros((1, 1)), "coolwarm", levels=(lo, hi))
    assert tuple(middle[0, 0]) == tuple(colormap_lut("coolwarm")[128])


# ---- rendering -----------------------------------------------------------------------------
def test_render_feature_map_nearest_upscale_keeps_tokens_crisp():
    f = RNG.normal(size=(3, 4, 8)).astype(np.float32)
    small = render_feature_map(f, "norm")
    big = render_feature_map(f, "norm", scale=5)
    assert small.shape == (3, 4, 3) and big.shape == (15, 20, 3)
    np.testing.assert_array_equal(big[::5, ::5], small)  # every 5x5 block is one token
    np.testing.assert_array_equal(big[4::5, 4::5], small)
    sized = render_feature_map(f, "pca", upscale_to=(6, 8))
    np.testing.assert_array_equal(sized[::2, ::2], render_feature_map(f, "pca"))
    top = int(top_channels(f, 1)[0])
    np.testing.assert_array_equal(
        render_feature_map(f, "channel", None), render_feature_map(f, "channel", top)
    )
    with pytest.raises(ValueError):
        render_feature_map(f, "bogus")


def test_align_to_image_crops_padding_tokens():
    tokens = np.arange(6, dtype=np.uint8).reshape(2, 3)[:, :, None].repeat(3, axis=2)
    out = align_to_image(tokens, 4, (7, 10))  # 2x3 tokens of 4 px cover 8x12 >= 7x10
    assert out.shape == (7, 10, 3)
    assert out[0, 0, 0] == 0 and out[0, 4, 0] == 1 and out[6, 9, 0] == 5


def test_pyramid_panels_are_the_aligned_stage_maps(trace):
    H, W = trace.image.shape[:2]  # 50 x 70: tokens of 4, 8, 16, 32 px all pad past it
    pyramid = render_pyramid(trace, "norm", cmap="magma", gap=5)
    assert pyramid.shape == (H, 4 * W + 3 * 5, 3) and pyramid.dtype == np.uint8
    for s, st in enumerate(trace.stages):
        P = 4 * 2**s
        f = st.out.astype(np.float64)
        norms = np.sqrt((f * f).sum(axis=2))
        colours = apply_colormap(norms, "magma", (norms.min(), norms.max()))
        expected = np.repeat(np.repeat(colours, P, axis=0), P, axis=1)[:H, :W]
        x0 = s * (W + 5)
        np.testing.assert_array_equal(pyramid[:, x0 : x0 + W], expected)
        np.testing.assert_array_equal(stage_pictures(trace, "norm", cmap="magma")[s], expected)
        if s < 3:
            assert (pyramid[:, x0 + W : x0 + W + 5] == 255).all()  # white gap


def test_pyramid_modes_and_input_panel(trace):
    with_image = render_pyramid(trace, "pca", include_image=True)
    without = render_pyramid(trace, "pca")
    assert with_image.shape[1] > without.shape[1] and with_image.dtype == np.uint8
    assert render_pyramid(trace, "channel", channel=3).shape == without.shape
