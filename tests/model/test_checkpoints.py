"""Checkpoint layer: every format round-trips to identical weights and logits, detection
and architecture inference, strict key checking, safe refusals, and our own format."""

from __future__ import annotations

import json
import os
import pickle
import random

import pytest
import torch
from ckpt_layouts import (
    assert_same_model,
    hf_config,
    random_model,
    refusal,
    sample_input,
    small_config,
    to_hf,
    to_official,
    to_timm,
    to_torchvision,
    write_hf_dir,
)
from safetensors.torch import save_file

from swin_gui.model import SwinTransformer, preset
from swin_gui.model.checkpoints import (
    CheckpointError,
    detect_format,
    imagenet_class_names,
    infer_config,
    load_checkpoint,
    parse_name_hint,
    save_checkpoint,
)
from swin_gui.model.checkpoints.hub import load_from_hub
from swin_gui.model.geometry import relative_coords_table

# --- round trips, one per format -------------------------------------------------------


@pytest.mark.parametrize("suffix", [".safetensors", ".pth", ".bin"])
def test_timm_round_trip(tmp_path, version, suffix):
    cfg = small_config(version)
    model = random_model(cfg)
    path = tmp_path / f"swin_tiny_window4_64{suffix}"  # v2 weights do not fix M: the name does
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(sd, path) if suffix == ".safetensors" else torch.save(sd, path)
    loaded = load_checkpoint(path)
    assert loaded.format == "timm" and loaded.source == str(path)
    assert_same_model(loaded, model)


def test_half_precision_weights_load_as_float32(tmp_path):
    model = random_model(small_config(1))
    torch.save({k: v.half() for k, v in model.state_dict().items()}, tmp_path / "half.pth")
    loaded = load_checkpoint(tmp_path / "half.pth")
    assert all(p.dtype == torch.float32 for p in loaded.model.parameters())
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    assert_same_model(loaded, model)


def test_timm_v2_fused_qkv_bias_is_split(tmp_path):
    model = random_model(small_config(2))
    torch.save(to_timm(model.state_dict(), fused_v2_bias=True), tmp_path / "v2_window4.pth")
    assert_same_model(load_checkpoint(tmp_path / "v2_window4.pth"), model)


def test_official_round_trip_ignores_buffers(tmp_path, version):
    cfg = small_config(version)
    model = random_model(cfg)
    checkpoint = to_official(model.state_dict(), cfg)
    assert any(k.endswith("attn_mask") for k in checkpoint["model"])
    assert "layers.0.downsample.reduction.weight" in checkpoint["model"]
    torch.save(checkpoint, tmp_path / "swin_official.pth")
    loaded = load_checkpoint(tmp_path / "swin_official.pth")
    assert loaded.format == "official"
    assert_same_model(loaded, model)


def test_official_small_stage_table_is_centred(tmp_path):
    """Official / timm shrink M to a smaller stage's resolution and store a smaller table
    there (stage 3 here: 2 x 2 tokens, a 3^2-row table instead of 7^2)."""
    cfg = small_config(1)
    model = random_model(cfg)
    checkpoint = to_official(model.state_dict(), cfg)
    for key in [k for k in checkpoint["model"] if k.startswith("layers.3.") and "bias_table" in k]:
        full = checkpoint["model"][key].view(7, 7, -1)
        checkpoint["model"][key] = full[2:5, 2:5].reshape(9, -1)  # what M = 2 reads
    torch.save(checkpoint, tmp_path / "official.pth")
    loaded = load_checkpoint(tmp_path / "official.pth")
    x = sample_input(cfg)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))


def test_torchvision_round_trip(tmp_path, version):
    cfg = small_config(version)
    model = random_model(cfg)
    tv = to_torchvision(model.state_dict(), cfg)
    if version == 2:  # torchvision zeroes the k third in forward: whatever is stored is ignored
        for key in [k for k in tv if k.endswith("attn.qkv.bias")]:
            n = tv[key].numel() // 3
            tv[key][n : 2 * n] = 5.0
    torch.save(tv, tmp_path / "tv.pth")
    loaded = load_checkpoint(tmp_path / "tv.pth")
    assert loaded.format == "torchvision"
    assert loaded.config.window_size == cfg.window_size  # from the v1 table / v2 coords buffer
    assert_same_model(loaded, model)


