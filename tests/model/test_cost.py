"""The analytic cost model: Swin-T's published 4.5 GMACs and 28.3 M parameters, the
paper's MSA vs W-MSA formulas, linear growth of W-MSA with pixels, and padding."""

from __future__ import annotations

import math

import pytest
import torch

from swin_gui.model import SwinTransformer, preset
from swin_gui.model.cost import (
    count_params,
    format_macs,
    macs,
    macs_by_group,
    msa_vs_wmsa,
    token_grids,
)

TINY = preset("swin_tiny_patch4_window7_224")


def test_swin_t_is_4_5_gmacs_at_224():
    total = macs(TINY, 224, 224)["total"]
    assert abs(total - 4.5e9) / 4.5e9 < 0.03  # swin-facts.md: Swin-T 4.5 GMACs
    assert format_macs(total).endswith(" G")


@pytest.mark.parametrize(
    ("name", "published"),
    [("swin_small_patch4_window7_224", 8.7e9), ("swin_base_patch4_window7_224", 15.4e9)],
)
def test_other_published_sizes(name, published):
    cfg = preset(name)
    assert abs(macs(cfg, cfg.img_size, cfg.img_size)["total"] - published) / published < 0.03


def test_swin_t_has_28_3_m_parameters():
    with torch.device("meta"):  # shapes only: no memory, no init cost
        model = SwinTransformer(TINY)
    assert abs(count_params(model) - 28.3e6) / 28.3e6 < 0.01


def test_block_attention_matches_the_papers_w_msa_formula():
    parts = macs(TINY, 224, 224)
    h = w = 56
    attn = sum(parts[f"stage0.block0.{k}"] for k in ("qkv", "qk", "av", "proj"))
    assert attn == msa_vs_wmsa(h, w, 96, 7)["wmsa"]


def test_msa_is_quadratic_and_w_msa_linear():
    small, large = msa_vs_wmsa(56, 56, 96, 7), msa_vs_wmsa(112, 112, 96, 7)
    assert large["wmsa"] == 4 * small["wmsa"]  # 4x the tokens, 4x the cost
    assert large["msa"] > 10 * small["msa"]  # the (hw)^2 term dominates
    assert small["msa"] - small["wmsa"] == 2 * (56 * 56) ** 2 * 96 - 2 * 49 * 56 * 56 * 96


def test_window_attention_grows_linearly_with_pixels():
    """Twice the pixels (224x448) is exactly twice every per-token part; only the
    classifier head (applied once to the pooled vector) stays the same."""
    one = macs_by_group(macs(TINY, 224, 224))
    two = macs_by_group(macs(TINY, 224, 448))
    for group in ("patch_embed", "attention", "window_products", "mlp", "merge", "norm"):
        assert two[group] == 2 * one[group], group
    assert two["head"] == one["head"]


def test_padding_counts_the_padded_window_grid():
    """225 px -> 57 tokens at stage 0, padded to 63 = 9 windows of 7 for attention."""
    parts = macs(TINY, 225, 225)
    assert token_grids(TINY, 225, 225)[0] == (57, 57)
    assert parts["stage0.block0.qkv"] == 63 * 63 * 96 * 3 * 96
    assert parts["stage0.block0.mlp"] == 57 * 57 * 2 * 96 * 384
    assert parts["total"] > macs(TINY, 224, 224)["total"]


def test_small_input_uses_the_effective_window():
    """At 64 px stage 2 is 4x4 tokens < M = 7: one 4x4 window, N = 16."""
    parts = macs(TINY, 64, 64)
    assert parts["stage2.block0.qk"] == 4 * 4 * 16 * 384


def test_groups_sum_to_total():
    parts = macs(preset("swinv2_tiny_window8_256"), 256, 256)
    groups = macs_by_group(parts)
    assert groups["total"] == parts["total"]
    assert math.isclose(sum(v for k, v in groups.items() if k != "total"), parts["total"])
    assert groups["attention"] > 0 and any(k.endswith(".cpb") for k in parts)
