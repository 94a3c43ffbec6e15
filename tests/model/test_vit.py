"""The comparison ViT (swin_gui.model.vit): DeiT's published sizes, its analytic MACs against
torch's FlopCounterMode (and one count worked by hand), and the bicubic resampling of its
position embeddings to a non-square grid."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from swin_gui.analysis.costs import vit_cost, vit_params
from swin_gui.cost_meters import flop_counter, measuring
from swin_gui.model.vit import (
    VIT_PRESETS,
    VisionTransformer,
    ViTConfig,
    build_vit,
    resample_pos_embed,
    vit_preset,
)

SMALL = ViTConfig("vit_test", img_size=64, embed_dim=32, depth=2, num_heads=2, num_classes=5)


def test_blocks_are_torchs_pre_norm_encoder_layers():
    model = build_vit(SMALL)
    assert len(model.blocks) == 2
    for block in model.blocks:
        assert isinstance(block, nn.TransformerEncoderLayer)
        assert block.norm_first and block.self_attn.batch_first


@pytest.mark.parametrize(
    ("name", "published_m", "published_g"),
    [("vit_small_patch16_224", 22.0, 4.6), ("vit_base_patch16_224", 86.0, 17.6)],
)
def test_deit_published_params_and_macs(name, published_m, published_g):
    cfg = vit_preset(name)
    with torch.device("meta"):
        model = VisionTransformer(cfg)
    params = sum(p.numel() for p in model.parameters())
    assert params == vit_params(cfg)
    assert abs(params / 1e6 - published_m) / published_m < 0.01
    assert abs(vit_cost(cfg, 224, 224)["total"] / 1e9 - published_g) / published_g < 0.01


def test_presets_and_unknown_name():
    assert set(VIT_PRESETS) == {
        "vit_tiny_patch16_224",
        "vit_small_patch16_224",
        "vit_base_patch16_224",
    }
    with pytest.raises(KeyError, match="vit_small_patch16_224"):
        vit_preset("vit_huge")


def test_macs_worked_by_hand():
    """D = 8, 2 heads, 1 block, MLP 32, 3 classes at 32 x 32: 2 x 2 patches + the class
    token = 5 tokens. patch 4·8·3·256 = 24576, qkv 5·8·24 = 960, proj 5·8·8 = 320,
    q·kᵀ + attn·v 2·5²·8 = 400, MLP 2·5·8·32 = 2560, head 8·3 = 24."""
    cfg = ViTConfig("hand", img_size=32, embed_dim=8, depth=1, num_heads=2, num_classes=3)
    cost = vit_cost(cfg, 32, 32)
    assert cost["tokens"] == 5
    assert cost["matmul"] == 24576 + 960 + 320 + 400 + 2560 + 24
    assert cost["norm"] == 3 * 5 * 8  # LN1, LN2, final LN over 5 tokens of 8 channels
    assert cost["msa"] == 4 * 4 * 64 + 2 * 16 * 8  # Ω(MSA), hw = 4 patch tokens, C = 8


@pytest.mark.parametrize(("height", "width"), [(64, 64), (48, 96), (70, 50)])
def test_macs_match_flop_counter(height, width):
    """On the CPU (the path the sweep times) and on the meta device (the sweep's count)."""
    model = build_vit(SMALL)
    expected = vit_cost(SMALL, height, width)["matmul"]
    with measuring(), flop_counter() as counter:
        model(torch.randn(1, 3, height, width))
    assert abs(counter.get_total_flops() / 2 - expected) / expected < 0.01
    with torch.device("meta"):
        meta, x = VisionTransformer(SMALL), torch.empty(1, 3, height, width)
    with torch.no_grad(), FlopCounterMode(display=False) as plain:
        meta(x)
    assert abs(plain.get_total_flops() / 2 - expected) / expected < 0.01


def test_fast_path_is_restored_after_measuring():
    before = torch.backends.mha.get_fastpath_enabled()
    with measuring():
        assert not torch.backends.mha.get_fastpath_enabled()
    assert torch.backends.mha.get_fastpath_enabled() == before


def test_position_embeddings_resample_to_a_non_square_grid():
    """A 4 x 4 trained grid whose embedding is the row index in channel 0 and the column
    index in channel 1, resampled to 4 rows x 8 columns: rows keep their values exactly
    (same count), every row is constant in channel 0, the column ramp is stretched over 8
    columns in channel 1 (monotone, same ends within the bicubic overshoot), and the class
    token is untouched."""
    rows, cols = torch.meshgrid(torch.arange(4.0), torch.arange(4.0), indexing="ij")
    grid = torch.stack([rows, cols], dim=-1).reshape(1, 16, 2)
    cls = torch.tensor([[[7.0, -7.0]]])
    out = resample_pos_embed(torch.cat([cls, grid], dim=1), (4, 8))
    assert out.shape == (1, 1 + 32, 2)
    assert torch.equal(out[0, 0], cls[0, 0])
    image = out[0, 1:].reshape(4, 8, 2)
    assert torch.allclose(image[..., 0], torch.arange(4.0)[:, None].expand(4, 8), atol=1e-5)
    ramp = image[0, :, 1]
    assert torch.all(ramp[1:] >= ramp[:-1])
    assert ramp[0] < 0.2 and ramp[-1] > 2.8
    assert torch.allclose(image[..., 1], ramp.expand(4, 8), atol=1e-6)  # same in every row


def test_same_grid_is_identity_and_forward_runs_at_a_non_square_size():
    model = build_vit(SMALL)
    assert resample_pos_embed(model.pos_embed, (4, 4)) is model.pos_embed
    with torch.no_grad():
        tokens = model.tokens(torch.randn(1, 3, 50, 70))  # pads to 64 x 80: 4 x 5 patches
        logits = model(torch.randn(1, 3, 50, 70))
    assert tokens.shape == (1, 1 + 4 * 5, 32)
    assert logits.shape == (1, 5)