@pytest.mark.parametrize("style", ["legacy", "v5"])
def test_huggingface_round_trip(tmp_path, version, style):
    cfg = small_config(version)
    model = random_model(cfg)
    names = [f"thing {i}" for i in range(cfg.num_classes)]
    directory = write_hf_dir(tmp_path / "hf", model.state_dict(), cfg, names, style)
    (directory / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25]})
    )
    for loaded in (load_checkpoint(directory), load_checkpoint(directory / "model.safetensors")):
        assert loaded.format == "huggingface" and loaded.source == str(directory)
        assert loaded.class_names == tuple(names) == loaded.config.class_names
    assert loaded.config.mean == (0.5, 0.5, 0.5) and loaded.config.std == (0.25, 0.25, 0.25)
    assert_same_model(loaded, model)


def test_huggingface_pytorch_model_bin(tmp_path):
    cfg = small_config(1)
    model = random_model(cfg)
    directory = write_hf_dir(tmp_path / "hf", model.state_dict(), cfg, weights="pytorch_model.bin")
    assert_same_model(load_checkpoint(directory), model)


def test_huggingface_file_without_config(tmp_path):
    """A lone HF-layout weights file: the architecture is inferred from the shapes."""
    cfg = small_config(1)
    model = random_model(cfg)
    save_file(
        {k: v.contiguous() for k, v in to_hf(model.state_dict(), cfg).items()},
        tmp_path / "weights.safetensors",
    )
    loaded = load_checkpoint(tmp_path / "weights.safetensors")
    assert loaded.format == "huggingface"
    assert_same_model(loaded, model)


def test_hf_exporter_matches_transformers_layout(tmp_path, version):
    """Our test-side HF exporter writes exactly the keys and shapes transformers does."""
    transformers = pytest.importorskip("transformers")
    from safetensors import safe_open

    cfg = small_config(version)
    hf_cls = transformers.SwinConfig if version == 1 else transformers.Swinv2Config
    hf_cfg = hf_cls(**{k: v for k, v in hf_config(cfg).items() if k != "model_type"}, num_labels=7)
    model_cls = (
        transformers.SwinForImageClassification
        if version == 1
        else transformers.Swinv2ForImageClassification
    )
    hf = model_cls(hf_cfg)
    hf.save_pretrained(tmp_path)
    with safe_open(str(tmp_path / "model.safetensors"), "pt") as f:
        on_disk = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 (safe_open is no dict)
    ours = to_hf(random_model(cfg).state_dict(), cfg, "legacy")
    assert {k: tuple(v.shape) for k, v in ours.items()} == on_disk
    if version == 1:  # transformers >= 5 renames v1 attention in memory
        in_memory = {k: tuple(v.shape) for k, v in hf.state_dict().items()}
        v5 = {
            k: tuple(v.shape) for k, v in to_hf(random_model(cfg).state_dict(), cfg, "v5").items()
        }
        assert v5 == in_memory


def test_save_checkpoint_round_trip(tmp_path, version):
    cfg = small_config(version)
    model = random_model(cfg)
    names = [f"n{i}" for i in range(cfg.num_classes)]
    save_checkpoint(model, tmp_path / "mine.safetensors", class_names=names)
    assert os.listdir(tmp_path) == ["mine.safetensors"]  # no temp file left behind
    loaded = load_checkpoint(tmp_path / "mine.safetensors")
    assert loaded.format == "swin-gui"
    assert loaded.config == cfg and loaded.class_names == tuple(names)
    assert_same_model(loaded, model)


def test_save_checkpoint_rejects_wrong_name_count(tmp_path):
    with pytest.raises(CheckpointError, match="3 class names for a 7-class head"):
        save_checkpoint(random_model(small_config()), tmp_path / "x.safetensors", ["a", "b", "c"])
    assert not list(tmp_path.iterdir())


def test_thousand_classes_get_imagenet_names(tmp_path):
    cfg = small_config(1, num_classes=1000)
    model = random_model(cfg)
    torch.save(model.state_dict(), tmp_path / "in1k.pth")
    loaded = load_checkpoint(tmp_path / "in1k.pth")
    names = imagenet_class_names()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[0] == "tench" and names[1] == "goldfish" and names[999] == "toilet tissue"
    assert loaded.class_names == names


