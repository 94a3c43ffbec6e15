"""Checkpoints from the wider ecosystem (issue 15, part 1): OpenMMLab backbones built by
mmdet's published converter, mmengine pickles with more than tensors, detectron2 .pkl,
a headless backbone end to end, and the Swin variants we refuse by name."""

from __future__ import annotations

import pickle
import sys

import pytest
import torch
import torch.nn.functional as F
from ckpt_layouts import (
    assert_same_model,
    fake_module,
    mmdet_swin_converter,
    random_model,
    refusal,
    sample_input,
    small_config,
    to_mm,
    to_official,
)

from swin_gui.model.checkpoints import load_checkpoint
from swin_gui.model.checkpoints.openmmlab import official_to_unfold, unfold_to_official

# --- the unfold order -------------------------------------------------------------------


def test_unfold_order_hand_worked():
    # C = 2; official order is neighbour-major: a=(0,0), b=(1,0), c=(0,1), d=(1,1) as (dy, dx),
    # [a0 a1 b0 b1 c0 c1 d0 d1] = 0..7. nn.Unfold is channel-major over (0,0),(0,1),(1,0),(1,1):
    # [a0 c0 b0 d0 a1 c1 b1 d1] = [0 4 2 6 1 5 3 7].
    official = torch.arange(8.0)
    mm = torch.tensor([0.0, 4, 2, 6, 1, 5, 3, 7])
    assert torch.equal(
        mmdet_swin_converter({"layers.0.downsample.norm.weight": official})[
            "backbone.stages.0.downsample.norm.weight"
        ],
        mm,
    )
    assert torch.equal(unfold_to_official(mm), official)
    assert torch.equal(unfold_to_official(mm[None].repeat(3, 1)), official[None].repeat(3, 1))


def test_unfold_round_trip_is_exact():
    w = torch.randn(6, 12, generator=torch.Generator().manual_seed(0))
    n = torch.randn(12, generator=torch.Generator().manual_seed(1))
    mm = mmdet_swin_converter(
        {"layers.1.downsample.reduction.weight": w, "layers.1.downsample.norm.weight": n}
    )
    w_mm, n_mm = (
        mm["backbone.stages.1.downsample.reduction.weight"],
        mm["backbone.stages.1.downsample.norm.weight"],
    )
    assert not torch.equal(w_mm, w)
    assert torch.equal(unfold_to_official(w_mm), w) and torch.equal(unfold_to_official(n_mm), n)
    assert torch.equal(official_to_unfold(w), w_mm) and torch.equal(official_to_unfold(n), n_mm)


