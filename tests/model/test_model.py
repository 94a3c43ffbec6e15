"""The instrumented model: capture is a mode of the forward pass, shapes, padding, the
shift rule, statelessness across input sizes, and the norm placement of v1 vs v2."""

import copy

import numpy as np
import pytest
import torch

from swin_gui.api import ablate_shift, capture
from swin_gui.model import Recorder, SwinConfig, SwinTransformer
from swin_gui.trace_io import load_npz, save_npz

SMALL_V1 = SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), num_classes=8)
SMALL_V2 = SMALL_V1.with_(version=2, window_size=8, img_size=256)


@pytest.fixture(scope="module", params=[SMALL_V1, SMALL_V2], ids=["v1", "v2"])
def model(request):
    torch.manual_seed(0)
    m = SwinTransformer(request.param).eval()
    with torch.no_grad():  # non-trivial norms and biases so mistakes show
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m


@pytest.mark.parametrize("hw", [(224, 224), (250, 333), (64, 64), (20, 36)])
def test_capture_matches_plain_forward(model, hw):
    x = torch.randn(1, 3, *hw)
    with torch.no_grad():
        plain = model(x)
        rec = Recorder()
        captured = model(x, rec)
    torch.testing.assert_close(captured, plain, atol=2e-5, rtol=1e-4)
    assert rec.data["logits"].shape == (1, 8)