def test_timm_hub_directory(tmp_path):
    cfg = small_config(1)
    model = random_model(cfg)
    save_file(dict(model.state_dict()), tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "architecture": "swin_tiny_window4_64",
                "num_classes": 7,
                "pretrained_cfg": {"mean": [0.1, 0.2, 0.3], "std": [0.4, 0.5, 0.6]},
            }
        )
    )
    loaded = load_checkpoint(tmp_path)
    assert loaded.format == "timm" and loaded.config.mean == (0.1, 0.2, 0.3)
    assert_same_model(loaded, model)


# --- detection and inference -----------------------------------------------------------


def test_detect_format(version):
    cfg = small_config(version)
    sd = random_model(cfg).state_dict()
    assert detect_format(sd) == "timm"
    assert detect_format(to_official(sd, cfg)["model"]) == "official"
    assert detect_format(to_torchvision(sd, cfg)) == "torchvision"
    assert detect_format(to_hf(sd, cfg)) == "huggingface"
    z = torch.zeros(1)
    for not_swin in (
        {"conv1.weight": z, "fc.weight": z},  # ResNet
        {"features.0.0.weight": z, "features.1.0.block.0.weight": z},  # torchvision ConvNeXt
        {
            "embeddings.patch_embeddings.projection.weight": z,
            "encoder.layer.0.output.dense.weight": z,
        },
    ):
        with pytest.raises(CheckpointError, match="not a Swin Transformer"):
            detect_format(not_swin)


def test_infer_config_recovers_architecture(version):
    cfg = small_config(version, mlp_ratio=2.0, num_classes=5)
    # a v2 state dict has no tensor whose shape depends on M, and none says the image size
    inferred = infer_config(random_model(cfg).state_dict(), name_hint="tiny_window4_64")
    for field in (
        "version",
        "patch_size",
        "window_size",
        "embed_dim",
        "depths",
        "num_heads",
        "mlp_ratio",
        "qkv_bias",
        "num_classes",
        "img_size",
    ):
        assert getattr(inferred, field) == getattr(cfg, field), field


def test_infer_config_headless_and_presets():
    with torch.device("meta"):  # shapes only: no memory, no init cost
        tiny = SwinTransformer(preset("swin_tiny_patch4_window7_224")).state_dict()
        v2 = SwinTransformer(preset("swinv2_tiny_window16_256")).state_dict()
    assert infer_config(tiny).name == "swin_tiny_patch4_window7_224"
    assert infer_config(tiny).img_size == 224 and infer_config(v2).img_size == 256
    headless = {k: v for k, v in tiny.items() if not k.startswith("head.")}
    assert infer_config(headless).num_classes == 0
    assert infer_config(v2).window_size == 8  # default when nothing says otherwise
    assert (
        infer_config(v2, name_hint="swinv2_tiny_window16_256.ms_in1k").name
        == "swinv2_tiny_window16_256"
    )
    assert infer_config(v2, img_size=192).window_size == 12


def test_parse_name_hint_and_pretrained_windows():
    hint = parse_name_hint("swinv2_base_window12to24_192to384.ms_in22k_ft_in1k")
    assert (hint.window, hint.img_size, hint.pretrained_window, hint.pretrained_img_size) == (
        24,
        384,
        12,
        192,
    )
    with torch.device("meta"):
        sd = SwinTransformer(preset("swinv2_tiny_window8_256")).state_dict()
    cfg = infer_config(sd, name_hint="swinv2_base_window12to24_192to384")
    assert cfg.window_size == 24 and cfg.pretrained_window_sizes == (12, 12, 12, 6)


def test_pretrained_window_read_from_official_coords_table():
    cfg = small_config(2, window_size=8, img_size=128, pretrained_window_sizes=(6, 6, 0, 0))
    sd = dict(random_model(cfg).state_dict())
    for s in range(cfg.num_stages):
        table = relative_coords_table(8, cfg.pretrained_window_sizes[s]).view(1, 15, 15, 2)
        sd[f"layers.{s}.blocks.0.attn.relative_coords_table"] = table
    inferred = infer_config(sd)
    assert inferred.window_size == 8 and inferred.pretrained_window_sizes == (6, 6, 0, 0)


# --- strictness ------------------------------------------------------------------------


