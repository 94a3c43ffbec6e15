"""Attention of one token mapped back to the image, and the relative position bias table,
checked against small random models (v1 and v2) captured at 224 and at 333x250."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from swin_gui import api
from swin_gui.analysis.attention import (
    attention_maps,
    bias_table,
    bias_table_spread,
    expand_bias_table,
    map_to_grid,
    masked_entries,
    model_bias_table,
    query_attention,
    window_keys,
)
from swin_gui.model import SwinConfig, SwinTransformer

TINY = SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), num_classes=8)
TINY_V2 = SwinConfig(
    version=2,
    img_size=256,
    window_size=8,
    embed_dim=16,
    depths=(2, 2, 2, 2),
    num_heads=(1, 2, 2, 4),
    num_classes=8,
)


def _model(cfg: SwinConfig) -> SwinTransformer:
    torch.manual_seed(0)
    model = SwinTransformer(cfg).eval()
    with torch.no_grad():  # move every parameter off its init so the bias is not ~0
        for p in model.parameters():
            p.add_(torch.randn(p.shape) * 0.05)
    return model


@pytest.fixture(scope="module")
def v1_model() -> SwinTransformer:
    return _model(TINY)


@pytest.fixture(scope="module")
def v1_trace(v1_model):
    return api.capture(
        v1_model, torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    )


@pytest.fixture(scope="module")
def odd_trace(v1_model):
    """A native 333 x 250 input: stage 1 is 32 x 42 tokens, padded to 35 x 42."""
    return api.capture(
        v1_model, torch.randn(1, 3, 250, 333, generator=torch.Generator().manual_seed(2))
    )


def _rolled_window_tokens(H: int, W: int, M: int, s: int, token: tuple[int, int]) -> set:
    """Independent reference: roll an index grid like the model does, cut it into windows and
    return the original tokens that share a window with `token`."""
    index = np.arange(H * W).reshape(H, W)
    rolled = np.roll(index, (-s, -s), axis=(0, 1))
    where = np.argwhere(rolled == token[0] * W + token[1])[0]
    r0, c0 = (where // M) * M
    return {divmod(int(i), W) for i in rolled[r0 : r0 + M, c0 : c0 + M].ravel()}


@pytest.mark.parametrize("stage,block,token", [(0, 0, (10, 20)), (0, 1, (55, 55)), (3, 0, None)])
def test_query_rows_are_distributions_and_the_map_keeps_the_mass(v1_trace, stage, block, token):
    bt = v1_trace.block(stage, block)
    q = query_attention(bt, token)
    assert q.rows.shape == (bt.heads + 1, bt.tokens_per_window)
    np.testing.assert_allclose(q.rows.sum(axis=1), 1.0, atol=1e-5)
    maps, pad_mass = attention_maps(bt, token)
    assert maps.shape == (bt.heads + 1, *bt.resolution)
    np.testing.assert_allclose(np.nansum(maps, axis=(1, 2)) + pad_mass, 1.0, atol=1e-5)
    assert np.isfinite(maps[0]).sum() == bt.tokens_per_window - q.padding.sum()


def test_mean_row_is_the_mean_over_heads(v1_trace):
    bt = v1_trace.block(1, 1)
    q = query_attention(bt, (5, 9))
    w, i = bt.locate(5, 9)
    np.testing.assert_allclose(q.rows[-1], bt.attn[w, :, i, :].mean(axis=0), rtol=1e-6)


def test_wrapped_window_maps_keys_to_the_opposite_edges(v1_trace):
    """Stage 0, SW-MSA (s = 3) on 224: the bottom-right window after the roll holds tokens
    from the bottom-right corner and from the top and left edges."""
    bt = v1_trace.block(0, 1)
    assert bt.shift == 3
    H, W = bt.resolution
    token = (55, 55)
    q = query_attention(bt, token)
    mapped = {tuple(int(v) for v in k) for k in q.keys}
    assert mapped == _rolled_window_tokens(H, W, bt.window, bt.shift, token)
    assert any(r < 3 for r, _ in mapped) and any(c < 3 for _, c in mapped)
    # the shift mask keeps the query in its own region: rows and cols 52..55 (the corner)
    maps, _ = attention_maps(bt, token)
    corner = maps[:, 52:56, 52:56]
    np.testing.assert_allclose(corner.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert np.nanmax(maps[:, :3, :]) < 1e-6 and np.nanmax(maps[:, :, :3]) < 1e-6


def test_padding_keys_are_set_apart(odd_trace):
    bt = odd_trace.block(1, 1)
    assert bt.resolution == (32, 42) and bt.padded == (35, 42)
    q = query_attention(bt, (31, 20))
    keys, padding = window_keys(bt, q.window)
    assert padding.sum() == 21  # rows 32..34 of a 7-column window
    assert (keys[padding, 0] >= 32).all() and (keys[~padding, 0] < 32).all()
    maps, pad_mass = map_to_grid(q.rows, q.keys, bt.resolution)
    np.testing.assert_allclose(pad_mass, q.rows[:, padding].sum(axis=1), rtol=1e-6)
    assert (pad_mass > 0).all()
    np.testing.assert_allclose(np.nansum(maps, axis=(1, 2)) + pad_mass, 1.0, atol=1e-5)


def test_masked_entries_get_no_attention(v1_trace):
    bt = v1_trace.block(0, 1)
    w, _ = bt.locate(55, 55)
    masked = masked_entries(bt, w)
    assert masked.sum() == (bt.mask[w] < 0).sum() > 0
    assert bt.attn[w][:, masked].max() < 1e-6
    assert not masked_entries(v1_trace.block(0, 0), 0).any()  # W-MSA: no mask


@pytest.mark.parametrize("stage,block", [(0, 0), (1, 1), (3, 1)])
def test_v1_bias_table_equals_the_learned_table(v1_model, v1_trace, stage, block):
    bt = v1_trace.block(stage, block)
    M = bt.window
    learned = v1_model.layers[stage].blocks[block].attn.relative_position_bias_table
    expected = model_bias_table(learned.detach().numpy(), M)  # heads, 2M-1, 2M-1
    table = bias_table(bt.bias, M)
    assert table.shape == (bt.heads, 2 * M - 1, 2 * M - 1)
    np.testing.assert_allclose(table, expected, atol=1e-6)
    assert np.abs(expected).max() > 1e-3  # a real comparison, not zeros against zeros
    np.testing.assert_allclose(expand_bias_table(table), bt.bias, atol=1e-6)
    assert bias_table_spread(bt.bias, M) < 1e-6


def test_bias_table_spread_catches_a_bias_that_is_not_relative():
    bias = np.zeros((1, 4, 4), np.float32)  # M = 2
    assert bias_table_spread(bias, 2) == 0
    bias[0, 0, 0] = 1.0  # offset (0, 0) now has two values
    assert bias_table_spread(bias, 2) == pytest.approx(1.0)


def test_v2_bias_table_matches_the_continuous_bias():
    model = _model(TINY_V2)
    trace = api.capture(model, torch.randn(1, 3, 256, 256))
    for stage, block in ((0, 1), (2, 0)):
        bt = trace.block(stage, block)
        M = bt.window
        attn = model.layers[stage].blocks[block].attn
        with torch.no_grad():
            expected = model_bias_table(attn.continuous_bias_table(M).numpy(), M)
        table = bias_table(bt.bias, M)
        np.testing.assert_allclose(table, expected, atol=1e-5)
        assert table.min() > 0 and table.max() < 16  # 16·sigmoid(.)
        assert bias_table_spread(bt.bias, M) < 1e-5
        with torch.no_grad():
            tau = torch.clamp(attn.logit_scale, max=np.log(100)).exp().flatten().numpy()
        np.testing.assert_allclose(bt.logit_scale, tau, rtol=1e-6)


def test_relative_index_helpers_are_numpy_twins_of_the_model_geometry():
    from swin_gui.analysis.attention import relative_offsets, relative_position_index
    from swin_gui.model import geometry

    # M = 2: positions (0,0) (0,1) (1,0) (1,1); query 3 - key 0 = (1, 1); index (1+1)*3 + (1+1)
    d = relative_offsets(2)
    assert isinstance(d, np.ndarray) and d.shape == (4, 4, 2)
    assert tuple(d[3, 0]) == (1, 1) and tuple(d[0, 3]) == (-1, -1) and tuple(d[1, 2]) == (-1, 1)
    assert relative_position_index(2)[3, 0] == 8 and relative_position_index(2)[0, 3] == 0
    for window, table in ((7, None), (4, 7), (8, None)):
        np.testing.assert_array_equal(
            relative_position_index(window, table),
            geometry.relative_position_index(window, table).numpy(),
        )
        np.testing.assert_array_equal(
            relative_offsets(window), geometry.relative_offsets(window).numpy()
        )
