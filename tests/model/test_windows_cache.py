"""The fused window layout and the per-size caches: one gather equals pad + roll +
partition (and back), both attention paths give the same probabilities, the bias+mask
cache is bounded, never on the module, and follows weight changes."""

from __future__ import annotations

import pytest
import torch

import swin_gui.model.attend as attend
from swin_gui.model import SwinConfig, SwinTransformer
from swin_gui.model.geometry import pad_tokens, window_partition, window_reverse
from swin_gui.model.windows import (
    CACHE,
    BoundedCache,
    block_additive,
    gather_windows,
    scatter_windows,
    window_index,
)

SMALL = SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), num_classes=8)


@pytest.mark.parametrize("H, W, M, s", [(8, 8, 4, 2), (9, 11, 4, 2), (7, 7, 7, 0), (13, 6, 3, 1)])
def test_one_gather_is_pad_roll_partition(H, W, M, s):
    x = torch.randn(2, H, W, 5)
    Hp, Wp = -(-H // M) * M, -(-W // M) * M
    src, pad, rows, dst = window_index(H, W, M, s, 0, Hp, x.device)
    expected = window_partition(torch.roll(pad_tokens(x, M), (-s, -s), (1, 2)), M)
    got = gather_windows(x, src, pad, M)
    assert torch.equal(got, expected)
    back = torch.roll(window_reverse(expected, M, Hp, Wp), (s, s), (1, 2))[:, :H, :W]
    assert rows.tolist() == list(range(H))
    assert torch.equal(scatter_windows(expected, dst, 2, W), back)


def test_chunks_of_rows_cover_the_grid_once():
    H, W, M, s = 10, 9, 3, 1
    Hp = 12
    seen = []
    for r0 in range(0, Hp, 6):
        _, _, rows, dst = window_index(H, W, M, s, r0, r0 + 6, torch.device("cpu"))
        assert dst.numel() == rows.numel() * W
        seen += rows.tolist()
    assert sorted(seen) == list(range(H))


def test_both_attention_paths_agree(monkeypatch):
    q, k, v = torch.randn(3, 8, 2, 16, 4).unbind(0)
    additive = torch.randn(4, 2, 16, 16)  # nW = 4 windows repeating over B = 2
    outs = {}
    for path in attend.PATHS:
        monkeypatch.setenv("SWIN_GUI_ATTENTION", path)
        keep = []
        outs[path] = attend.attend(q, k, v, additive, keep)
        assert torch.equal(keep[0], attend.probabilities(q, k, additive))
    torch.testing.assert_close(outs["explicit"], outs["sdpa"], atol=1e-5, rtol=1e-5)
    logits = (q @ k.mT).view(2, 4, 2, 16, 16) + additive  # by hand
    torch.testing.assert_close(keep[0], logits.softmax(-1).view(8, 2, 16, 16))


def test_the_measured_choice_is_made_once_per_shape(monkeypatch):
    monkeypatch.delenv("SWIN_GUI_ATTENTION", raising=False)
    monkeypatch.setattr(attend, "_CHOSEN", {})
    calls = []
    monkeypatch.setattr(attend, "_measure", lambda q, a: calls.append(q.shape) or "explicit")
    q = torch.randn(6, 3, 49, 8)
    for _ in range(3):
        assert attend.path_for(q, torch.zeros(1, 3, 49, 49)) == "explicit"
    attend.path_for(q, torch.zeros(6, 3, 49, 49))  # masked: another shape
    assert len(calls) == 2
    monkeypatch.undo()
    assert attend._measure(q, torch.zeros(1, 3, 49, 49)) in attend.PATHS  # a real timing


def test_bounded_cache_drops_the_oldest_and_skips_big_items():
    cache = BoundedCache(max_bytes=3 * 400, item_bytes=800)
    for i in range(5):
        cache.get(i, lambda: torch.zeros(100))  # 400 bytes each
    assert len(cache) == 3 and cache.nbytes == 1200
    cache.get("big", lambda: torch.zeros(1000))  # 4000 bytes: computed, not kept
    assert "big" not in cache._items and len(cache) == 3


def test_additive_cache_is_off_the_module_and_follows_the_weights():
    torch.manual_seed(0)
    model = SwinTransformer(SMALL).eval()
    attn = model.layers[0].blocks[1].attn
    before = set(vars(attn))
    with torch.no_grad():
        *_, add = block_additive(attn, 7, 56, 56, 3, 0, 56)
        again = block_additive(attn, 7, 56, 56, 3, 0, 56)
        assert again[2] is add  # a hit
        attn.relative_position_bias_table.add_(1.0)  # in place: the version changes
        fresh = block_additive(attn, 7, 56, 56, 3, 0, 56)
    assert fresh[2] is not add
    torch.testing.assert_close(fresh[2], add + 1.0)
    assert set(vars(attn)) == before  # nothing stored on the module
    assert CACHE.nbytes <= CACHE.max_bytes
    with torch.enable_grad():  # with autograd on nothing is cached (the demo trains)
        a1 = block_additive(attn, 7, 56, 56, 3, 0, 56)[2]
        assert a1.requires_grad and block_additive(attn, 7, 56, 56, 3, 0, 56)[2] is not a1
