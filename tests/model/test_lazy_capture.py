"""Lazy capture: the chunked forward pass equals the unchunked formulation bit for bit,
on-demand attention / bias / mask equal an eager capture exactly (also at a size neither
the patch nor the window divides), the on-demand cache is bounded in bytes, and a trace
does not keep its model alive."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from lazy_models import SMALL_V1, SMALL_V2, make

import swin_gui.model.chunks as chunks
from swin_gui.api import capture
from swin_gui.model.geometry import pad_tokens, shift_mask, window_partition, window_reverse
from swin_gui.model.ondemand import OnDemand, snapshot
from swin_gui.trace_io import load_npz, save_npz

SIZES = [(224, 224), (250, 333)]  # H, W; 250 x 333 divides by neither 4 nor M


@pytest.fixture(scope="module", params=[SMALL_V1, SMALL_V2], ids=["v1", "v2"])
def model(request):
    return make(request.param)


# ---- the unchunked formulation (pad, roll, all windows at once), as the paper writes it --
def naive_branch(block, x, window, shift):
    _, H, W, _ = x.shape
    x = pad_tokens(x, window)  # B, Hp, Wp, C
    Hp, Wp = x.shape[1:3]
    if shift:
        x = torch.roll(x, (-shift, -shift), (1, 2))
    mask = shift_mask(Hp, Wp, window, shift) if shift else None  # nW, N, N
    windows = block.attn(window_partition(x, window), window, mask)  # B*nW, N, C
    x = window_reverse(windows, window, Hp, Wp)
    if shift:
        x = torch.roll(x, (shift, shift), (1, 2))
    return x[:, :H, :W]


def naive_block(block, x):
    window, shift = block.geometry(x.shape[1], x.shape[2])
    if block.version == 1:
        x = x + naive_branch(block, block.norm1(x), window, shift)
        return x + block.mlp(block.norm2(x))
    x = x + block.norm1(naive_branch(block, x, window, shift))
    return x + block.norm2(block.mlp(x))


def naive_merge(merge, x):
    x = pad_tokens(x, 2)
    B, H, W, C = x.shape
    x = x.reshape(B, H // 2, 2, W // 2, 2, C).permute(0, 1, 3, 4, 2, 5).flatten(3)
    return merge.reduction(merge.norm(x)) if merge.version == 1 else merge.norm(merge.reduction(x))


def naive_forward(m, x):
    t = m.patch_embed(x)
    for stage in m.layers:
        if stage.downsample is not None:
            t = naive_merge(stage.downsample, t)
        for block in stage.blocks:
            t = naive_block(block, t)
    return m.head(m.norm(t))


@pytest.mark.parametrize("chunk", [1, 10**9])
@pytest.mark.parametrize("hw", SIZES)
def test_chunked_forward_equals_unchunked_exactly(model, hw, chunk, monkeypatch):
    x = torch.randn(2, 3, *hw)
    with torch.no_grad():
        expected = naive_forward(model, x)
        monkeypatch.setattr(chunks, "CHUNK_TOKENS", chunk)
        got = model(x)
    assert torch.equal(got, expected)


def test_token_chunks_have_no_short_tail():
    assert chunks.token_chunks(1000, 300) == [(0, 300), (300, 600), (600, 900), (900, 1000)]
    assert chunks.token_chunks(610, 300) == [(0, 300), (300, 610)]  # a 10-row tail joins
    assert chunks.token_chunks(5, 300) == [(0, 5)]


@pytest.mark.parametrize("hw", SIZES)
def test_on_demand_equals_eager_capture_exactly(model, hw):
    x = torch.randn(1, 3, *hw)
    eager = capture(model, x, eager=True)
    lazy = capture(model, x)
    assert not lazy.block(0, 1).computed("attn")
    np.testing.assert_array_equal(lazy.logits, eager.logits)
    for e, z in zip(eager.blocks(), lazy.blocks(), strict=True):
        assert not z.computed("attn") and not z.computed("mid") and e.computed("attn")
        assert z.attn.shape == e.attn.shape and z.attn.dtype == np.float32
        np.testing.assert_array_equal(z.attn, e.attn)
        np.testing.assert_array_equal(z.bias, e.bias)
        np.testing.assert_array_equal(z.mid, e.mid)
        np.testing.assert_array_equal(z.input, e.input)
        if e.mask is None:
            assert z.mask is None and z.regions is None and z.shift == 0
        else:
            np.testing.assert_array_equal(z.mask, e.mask)
            assert z.regions.dtype == np.int8 and z.regions.shape == z.padded
            assert set(np.unique(z.regions)) == set(range(9))


def test_odd_size_shifts_stage3_on_demand():
    """v1 at 250 x 333: stage 3 is 8 x 11 tokens, padded to 14 x 14, shifted by 3."""
    m = make(SMALL_V1)
    trace = capture(m, torch.randn(1, 3, 250, 333))
    b = trace.block(3, 1)
    assert (b.shift, b.padded, b.attn.shape) == (3, (14, 14), (4, 4, 49, 49))
    masked = np.broadcast_to(b.mask[:, None] < 0, b.attn.shape)
    assert b.attn[masked].max() < 1e-30


@pytest.mark.parametrize("hw", SIZES)
def test_one_window_equals_the_eager_block_exactly(model, hw, monkeypatch):
    """`window_attention` computes the row of windows holding the window (the same chunk
    the whole pass computes), not the block; its mask comes from the region labels."""
    import swin_gui.model.ondemand as ondemand

    x = torch.randn(1, 3, *hw)
    eager = capture(model, x, eager=True)
    for whole in (True, False):
        monkeypatch.setattr(ondemand, "WHOLE_BYTES", 2**40 if whole else 0)
        lazy = capture(model, x)
        for e, z in zip(eager.blocks(), lazy.blocks(), strict=True):
            nWh, nWw = z.window_grid
            rows = set()  # rows of windows computed so far
            for w in sorted({0, nWw - 1, (nWh // 2) * nWw + nWw // 2, nWh * nWw - 1}):
                held = z.computed("attn") if whole else w // nWw in rows
                assert z.window_computed(w) == held
                np.testing.assert_array_equal(z.window_attention(w), e.attn[w])
                assert z.window_computed(w)
                rows.add(w // nWw)
                if e.mask is None:
                    assert z.window_mask(w) is None
                else:
                    np.testing.assert_array_equal(z.window_mask(w), e.mask[w])
            assert z.computed("attn") == whole  # a row of windows only, unless small
            assert not z.computed("mask")


def read(trace, stage: int, block: int) -> tuple[int, ...]:
    return trace.block(stage, block).attn.shape


def test_cache_is_bounded_in_bytes_and_keeps_the_latest(model):
    trace = capture(model, torch.randn(1, 3, 224, 224))
    source = trace.block(0, 0).source
    one = trace.block(0, 0).attn.nbytes  # the largest blocks: stage 0
    source.clear()
    source.max_bytes = int(2.5 * one)
    for s, b in ((0, 0), (0, 1), (1, 0)):
        read(trace, s, b)
    assert source.nbytes <= source.max_bytes
    assert trace.block(1, 0).computed("attn") and trace.block(0, 1).computed("attn")
    read(trace, 1, 1)  # 0.0 goes first (least recently used)...
    read(trace, 0, 1)  # ...and reading 0.1 again makes it the most recent
    read(trace, 2, 0)
    held = [k for k in source.cached() if k[2] == "attn"]
    assert (0, 0, "attn") not in held and held[-1] == (2, 0, "attn")
    assert (0, 1, "attn") in held and source.nbytes <= source.max_bytes
    source.max_bytes = 1  # too small for any block: the latest one still stays
    read(trace, 0, 0)
    assert source.cached() == [(0, 0, "attn")]
    with pytest.raises(ValueError):
        trace.block(0, 0).attn[0, 0, 0, 0] = 1.0  # cached arrays are read-only


def test_trace_does_not_keep_its_model_alive():
    m = make(SMALL_V1)
    trace = capture(m, torch.randn(1, 3, 224, 224))
    expected = capture(m, torch.randn(1, 3, 224, 224) * 0 + torch.tensor(trace.input)[None])
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None
    np.testing.assert_array_equal(trace.block(1, 1).attn, expected.block(1, 1).attn)


def test_snapshot_is_shared_and_follows_weight_changes():
    m = make(SMALL_V1)
    first = snapshot(m)
    assert snapshot(m) is first
    with torch.no_grad():
        m.layers[0].blocks[0].attn.qkv.weight.mul_(2)
    again = snapshot(m)
    assert again is not first
    w = again[0][0].attn.qkv.weight
    assert torch.equal(w, m.layers[0].blocks[0].attn.qkv.weight)
    assert w.data_ptr() != m.layers[0].blocks[0].attn.qkv.weight.data_ptr()  # a copy


def test_loaded_and_eager_traces_need_no_source(model, tmp_path):
    trace = capture(model, torch.randn(1, 3, 64, 64), eager=True)
    b = trace.block(0, 1)
    assert b.source is None and b.computed("attn") and b.mask is not None
    assert isinstance(OnDemand(snapshot(model)).get(b, "mask"), np.ndarray)


def test_block_stays_frozen_and_replace_still_works(model):
    from dataclasses import FrozenInstanceError, replace

    trace = capture(model, torch.randn(1, 3, 64, 64))
    b = trace.block(0, 1)
    with pytest.raises(FrozenInstanceError):
        b.attn = np.zeros(1)
    flat = np.zeros_like(b.attn)
    changed = replace(b, attn=flat)  # what tests and views do to fake attention
    assert np.shares_memory(changed.attn, flat) and changed.computed("attn")
    assert not changed.attn.flags.writeable and flat.flags.writeable  # a read-only view
    np.testing.assert_array_equal(changed.mask, b.mask)
    assert "SW-MSA" in repr(b) and len(repr(b)) < 200  # no arrays computed for a repr


def test_lazy_trace_saves_and_loads_equal_to_eager(model, tmp_path):
    x = torch.randn(1, 3, 250, 333)
    eager = capture(model, x, eager=True)
    path = save_npz(capture(model, x), tmp_path / "lazy.npz")
    again = load_npz(path)
    for e, z in zip(eager.blocks(), again.blocks(), strict=True):
        assert z.source is None
        np.testing.assert_array_equal(z.attn, e.attn)
        np.testing.assert_array_equal(z.mid, e.mid)
        if e.mask is not None:
            np.testing.assert_array_equal(z.mask, e.mask)