def test_missing_unexpected_and_misshaped_keys_are_named(tmp_path):
    sd = dict(random_model(small_config(1)).state_dict())
    del sd["layers.1.blocks.1.mlp.fc2.bias"]
    sd["layers.0.blocks.0.attn.gate"] = torch.zeros(3)
    sd["head.fc.bias"] = torch.zeros(9)
    torch.save(sd, tmp_path / "bad.pth")
    message = refusal(tmp_path / "bad.pth")
    assert message.startswith("timm checkpoint does not fit the inferred Swin v1 C=16")
    assert "missing layers.1.blocks.1.mlp.fc2.bias" in message
    assert "unexpected layers.0.blocks.0.attn.gate" in message
    assert "wrong shape head.fc.bias (9,) vs (7,)" in message


def test_hf_extra_key_is_named(tmp_path):
    cfg = small_config(2)
    directory = write_hf_dir(tmp_path / "hf", random_model(cfg).state_dict(), cfg)
    from safetensors.torch import load_file

    sd = load_file(directory / "model.safetensors")
    sd["swinv2.embeddings.mask_token"] = torch.zeros(1, 1, 16)
    save_file(sd, directory / "model.safetensors")
    message = refusal(directory)
    assert "huggingface checkpoint" in message and "swinv2.embeddings.mask_token" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"model_type": "vit"}, "'vit' model, not 'swin'"),
        ({"use_absolute_embeddings": True}, "absolute position embeddings"),
        ({"hidden_act": "relu"}, "unsupported MLP activation"),
    ],
)
def test_hf_config_refusals(tmp_path, change, expected):
    cfg = small_config(1)
    directory = write_hf_dir(tmp_path / "hf", random_model(cfg).state_dict(), cfg)
    config = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**config, **change}))
    assert expected in refusal(directory)


# --- refusals: nothing unsafe, nothing half-loaded -------------------------------------


class _Payload:
    """Unpickling this would create a marker file: proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["torch.save", "pickle-2", "pickle-4"])
def test_malicious_pickle_is_refused_without_running(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    payload = {"model": {"x": _Payload(str(marker))}}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=int(writer[-1])))
    message = refusal(path)
    assert not marker.exists()
    assert message.startswith("evil.pth")
    assert "(io.open) that could run code" in message  # protocol 4 too: our unpickler names it
    _Payload(str(marker)).__reduce__()[0](str(marker), "w").close()  # the payload is live
    assert marker.exists()


def test_refusals(tmp_path):
    assert "no such file" in refusal(tmp_path / "nope.pth")
    assert "without config.json" in refusal(tmp_path)
    (tmp_path / "empty.pth").write_bytes(b"")
    assert "empty" in refusal(tmp_path / "empty.pth")
    (tmp_path / "junk.pth").write_bytes(random.Random(0).randbytes(4096))
    assert "not a PyTorch or safetensors checkpoint" in refusal(tmp_path / "junk.pth")
    (tmp_path / "junk.safetensors").write_bytes(b"\x20\x00\x00\x00\x00\x00\x00\x00{garbage!")
    assert "not a readable safetensors file" in refusal(tmp_path / "junk.safetensors")
    resnet = {
        "conv1.weight": torch.zeros(8, 3, 7, 7),
        "bn1.weight": torch.ones(8),
        "fc.weight": torch.zeros(10, 8),
    }
    torch.save(resnet, tmp_path / "resnet.pth")
    assert "not a Swin Transformer checkpoint" in refusal(tmp_path / "resnet.pth")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    assert "not a dict of tensors" in refusal(tmp_path / "list.pth")


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_truncated_files_are_refused(tmp_path, suffix):
    sd = {k: v.contiguous() for k, v in random_model(small_config()).state_dict().items()}
    path = tmp_path / f"whole{suffix}"
    save_file(sd, path) if suffix == ".safetensors" else torch.save(sd, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    message = refusal(path)
    assert "truncated" in message or "damaged" in message


def test_hub_offline_is_a_clean_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pytest.importorskip("huggingface_hub")
    with pytest.raises(CheckpointError, match="offline") as info:
        load_from_hub("microsoft/swin-tiny-patch4-window7-224", cache_dir=tmp_path)
    assert "\n" not in str(info.value)
