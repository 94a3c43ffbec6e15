"""Numerical parity with Hugging Face transformers: a random-init HF Swin v1 / v2, saved
with `save_pretrained`, loaded through `load_checkpoint`, must give the same logits and the
same last-block attention per stage, at the native size and at a size (H=250, W=333) that
neither the patch size nor the window divides.

HF pitfall: `SwinLayer.set_shift_and_window_size` mutates the layer in place, so every
input size gets a freshly built HF model with the same weights.
"""

from __future__ import annotations

import pytest
import torch

from swin_gui.model import Recorder
from swin_gui.model.checkpoints import load_checkpoint

transformers = pytest.importorskip("transformers")

SMALL = dict(embed_dim=32, depths=[2, 2, 2, 2], num_heads=[1, 2, 4, 8], num_labels=10)
CASES = {  # version: (config class, model class, extra config, native size)
    1: ("SwinConfig", "SwinForImageClassification", dict(window_size=7, image_size=224), 224),
    2: ("Swinv2Config", "Swinv2ForImageClassification", dict(window_size=8, image_size=256), 256),
}
ODD_SIZE = (250, 333)  # H, W: not divisible by the patch (4) nor the window


def perturb_(model: torch.nn.Module, seed: int = 1) -> None:
    """Move every parameter off its init (LayerNorm ones/zeros, zero tables and biases) so
    that a wrong mapping of any tensor changes the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.5 if "relative_position_bias_table" in name else 0.05
            p.add_(torch.randn(p.shape, generator=g) * scale)


def make_hf(version: int, state_dict: dict | None = None, **overrides) -> torch.nn.Module:
    """A fresh eval-mode HF model; with `state_dict`, carrying exactly those weights."""
    cfg_name, model_name, extra, _ = CASES[version]
    config = getattr(transformers, cfg_name)(**{**SMALL, **extra, **overrides}, drop_path_rate=0.0)
    torch.manual_seed(0)
    model = getattr(transformers, model_name)._from_config(config, attn_implementation="eager")
    if state_dict is None:
        perturb_(model)
    else:
        model.load_state_dict(state_dict)
    return model.eval()


@pytest.fixture(scope="module", params=[1, 2], ids=["v1", "v2"])
def saved(request, tmp_path_factory):
    """(version, HF state dict, our loaded checkpoint) for one random HF model."""
    version = request.param
    hf = make_hf(version)
    directory = tmp_path_factory.mktemp(f"hf_v{version}")
    hf.save_pretrained(directory)
    return version, hf.state_dict(), load_checkpoint(directory)


def run_both(version: int, hf_state: dict, ours, height: int, width: int, **overrides):
    """Logits and per-stage last-block attention from a fresh HF model and from ours."""
    torch.manual_seed(height * 1000 + width)
    x = torch.randn(2, 3, height, width)
    hf = make_hf(version, hf_state, **overrides)
    with torch.no_grad():
        out = hf(pixel_values=x, output_attentions=True)
        rec = Recorder()
        logits = ours.model(x, rec)
    return out, logits, rec


def test_loaded_metadata(saved):
    version, _, ours = saved
    assert ours.format == "huggingface"
    assert ours.config.version == version
    assert ours.config.depths == (2, 2, 2, 2) and ours.config.num_heads == (1, 2, 4, 8)
    assert ours.config.window_size == CASES[version][2]["window_size"]
    assert ours.class_names == tuple(f"class {i}" for i in range(10))  # generic LABEL_i
    assert not ours.model.training


@pytest.mark.parametrize("size", ["native", "odd"])
def test_logits_and_attention_match(saved, size):
    version, hf_state, ours = saved
    native = CASES[version][3]
    height, width = (native, native) if size == "native" else ODD_SIZE
    out, logits, rec = run_both(version, hf_state, ours, height, width)
    assert out.logits.std() > 1e-3  # the reference is not degenerate
    torch.testing.assert_close(logits, out.logits, atol=1e-4, rtol=0)
    assert len(out.attentions) == len(SMALL["depths"])
    for s, hf_attn in enumerate(out.attentions):
        last = SMALL["depths"][s] - 1
        attn = rec.data[f"stage{s}.block{last}.attn"]  # B*nW, heads, N, N
        assert attn.shape == hf_attn.shape
        torch.testing.assert_close(attn, hf_attn, atol=1e-5, rtol=0)


def test_odd_size_exercises_shift_in_stage3(saved):
    """At H=250, W=333 stage 3 is 8 x 11 tokens: larger than M, so its SW-MSA block shifts
    and pads (unlike 224, where stage 3 is one 7 x 7 window without shift)."""
    version, hf_state, ours = saved
    _, _, rec = run_both(version, hf_state, ours, *ODD_SIZE)
    if version == 1:
        assert rec.data["stage3.block1.shift"] == 3
        assert rec.data["stage3.block1.grid"] == (8, 11, 14, 14)
    else:  # v2: M = 8 = min(8, 11), so the window covers the short side and shift is off
        assert rec.data["stage3.block1.shift"] == 0
        assert rec.data["stage2.block1.shift"] == 4


def test_v1_larger_window_shifted_stage3(tmp_path):
    """A v1 model with M = 4 at 256 x 256: stage 3 is 8 x 8 > M, so stage 3 shifts by 2."""
    hf = make_hf(1, window_size=4, image_size=256)
    hf.save_pretrained(tmp_path)
    ours = load_checkpoint(tmp_path)
    out, logits, rec = run_both(1, hf.state_dict(), ours, 256, 256, window_size=4, image_size=256)
    assert rec.data["stage3.block1.shift"] == 2
    torch.testing.assert_close(logits, out.logits, atol=1e-4, rtol=0)
    torch.testing.assert_close(rec.data["stage3.block1.attn"], out.attentions[3], atol=1e-5, rtol=0)