def test_trace_shapes_on_native_333x250(model):
    trace = capture(model, torch.randn(1, 3, 250, 333))
    M = model.cfg.window_size
    assert trace.embed.shape[:2] == (63, 84)  # 250/4 -> 63 (padded), 333/4 -> 84
    assert [s.resolution for s in trace.stages] == [(63, 84), (32, 42), (16, 21), (8, 11)]
    b = trace.block(0, 1)
    Hp, Wp = b.padded
    assert Hp % M == 0 and Wp % M == 0 and Hp >= 63 and Wp >= 84
    nW = (Hp // M) * (Wp // M)
    assert b.attn.shape == (nW, 1, M * M, M * M)
    np.testing.assert_allclose(b.attn.sum(-1), 1.0, atol=1e-5)
    assert b.mask.shape == (nW, M * M, M * M) and b.shift == M // 2
    assert trace.block(0, 0).mask is None and trace.block(0, 0).shift == 0
    assert b.bias.shape == (1, M * M, M * M)


def test_shift_rule_switches_off_at_small_grids_and_model_is_stateless(model):
    M = model.cfg.window_size
    side = M * 32  # stage 3 grid is exactly M x M: window = grid, no shift
    small = capture(model, torch.randn(1, 3, side, side))
    assert small.block(3, 1).shift == 0 and small.block(3, 1).window == M
    assert small.block(3, 1).mask is None
    big = capture(model, torch.randn(1, 3, 2 * side, 2 * side))  # stage 3 is 2M x 2M
    assert big.block(3, 1).shift == M // 2, "a smaller input must not disable later shifts"
    tiny = capture(model, torch.randn(1, 3, 40, 40))  # 10x10 tokens, stage 1 5x5 < M
    assert tiny.block(1, 1).window == 5 and tiny.block(1, 1).shift == 0


def test_masked_pairs_get_no_attention(model):
    trace = capture(model, torch.randn(1, 3, 224, 224))
    b = trace.block(0, 1)
    assert b.mask is not None
    assert b.attn[np.broadcast_to(b.mask[:, None] < 0, b.attn.shape)].max() < 1e-30


def test_ablation_reruns_the_block(model):
    trace = capture(model, torch.randn(1, 3, 224, 224))
    same = ablate_shift(model, trace, 1, 1, shift=model.cfg.window_size // 2)
    np.testing.assert_allclose(same, trace.block(1, 1).out, atol=1e-5)
    unshifted = ablate_shift(model, trace, 1, 1, shift=0)
    assert np.abs(unshifted - trace.block(1, 1).out).max() > 1e-4


def _hand_window_attention(attn, x, M, version):
    """W-MSA written out from the papers, without the model's attention code: windows of
    an unshifted, unpadded grid x (1, H, W, C) -> the branch output (1, H, W, C)."""
    _, H, W, C = x.shape
    h, d, N = attn.num_heads, C // attn.num_heads, M * M
    win = x.reshape(H // M, M, W // M, M, C).permute(0, 2, 1, 3, 4).reshape(-1, N, C)
    ys, xs = np.divmod(np.arange(N), M)  # token (y, x) inside a window
    dy, dx = ys[:, None] - ys[None, :], xs[:, None] - xs[None, :]
    if version == 1:
        q, k, v = (win @ attn.qkv.weight.T + attn.qkv.bias).view(-1, N, 3, h, d).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # nW, h, N, d
        logits = q @ k.transpose(-1, -2) / d**0.5
        index = torch.from_numpy((dy + M - 1) * (2 * M - 1) + (dx + M - 1))  # N, N
        bias = attn.relative_position_bias_table[index].permute(2, 0, 1)  # h, N, N
    else:
        b = torch.cat([attn.q_bias, torch.zeros_like(attn.q_bias), attn.v_bias])
        q, k, v = (win @ attn.qkv.weight.T + b).view(-1, N, 3, h, d).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        cos = (q / q.norm(dim=-1, keepdim=True)) @ (k / k.norm(dim=-1, keepdim=True)).mT
        logits = cos * torch.exp(torch.clamp(attn.logit_scale, max=np.log(100)))
        bias = attn.position_bias(M)  # v2's CPB MLP: the module's own (checked in parity)
    out = torch.softmax(logits + bias, dim=-1) @ v  # nW, h, N, d
    out = attn.proj(out.transpose(1, 2).reshape(-1, N, C))
    return out.reshape(H // M, W // M, M, M, C).permute(0, 2, 1, 3, 4).reshape(1, H, W, C)


def test_norm_placement_v1_pre_norm_v2_res_post_norm(model):
    """Hand-worked: with the attention's output projection a constant (weight 0, bias 2) and
    LN1 = (scale 1, bias 0.5), the attention branch adds 2 to every channel in v1,
    x + proj(attn(LN1(x))), and LN1 of a constant vector, 0 * 1 + 0.5, in v2,
    x + LN1(proj(attn(x)))."""
    m = copy.deepcopy(model)
    block = m.layers[0].blocks[0]
    with torch.no_grad():
        block.attn.proj.weight.zero_()
        block.attn.proj.bias.fill_(2.0)
        block.norm1.weight.fill_(1.0)
        block.norm1.bias.fill_(0.5)
    trace = capture(m, torch.randn(1, 3, 224, 224), eager=True)
    added = trace.block(0, 0).mid - trace.block_input(0, 0)  # H, W, C
    expected = {1: 2.0, 2: 0.5}[m.cfg.version]
    np.testing.assert_allclose(added, np.full_like(added, expected), atol=1e-5)


def test_norm_placement_against_a_hand_written_window_attention(model):
    """v1: x + attn(LN1(x)); v2: x + LN1(attn(x)), against a hand-written W-MSA; the other
    placement is far off, so a swapped norm fails."""
    trace = capture(model, torch.randn(1, 3, 224, 224))
    blk = model.layers[0].blocks[0]
    x = torch.tensor(trace.block_input(0, 0))[None]  # 1, 56, 56, C
    mid = torch.tensor(trace.block(0, 0).mid)[None]
    M, v = model.cfg.window_size, model.cfg.version
    with torch.no_grad():
        pre = x + _hand_window_attention(blk.attn, blk.norm1(x), M, v)
        post = x + blk.norm1(_hand_window_attention(blk.attn, x, M, v))
    expected, other = (pre, post) if model.cfg.version == 1 else (post, pre)
    torch.testing.assert_close(mid, expected, atol=1e-5, rtol=1e-4)
    assert (mid - other).abs().max() > 1e-3


def test_trace_npz_roundtrip_and_schema(model, tmp_path):
    trace = capture(model, torch.randn(1, 3, 250, 333))
    path = tmp_path / "trace.npz"
    save_npz(trace, path)
    with np.load(path, allow_pickle=False) as z:
        assert z["input"].shape == (3, 250, 333)
        assert z["logits"].shape == (8,)
        assert z["stage1.out"].shape == (32, 32, 42)  # C, H, W
        assert z["stage0.block1.attn"].ndim == 4
        assert "stage0.block1.mask" in z or "stage0.block1.regions" in z  # schema 1 or 2
        assert "stage0.block0.mask" not in z and "stage0.block0.regions" not in z
        assert int(z["stage0.block1.shift"]) == model.cfg.window_size // 2
    again = load_npz(path)
    np.testing.assert_array_equal(again.block(2, 1).attn, trace.block(2, 1).attn)
    np.testing.assert_array_equal(again.block(0, 1).mask, trace.block(0, 1).mask)
    assert again.config == trace.config