def _mm_merge(x, norm_w, norm_b, reduction_w, eps):
    """mm's PatchMerging forward: nn.Unfold(2, stride 2) on (B, C, H, W), then LN, Linear."""
    unfolded = F.unfold(x.permute(0, 3, 1, 2), kernel_size=2, stride=2)  # B, 4C, L
    B, _, H, W = x.permute(0, 3, 1, 2).shape
    tokens = unfolded.transpose(1, 2)  # B, L, 4C
    tokens = F.layer_norm(tokens, (tokens.shape[-1],), norm_w, norm_b, eps)
    return (tokens @ reduction_w.T).view(B, H // 2, W // 2, -1)


# --- OpenMMLab --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mmdetection", "mmsegmentation"])
def test_mm_detector_backbone_stage_parity(tmp_path, kind):
    cfg = small_config(1, num_classes=0)
    model = random_model(cfg)
    checkpoint = to_mm(model, kind)
    torch.save(checkpoint, tmp_path / "det.pth")
    loaded = load_checkpoint(tmp_path / "det.pth")
    report = loaded.report
    assert loaded.format == "openmmlab" and report.ecosystem == kind
    assert report.key == "state_dict" and loaded.config.num_classes == 0
    assert "has no classification head" in report.no_head_reason and kind in report.no_head_reason
    heads = sorted({k.split(".")[0] for k in checkpoint["state_dict"] if "backbone" not in k})
    out_norms = [f"norm{s}.{p}" for s in range(3) for p in ("bias", "weight")]
    assert sorted(report.ignored) == sorted(
        [k for k in checkpoint["state_dict"] if not k.startswith("backbone.")] + out_norms
    )
    assert any(
        f"ignored 2 keys under {', '.join(h + '.' for h in heads)}" in n for n in report.notes
    )
    assert any("norm0, norm1, norm2 are left out" in n for n in report.notes)
    x = sample_input(cfg)
    with torch.no_grad():
        ours = loaded.model.forward_intermediates(x, intermediates_only=True)
        theirs = model.forward_intermediates(x, intermediates_only=True)
        for a, b in zip(ours, theirs, strict=True):
            assert torch.equal(a, b)
        assert torch.equal(loaded.model.forward_features(x), model.forward_features(x))


def test_mm_merging_matches_unfold_reference(tmp_path):
    """The un-reordered weights make our merging equal to mm's own Unfold-based forward."""
    cfg = small_config(1, num_classes=0)
    model = random_model(cfg)
    checkpoint = to_mm(model)
    torch.save(checkpoint, tmp_path / "det.pth")
    loaded = load_checkpoint(tmp_path / "det.pth").model
    sd = checkpoint["state_dict"]
    x = torch.randn(1, 8, 8, cfg.stage_dim(0), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ours = loaded.layers[1].downsample(x)
        ref = _mm_merge(
            x,
            sd["backbone.stages.0.downsample.norm.weight"],
            sd["backbone.stages.0.downsample.norm.bias"],
            sd["backbone.stages.0.downsample.reduction.weight"],
            cfg.layer_norm_eps,
        )
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_mmpretrain_classifier_keeps_its_head(tmp_path):
    cfg = small_config(1)
    model = random_model(cfg)
    torch.save(to_mm(model, "mmpretrain", out_norms=False), tmp_path / "cls.pth")
    loaded = load_checkpoint(tmp_path / "cls.pth")
    assert loaded.report.ecosystem == "mmpretrain" and loaded.report.ignored == ()
    assert loaded.report.no_head_reason == ""
    assert_same_model(loaded, model)


def test_mmengine_pickle_with_objects_is_read_without_running_them(tmp_path):
    marker = tmp_path / "ran"

    class HistoryBuffer:
        def __init__(self):
            self.log = [1.0, 2.0]

        def __setstate__(self, state):  # would run only if the real class were imported
            open(marker, "w").close()

    class MessageHub:
        pass

    fake_module("mmengine.logging.history_buffer", HistoryBuffer=HistoryBuffer)
    fake_module("mmengine.logging.message_hub", MessageHub=MessageHub)
    hub = MessageHub()
    hub.log_scalars = {"train/loss": HistoryBuffer()}
    cfg = small_config(1, num_classes=0)
    model = random_model(cfg)
    checkpoint = to_mm(model)
    import numpy as np

    checkpoint["meta"].update(seed=np.int64(7), lr=np.float64(0.01), hist=np.ones(3))
    checkpoint["message_hub"] = hub
    checkpoint["optimizer"] = {"state": {0: {"exp_avg": torch.zeros(3)}}, "param_groups": []}
    torch.save(checkpoint, tmp_path / "epoch_12.pth")
    for name in [m for m in sys.modules if m.startswith("mmengine")]:
        del sys.modules[name]
    loaded = load_checkpoint(tmp_path / "epoch_12.pth")
    assert not marker.exists() and "mmengine" not in sys.modules
    assert loaded.report.skipped_objects == (
        "mmengine.logging.history_buffer.HistoryBuffer",
        "mmengine.logging.message_hub.MessageHub",
    )
    x = sample_input(cfg)
    with torch.no_grad():
        assert torch.equal(loaded.model.forward_features(x), model.forward_features(x))


# --- detectron2 -------------------------------------------------------------------------


def test_detectron2_pkl_of_numpy_arrays(tmp_path):
    cfg = small_config(1)
    model = random_model(cfg)
    official = to_official(model.state_dict(), cfg)["model"]
    d2 = {
        "model": {k: v.numpy() for k, v in official.items()},
        "__author__": "third_party",
        "matching_heuristics": True,
    }
    (tmp_path / "swin_tiny_window4_64.pkl").write_bytes(pickle.dumps(d2))
    loaded = load_checkpoint(tmp_path / "swin_tiny_window4_64.pkl")
    assert loaded.format == "official" and loaded.report.ecosystem == "detectron2"
    assert_same_model(loaded, model)


# --- variants we recognise and refuse ----------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "variant"),
    [
        (
            {
                "conv_first.weight": (8, 3, 3, 3),
                "layers.0.residual_group.blocks.0.attn.qkv.weight": (24, 8),
            },
            "SwinIR",
        ),
        ({"backbone.patch_embed.proj.weight": (8, 3, 2, 4, 4)}, "Video Swin"),
        ({"swinViT.patch_embed.proj.weight": (8, 1, 2, 2, 2)}, "Swin-UNETR"),
        (
            {
                "patch_embed.proj.weight": (8, 3, 4, 4),
                "layers.2.blocks.1.mlp._moe_layer.experts.batched_fc1_w": (4, 8, 8),
            },
            "Swin-MoE",
        ),
    ],
)
def test_variants_are_refused_by_name(tmp_path, keys, variant):
    torch.save({k: torch.zeros(s) for k, s in keys.items()}, tmp_path / "v.pth")
    message = refusal(tmp_path / "v.pth")
    assert message.startswith(f"v.pth is a {variant} ") and "not a Swin" not in message


def test_mask2former_pkl_of_plain_pickled_tensors(tmp_path):
    """Mask2Former's converter pickles official torch tensors with plain `pickle.dump`."""
    cfg = small_config(1)
    model = random_model(cfg)
    official = to_official(model.state_dict(), cfg)["model"]
    d2 = {"model": official, "__author__": "third_party", "matching_heuristics": True}
    (tmp_path / "swin_tiny_window4_64.pkl").write_bytes(pickle.dumps(d2))
    loaded = load_checkpoint(tmp_path / "swin_tiny_window4_64.pkl")
    assert loaded.report.ecosystem == "detectron2"
    assert_same_model(loaded, model)


# --- a backbone without a head, end to end ------------------------------------------------


def test_detector_backbone_runs_without_top5_and_inspect_says_everything(tmp_path, capsys):
    from swin_gui import cli
    from swin_gui.api import capture, load_model

    cfg = small_config(1, num_classes=0)
    model = random_model(cfg)
    checkpoint = to_mm(model, "mmsegmentation")
    checkpoint["state_dict"] = {
        f"module.{k}": v.half() for k, v in checkpoint["state_dict"].items()
    }
    torch.save(checkpoint, tmp_path / "upernet.pth")
    loaded = load_model(tmp_path / "upernet.pth")
    assert loaded.info.no_head_reason == (
        "mmsegmentation backbone: a detector or segmenter has no classification head"
    )
    trace = capture(loaded, sample_input(cfg))
    assert trace.logits is None and trace.top_k() == [] and trace.probabilities() is None
    assert cli.main(["inspect", str(tmp_path / "upernet.pth")]) == 0
    rows = dict(
        (line[:18].strip(), line[18:].strip())
        for line in capsys.readouterr().out.splitlines()
        if line[:18].strip()
    )
    assert rows["format"] == "openmmlab" and rows["ecosystem"] == "mmsegmentation"
    assert rows["wrapper"] == "{'state_dict': …} (also: meta)"
    assert rows["state dict key"] == "'state_dict'"
    assert rows["prefix stripped"] == "'module.'"
    assert rows["ignored keys"] == (
        "8 keys under auxiliary_head., decode_head., norm0., norm1., norm2."
    )
    assert rows["weights dtype"] == "float16 (loaded as float32)"
    assert rows["preprocessing"] == "ImageNet defaults (the checkpoint states none)"
    assert rows["classes"].startswith("0 (no head: mmsegmentation backbone")


def _to_mmpretrain_v2(model) -> dict:
    """mmpretrain's SwinTransformerV2 layout, from its source: merging at the START of
    stages 1..3 (`use_post_norm`: reduction, then a 2C norm), the reduction's 4C inputs in
    nn.Unfold order (mmdet's reordering), `attn.w_msa.*`, `ffn.layers.*`, out-norm `norm3`."""
    out = {}
    for key, value in model.state_dict().items():
        if key.endswith("downsample.reduction.weight"):
            value = mmdet_swin_converter({"layers.0.downsample.reduction.weight": value})[
                "backbone.stages.0.downsample.reduction.weight"
            ]
        key = key.replace("patch_embed.proj.", "patch_embed.projection.")
        key = key.replace(".attn.", ".attn.w_msa.").replace(".mlp.fc1.", ".ffn.layers.0.0.")
        key = key.replace(".mlp.fc2.", ".ffn.layers.1.").replace("layers.", "stages.", 1)
        key = "norm3." + key[len("norm.") :] if key.startswith("norm.") else key
        out[key if key.startswith("head.") else "backbone." + key] = value
    return {"meta": {}, "state_dict": out}


def test_mmpretrain_v2_classifier(tmp_path):
    cfg = small_config(2)
    model = random_model(cfg)
    checkpoint = _to_mmpretrain_v2(model)
    assert "backbone.stages.1.downsample.norm.weight" in checkpoint["state_dict"]
    torch.save(checkpoint, tmp_path / "swinv2_window4_64.pth")
    loaded = load_checkpoint(tmp_path / "swinv2_window4_64.pth")
    assert loaded.format == "openmmlab" and loaded.report.ecosystem == "mmpretrain"
    assert_same_model(loaded, model)
