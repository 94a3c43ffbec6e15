"""Numerical parity with timm and torchvision: a random-init reference model's state dict,
written to a file and read back by `load_checkpoint`, must give the reference's logits.

Conventions differ where a window does not tile a stage, so the sizes are chosen where all
four agree: timm rolls BEFORE padding to a multiple of M (official / HF / torchvision /
ours pad first, then roll) and decides the shift per axis; torchvision never shrinks M
to a small stage but zero-pads it to M, and also decides the shift per axis.

Both libraries are optional (`pip install .[reference]`): on this project's machines they
pull a multi-GB CUDA torch, so CI skips these tests; run them locally in a separate venv.
"""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from swin_gui.model import Recorder
from swin_gui.model.checkpoints import load_checkpoint

REASON = "timm/torchvision pull a 5 GB CUDA torch build here; run locally"
SMALL = dict(embed_dim=32, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), num_classes=10)


@pytest.fixture(scope="module")
def timm():
    return pytest.importorskip("timm", reason=REASON)


@pytest.fixture(scope="module")
def torchvision():
    return pytest.importorskip("torchvision", reason=REASON)


def perturb_(model: torch.nn.Module, seed: int = 1) -> torch.nn.Module:
    """Move every parameter off its init so a wrong mapping changes the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.5 if "relative_position_bias_table" in name else 0.05
            p.add_(torch.randn(p.shape, generator=g) * scale)
    return model.eval()


def assert_parity(reference, loaded, height: int, width: int) -> torch.Tensor:
    x = torch.randn(2, 3, height, width, generator=torch.Generator().manual_seed(height + width))
    with torch.no_grad():
        expected = reference(x)
        rec = Recorder(attention=False)
        got = loaded.model(x, rec)
    assert expected.std() > 1e-3
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
    return rec


def save_state_dict(model: torch.nn.Module, path) -> None:
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(sd, path) if str(path).endswith(".safetensors") else torch.save(sd, path)


@pytest.mark.timm
@pytest.mark.parametrize(
    ("name", "img_size", "file_name"),
    [
        ("swin_tiny_patch4_window7_224", 224, "swin_tiny_patch4_window7_224.safetensors"),
        # M tiles every stage and every stage is larger than M: all SW-MSA blocks shift
        ("swin_tiny_patch4_window7_224", (448, 672), "swin_tiny_patch4_window7_224.pth"),
        # M = 8 at 128: stage 3 is 4 x 4, so timm stores a smaller (7^2, heads) table there
        ("swin_tiny_patch4_window7_224", 128, "custom_window8_128.pth"),
        ("swinv2_tiny_window8_256", 256, "swinv2_tiny_window8_256.safetensors"),
        # stage 3 (8 x 8) shrinks M to 8; the name carries M, which a v2 state dict lacks
        ("swinv2_tiny_window16_256", 256, "swinv2_tiny_window16_256.bin"),
    ],
)
def test_timm_parity(timm, tmp_path, name, img_size, file_name):
    torch.manual_seed(0)
    extra = {"window_size": 8} if file_name.startswith("custom_window8") else {}
    model = timm.create_model(name, pretrained=False, img_size=img_size, **SMALL, **extra)
    reference = perturb_(model)
    path = tmp_path / file_name
    save_state_dict(reference, path)
    loaded = load_checkpoint(path)
    assert loaded.format == "timm"
    assert loaded.config.window_size == reference.layers[0].blocks[0].window_size[0]
    height, width = (img_size, img_size) if isinstance(img_size, int) else img_size
    rec = assert_parity(reference, loaded, height, width)
    last = reference.layers[3].blocks[1]
    assert rec.data["stage3.block1.shift"] == last.shift_size[0]
    assert rec.data["stage3.block1.window"] == last.window_size[0]


@pytest.mark.torchvision
@pytest.mark.parametrize(
    ("version", "size"),
    [(1, (224, 224)), (1, (256, 320)), (2, (256, 256)), (2, (384, 512))],
)
def test_torchvision_small_parity(torchvision, tmp_path, version, size):
    from torchvision.models import swin_transformer as tv

    torch.manual_seed(0)
    kwargs = dict(
        patch_size=[4, 4],
        embed_dim=32,
        depths=[2, 2, 2, 2],
        num_heads=[1, 2, 4, 8],
        num_classes=10,
        stochastic_depth_prob=0.0,
    )
    if version == 1:
        reference = tv.SwinTransformer(window_size=[7, 7], **kwargs)
    else:
        reference = tv.SwinTransformer(
            window_size=[8, 8],
            block=tv.SwinTransformerBlockV2,
            downsample_layer=tv.PatchMergingV2,
            **kwargs,
        )
    perturb_(reference)
    save_state_dict(reference, tmp_path / "tv_small.pth")
    loaded = load_checkpoint(tmp_path / "tv_small.pth")
    assert loaded.format == "torchvision" and loaded.config.version == version
    assert loaded.config.window_size == (7 if version == 1 else 8)
    assert_parity(reference, loaded, *size)


@pytest.mark.torchvision
@pytest.mark.parametrize(("builder", "size"), [("swin_t", 224), ("swin_v2_t", 256)])
def test_torchvision_full_models(torchvision, tmp_path, builder, size):
    """The real Swin-T / Swin-V2-T builders (random init, no download)."""
    torch.manual_seed(0)
    reference = perturb_(getattr(torchvision.models, builder)(weights=None))
    save_state_dict(reference, tmp_path / f"{builder}.pth")
    loaded = load_checkpoint(tmp_path / f"{builder}.pth")
    assert loaded.config.depths == (2, 2, 6, 2) and loaded.config.embed_dim == 96
    assert loaded.class_names[0] == "tench"  # 1000 classes: the ImageNet-1k names
    assert_parity(reference, loaded, size, size)
