"""Wrappers and configs around the weights (issue 15, part 1): EMA / Lightning /
torch.compile / DDP wrappers and `--key`, training checkpoints with config objects, timm
hub folders, and preprocessing taken from the checkpoint."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch
from ckpt_layouts import (
    assert_same_model,
    fake_module,
    random_model,
    refusal,
    small_config,
    to_official,
    write_hf_dir,
)
from safetensors.torch import save_file

from swin_gui.model.checkpoints import CheckpointError, load_checkpoint

# --- wrappers ---------------------------------------------------------------------------


def _sd(model, prefix=""):
    return {prefix + k: v for k, v in model.state_dict().items()}


@pytest.mark.parametrize(
    "wrap",
    [
        lambda sd: {"model_ema": sd},
        lambda sd: {"state_dict_ema": sd, "epoch": 3},
        lambda sd: {"state_dict": {f"model.{k}": v for k, v in sd.items()}},  # Lightning
        lambda sd: {f"_orig_mod.{k}": v for k, v in sd.items()},  # torch.compile
        lambda sd: {f"module._orig_mod.{k}": v for k, v in sd.items()},  # both
        lambda sd: {
            "model": {(f"module.{k}" if i % 2 else k): v for i, (k, v) in enumerate(sd.items())}
        },  # half DDP-prefixed
    ],
    ids=["model_ema", "state_dict_ema", "lightning", "compile", "ddp+compile", "half-module"],
)
def test_wrappers_and_prefixes(tmp_path, wrap):
    model = random_model(small_config(1))
    torch.save(wrap(dict(model.state_dict())), tmp_path / "tiny_window4_64.pth")
    assert_same_model(load_checkpoint(tmp_path / "tiny_window4_64.pth"), model)


def test_ema_is_chosen_and_key_chooses_another(tmp_path):
    cfg = small_config(1)
    plain, ema = random_model(cfg, seed=1), random_model(cfg, seed=2)
    torch.save(
        {"state_dict": _sd(plain), "state_dict_ema": _sd(ema, "module."), "optimizer": {}},
        tmp_path / "train.pth",
    )
    chosen = load_checkpoint(tmp_path / "train.pth")
    assert_same_model(chosen, ema)
    assert chosen.report.key == "state_dict_ema" and chosen.report.prefixes == ("module.",)
    assert chosen.report.notes[0] == "EMA weights 'state_dict_ema' chosen over 'state_dict'"
    other = load_checkpoint(tmp_path / "train.pth", key="state_dict")
    assert_same_model(other, plain)
    assert other.report.key == "state_dict" and other.report.notes == ()
    message = refusal_with_key(tmp_path / "train.pth", "weights")
    assert message == (
        "train.pth: --key 'weights' names no single state dict; it has 'state_dict', "
        "'state_dict_ema'"
    )


def refusal_with_key(path, key):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, key=key)
    return str(info.value)


def test_empty_ema_wrapper_names_the_keys(tmp_path):
    torch.save({"model_ema": {}, "epoch": 1}, tmp_path / "e.pth")
    assert "contains no state dict of tensors (keys: model_ema, epoch)" in refusal(
        tmp_path / "e.pth"
    )


# --- timm hub folders and preprocessing --------------------------------------------------


def test_timm_hub_folder_with_model_args_and_pretrained_cfg(tmp_path):
    cfg = small_config(2)
    model = random_model(cfg)
    save_file(dict(model.state_dict()), tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "architecture": "swinv2_tiny",  # names no window: model_args must
                "num_classes": 7,
                "model_args": {"window_size": 4, "img_size": 64},
                "pretrained_cfg": {
                    "mean": [0.5, 0.5, 0.5],
                    "std": [0.25, 0.25, 0.25],
                    "interpolation": "bicubic",
                    "crop_pct": 0.9,
                    "input_size": [3, 64, 64],
                },
            }
        )
    )
    loaded = load_checkpoint(tmp_path)
    assert loaded.config.window_size == 4 and loaded.config.img_size == 64
    assert loaded.config.mean == (0.5, 0.5, 0.5) and loaded.model.cfg.std == (0.25, 0.25, 0.25)
    r = loaded.report
    assert r.preprocessing == "pretrained_cfg in config.json (mean, std)"
    assert (r.interpolation, r.crop_pct) == ("bicubic", 0.9)
    assert_same_model(loaded, model.eval())


def test_hf_preprocessor_config_is_the_source(tmp_path):
    cfg = small_config(1)
    directory = write_hf_dir(tmp_path / "hf", random_model(cfg).state_dict(), cfg)
    (directory / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": [0.1, 0.2, 0.3], "image_std": [0.3, 0.2, 0.1], "resample": 2})
    )
    loaded = load_checkpoint(directory)
    assert loaded.config.mean == (0.1, 0.2, 0.3) and loaded.config.std == (0.3, 0.2, 0.1)
    assert loaded.report.preprocessing == "preprocessor_config.json (image_mean, image_std)"
    assert loaded.report.interpolation == "bilinear"
    plain = load_checkpoint(write_hf_dir(tmp_path / "p", random_model(cfg).state_dict(), cfg))
    assert plain.report.preprocessing.startswith("ImageNet defaults")


def test_load_model_key_and_prefix_clash(tmp_path):
    from swin_gui.api import load_model

    cfg = small_config(1)
    plain, ema = random_model(cfg, seed=1), random_model(cfg, seed=2)
    torch.save({"model": _sd(plain), "model_ema": _sd(ema)}, tmp_path / "t.pth")
    chosen = load_model(tmp_path / "t.pth", key="model")
    assert torch.equal(chosen.head.fc.weight, plain.head.fc.weight)
    assert chosen.info.report.key == "model" and chosen.info.warnings == ()
    sd = _sd(plain)
    sd["module.head.fc.bias"] = sd["head.fc.bias"]
    torch.save(sd, tmp_path / "clash.pth")
    assert refusal(tmp_path / "clash.pth") == (
        "clash.pth: keys module.head.fc.bias appear both with and without 'module.'"
    )


def test_timm_hub_num_classes_must_match_the_head(tmp_path):
    save_file(_sd(random_model(small_config(1))), tmp_path / "model.safetensors")
    config = {"architecture": "swin_tiny_window4_64", "num_classes": 1000}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert refusal(tmp_path) == (
        "config.json: field 'num_classes' is 1000 but the weights have a 7-class head"
    )


def test_official_training_checkpoint_with_config_objects(tmp_path):
    """microsoft/Swin-Transformer saves its yacs CfgNode (a dict subclass: NEWOBJ, SETITEMS)
    next to the weights; timm saves argparse's Namespace. Both become placeholders."""
    import argparse

    class CfgNode(dict):
        pass

    fake_module("yacs.config", CfgNode=CfgNode)
    cfg = small_config(1)
    model = random_model(cfg)
    checkpoint = to_official(model.state_dict(), cfg)
    checkpoint.update(config=CfgNode(MODEL=CfgNode(TYPE="swin")), args=argparse.Namespace(lr=1))
    torch.save(checkpoint, tmp_path / "ckpt_epoch_3.pth")
    for name in [m for m in sys.modules if m.startswith("yacs")]:
        del sys.modules[name]
    loaded = load_checkpoint(tmp_path / "ckpt_epoch_3.pth")
    assert loaded.report.skipped_objects == ("argparse.Namespace", "yacs.config.CfgNode")
    assert loaded.report.wrapper == "{'model': …} (also: epoch, config, args)"
    assert_same_model(loaded, model)


