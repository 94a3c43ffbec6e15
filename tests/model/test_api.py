"""The public Python API: load_model's sources and its one-line failures."""

import pytest

import swin_gui
from swin_gui.model.checkpoints import CheckpointError


def test_preset_is_random_and_labelled_with_imagenet_names():
    model = swin_gui.load_model("swin_tiny_patch4_window7_224")
    assert model.info.random_weights and "random weights" in model.info.label
    assert model.info.class_names[:2] == ("tench", "goldfish")
    assert not model.training


def test_hub_loading_fails_cleanly_offline(monkeypatch, tmp_path):
    pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(CheckpointError) as err:
        swin_gui.load_model("hf-hub:microsoft/swin-tiny-patch4-window7-224")
    message = str(err.value)
    assert "\n" not in message and "offline" in message


def test_unknown_model_is_one_line_error(tmp_path):
    with pytest.raises(CheckpointError) as err:
        swin_gui.load_model(tmp_path / "missing.pth")
    assert "\n" not in str(err.value)
