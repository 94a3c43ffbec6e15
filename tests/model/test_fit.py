"""An honest "model size": the three fits on a 4:3 image (crop as timm's eval transform,
letterbox pad, stretch), what `trace.meta` records about them, the checkpoint defaults
and the --fit flag."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

import swin_gui
from swin_gui.model import SwinConfig, SwinTransformer
from swin_gui.preprocess import DEFAULT_CROP_PCT, default_fit, prepare

CFG = SwinConfig(embed_dim=16, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2), num_classes=3)
RED, BLUE, GREY = (255, 0, 0), (0, 0, 255), (128, 128, 128)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """400 x 300 (4:3): grey, with a red band at the left edge and a blue one at the right
    (40 px each), which a centre crop to a square must cut away."""
    a = np.full((300, 400, 3), GREY, np.uint8)
    a[:, :40], a[:, -40:] = RED, BLUE
    return Image.fromarray(a, "RGB")


def near(rgb, colour, tol=8) -> bool:
    return bool(np.abs(rgb.astype(int) - colour).max() <= tol)


def test_crop_resizes_the_shorter_side_and_centre_crops_like_timm(photo):
    x, rgb, info = prepare(photo, CFG, "model", "crop")
    assert x.shape == (1, 3, 224, 224) and rgb.shape == (224, 224, 3)
    # timm: Resize(floor(224 / 0.875) = 256) -> 341 x 256, CenterCrop(224) at (58, 16)
    assert info.fit == "crop" and info.crop_pct == DEFAULT_CROP_PCT
    sx, sy = 400 / 341, 300 / 256
    expected = (58 * sx, 16 * sy, (58 + 224) * sx, (16 + 224) * sy)
    np.testing.assert_allclose(info.crop_box, expected, atol=0.01)
    assert info.content_box == (0, 0, 224, 224)
    reference = photo.resize((341, 256), Image.Resampling.BICUBIC).crop((58, 16, 282, 240))
    np.testing.assert_array_equal(rgb, np.asarray(reference))
    assert near(rgb[112, 0], GREY) and near(rgb[112, -1], GREY)  # both bands cut away
    assert info.crop_box[0] > 40 and info.crop_box[2] < 360


def test_pad_letterboxes_the_whole_image_on_the_mean_colour(photo):
    x, rgb, info = prepare(photo, CFG, "model", "pad")
    assert rgb.shape == (224, 224, 3)
    assert info.fit == "pad" and info.crop_box == (0.0, 0.0, 400.0, 300.0)
    assert info.content_box == (0, 28, 224, 196)  # 224 x 168 centred
    mean = tuple(round(m * 255) for m in CFG.mean)
    assert near(rgb[5, 112], mean, 0) and near(rgb[-5, 112], mean, 0)
    assert x[0, :, 5, 112].abs().max() < 0.03  # the padding is ~0 after normalisation
    assert near(rgb[112, 5], RED) and near(rgb[112, -5], BLUE)  # nothing cut


def test_stretch_squashes_the_whole_image(photo):
    _, rgb, info = prepare(photo, CFG, "model", "stretch")
    assert info.fit == "stretch" and info.crop_box == (0.0, 0.0, 400.0, 300.0)
    assert info.content_box == (0, 0, 224, 224)
    assert near(rgb[2, 5], RED) and near(rgb[-2, -5], BLUE)  # bands reach top and bottom
    np.testing.assert_array_equal(
        rgb, np.asarray(photo.resize((224, 224), Image.Resampling.BICUBIC))
    )


def test_the_three_fits_differ_and_native_has_none(photo):
    pics = [prepare(photo, CFG, 224, f)[1] for f in ("crop", "pad", "stretch")]
    assert not np.array_equal(pics[0], pics[1]) and not np.array_equal(pics[1], pics[2])
    _, rgb, info = prepare(photo, CFG, "native", "crop")
    assert rgb.shape == (300, 400, 3) and info.fit == "native"


def test_checkpoint_defaults():
    assert default_fit(CFG, "demo") == "stretch"
    assert default_fit(CFG, "timm") == default_fit(CFG, "preset") == "crop"


def test_capture_records_the_fit_in_meta(photo):
    torch.manual_seed(0)
    model = SwinTransformer(CFG).eval()  # a plain module: ImageNet convention, crop
    trace = swin_gui.capture(model, photo)
    assert trace.meta["fit"] == "crop" and trace.meta["original_size"] == [400, 300]
    assert len(trace.meta["crop_box"]) == 4 and trace.meta["crop_pct"] == DEFAULT_CROP_PCT
    padded = swin_gui.capture(model, photo, fit="pad")
    assert padded.meta["fit"] == "pad" and padded.meta["content_box"] == [0, 28, 224, 196]
    json.dumps(padded.meta)  # stays JSON for the NPZ
    demo = swin_gui.load_model("demo")
    assert swin_gui.capture(demo, photo).meta["fit"] == "stretch"
    with pytest.raises(ValueError, match="fit must be one of"):
        swin_gui.capture(model, photo, fit="squash")


def test_cli_fit_flag(tmp_path, photo):
    from swin_gui.cli import command_parser

    args = command_parser("snapshot").parse_args(
        ["img.png", "--view", "grid", "--out", "x.png", "--fit", "pad"]
    )
    assert args.fit == "pad"
    assert command_parser("export").parse_args(["a.png", "--out", "o"]).fit is None
    with pytest.raises(SystemExit):
        command_parser("export").parse_args(["a.png", "--out", "o", "--fit", "squash"])