def test_the_checkpoints_crop_pct_and_interpolation_are_applied(tmp_path):
    """A timm folder stating crop_pct 1.0 and bilinear: the crop keeps the whole shorter
    side (no 0.875 margin) and resizes bilinearly, as timm's eval transform would."""
    from PIL import Image

    import swin_gui

    cfg = small_config(1)
    model = random_model(cfg)
    save_file(dict(model.state_dict()), tmp_path / "model.safetensors")
    pretrained = {"crop_pct": 1.0, "interpolation": "bilinear", "input_size": [3, 64, 64]}
    config = {
        "architecture": "swin_tiny",
        "num_classes": cfg.num_classes,
        "model_args": {"window_size": cfg.window_size, "img_size": 64},
        "pretrained_cfg": pretrained,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 80, 3), np.uint8))
    loaded = swin_gui.load_model(str(tmp_path))
    trace = swin_gui.capture(loaded, photo, size="model", fit="crop")
    assert trace.meta["crop_pct"] == 1.0 and trace.meta["interpolation"] == "bilinear"
    # shorter side 60 -> 64 (crop_pct 1), 80 -> 85; centre crop 64 wide from x = 10
    expected = photo.resize((85, 64), Image.Resampling.BILINEAR).crop((10, 0, 74, 64))
    np.testing.assert_array_equal(trace.image, np.asarray(expected))
