"""Image loading and preprocessing: every Pillow mode becomes RGB by the documented rules,
EXIF orientation and animated files are handled, bad files are refused with one line and
nothing written, and `to_model_input` resizes and normalises as documented."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from swin_gui import images, preprocess
from swin_gui.images import ImageLoadError, load_image
from swin_gui.model import SwinConfig
from swin_gui.preprocess import parse_size, to_model_input

CFG = SwinConfig(img_size=32, window_size=4, embed_dim=16, depths=(1, 1), num_heads=(1, 2))


def _roundtrip(im: Image.Image, fmt: str, tmp_path, **save) -> Image.Image:
    path = tmp_path / f"x.{fmt.lower()}"
    im.save(path, format=fmt, **save)
    return load_image(path)


def _px(im: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in np.asarray(im)[y, x])


# ---- modes -------------------------------------------------------------------------------
def test_rgba_composites_on_white(tmp_path):
    a = np.zeros((4, 6, 4), np.uint8)
    a[:, :3] = (255, 0, 0, 255)  # opaque red left, fully transparent right
    a[:, 3:] = (0, 0, 255, 0)
    out = _roundtrip(Image.fromarray(a, "RGBA"), "PNG", tmp_path)
    assert out.mode == "RGB" and out.size == (6, 4)
    assert _px(out, 0, 0) == (255, 0, 0)
    assert _px(out, 5, 0) == images.ALPHA_BACKGROUND


def test_la_half_transparent_black_is_mid_grey(tmp_path):
    im = Image.fromarray(
        np.dstack([np.zeros((3, 3), np.uint8), np.full((3, 3), 128, np.uint8)]), "LA"
    )
    out = _roundtrip(im, "PNG", tmp_path)
    assert out.mode == "RGB"
    assert all(abs(v - 127) <= 1 for v in _px(out, 1, 1))


def test_palette_with_and_without_transparency(tmp_path):
    im = Image.new("P", (4, 2))
    im.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    im.putpixel((0, 0), 0)
    im.putpixel((1, 0), 1)
    assert _px(_roundtrip(im, "PNG", tmp_path), 1, 0) == (0, 255, 0)
    im.info["transparency"] = 1  # palette index 1 is transparent
    out = _roundtrip(im, "PNG", tmp_path, transparency=1)
    assert _px(out, 0, 0) == (255, 0, 0)
    assert _px(out, 1, 0) == images.ALPHA_BACKGROUND


def test_grey_bilevel_and_cmyk(tmp_path):
    grey = Image.fromarray(np.array([[0, 200]], np.uint8), "L")
    assert _px(_roundtrip(grey, "PNG", tmp_path), 1, 0) == (200, 200, 200)
    bilevel = Image.new("1", (2, 1))
    bilevel.putpixel((1, 0), 1)
    out = _roundtrip(bilevel, "PNG", tmp_path)
    assert _px(out, 0, 0) == (0, 0, 0) and _px(out, 1, 0) == (255, 255, 255)
    cmyk = Image.new("CMYK", (2, 1), (0, 0, 0, 0))
    cmyk.putpixel((1, 0), (0, 0, 0, 255))
    out = _roundtrip(cmyk, "TIFF", tmp_path)
    assert _px(out, 0, 0) == (255, 255, 255) and _px(out, 1, 0) == (0, 0, 0)


def test_16_bit_keeps_its_declared_range(tmp_path):
    values = np.array([[0, 257 * 100, 65535]], np.uint16)
    out = _roundtrip(Image.fromarray(values), "PNG", tmp_path)  # opens as I;16
    assert [_px(out, x, 0)[0] for x in range(3)] == [0, 100, 255]
    small = np.array([[3, 200]], np.uint16)  # 8-bit data in a 16-bit container: kept
    out = _roundtrip(Image.fromarray(small), "PNG", tmp_path)
    assert [_px(out, x, 0)[0] for x in range(2)] == [3, 200]


def test_int32_and_float_are_min_max_scaled(tmp_path):
    ints = Image.fromarray(np.array([[-1000, 0, 3000]], np.int32))
    assert ints.mode == "I"
    out = load_image(ints)
    assert [_px(out, x, 0)[0] for x in range(3)] == [0, 64, 255]  # round(1000/4000*255)
    floats = Image.fromarray(np.array([[-1.0, 0.5, 2.0, np.nan]], np.float32))
    out = _roundtrip(floats, "TIFF", tmp_path)
    assert [_px(out, x, 0)[0] for x in range(4)] == [0, 128, 255, 0]  # NaN -> 0


def test_bytes_arrays_and_pil_inputs_agree(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    for source in (buf.getvalue(), a, Image.fromarray(a)):
        np.testing.assert_array_equal(np.asarray(load_image(source)), a)


# ---- EXIF and animation --------------------------------------------------------------------
def test_exif_orientation_is_applied(tmp_path):
    a = np.zeros((20, 40, 3), np.uint8)  # 40 wide, 20 high
    a[:, :20] = (255, 0, 0)  # red left half
    a[:, 20:] = (0, 0, 255)  # blue right half
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "phone.jpg"
    Image.fromarray(a).save(path, exif=exif.tobytes(), quality=95)
    out = load_image(path)
    assert out.size == (20, 40)  # now portrait
    top, bottom = _px(out, 10, 2), _px(out, 10, 37)
    assert top[0] > 200 and top[2] < 60  # the left half went to the top
    assert bottom[2] > 200 and bottom[0] < 60


def test_animated_gif_uses_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    with Image.open(path) as check:
        assert check.n_frames == 3
    assert _px(load_image(path), 4, 4) == (255, 0, 0)


# ---- refusals --------------------------------------------------------------------------------
def _refuse(source, tmp_path, match: str) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ImageLoadError, match=match) as info:
        load_image(source)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def _png_bytes(size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    noise = np.random.default_rng(1).integers(0, 256, (*size, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buf, format="PNG")
    return buf.getvalue()


def test_refuses_missing_empty_folder_and_non_image(tmp_path):
    _refuse(tmp_path / "nope.png", tmp_path, "no such file")
    (tmp_path / "empty.png").write_bytes(b"")
    _refuse(tmp_path / "empty.png", tmp_path, "empty")
    (tmp_path / "sub").mkdir()
    _refuse(tmp_path / "sub", tmp_path, "folder")
    (tmp_path / "notes.png").write_text("this is not a picture\n" * 20)
    _refuse(tmp_path / "notes.png", tmp_path, "not an image")
    _refuse(b"", tmp_path, "empty")


def test_refuses_truncated_and_corrupt(tmp_path):
    data = _png_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    _refuse(tmp_path / "cut.png", tmp_path, "corrupt or truncated")
    broken = bytearray(data)
    broken[60:400] = bytes(340)  # header intact, compressed data destroyed
    (tmp_path / "broken.png").write_bytes(bytes(broken))
    _refuse(tmp_path / "broken.png", tmp_path, "corrupt or truncated")


@pytest.mark.parametrize("limit", [1000, 2000], ids=["over-2x-error", "over-1x-warning"])
def test_refuses_decompression_bomb(tmp_path, monkeypatch, limit):
    """2500 px is over twice 1000 (Pillow raises) and between 2000 and 4000 (Pillow only
    warns); both are refused."""
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_bytes((50, 50)))  # 2500 px
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    _refuse(path, tmp_path, "decompression bomb")
    _refuse(Image.new("RGB", (50, 50)), tmp_path, "decompression bomb")


def test_refuses_absurd_sides(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_SIDE", 40)
    (tmp_path / "wide.png").write_bytes(_png_bytes((8, 64)))
    _refuse(tmp_path / "wide.png", tmp_path, "too large")


# ---- preprocessing -----------------------------------------------------------------------------
def test_model_size_resizes_and_normalises():
    a = np.random.default_rng(2).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    x, rgb = to_model_input(Image.fromarray(a), CFG, "model")
    assert x.shape == (1, 3, 32, 32) and x.dtype == torch.float32
    assert rgb.shape == (32, 32, 3) and rgb.dtype == np.uint8
    mean, std = np.array(CFG.mean), np.array(CFG.std)
    expected = (rgb.astype(np.float64) / 255 - mean) / std  # H, W, 3
    np.testing.assert_allclose(x[0].permute(1, 2, 0).numpy(), expected, atol=1e-5)


def test_int_and_native_sizes():
    im = Image.new("RGB", (45, 30), (10, 20, 30))
    x, rgb = to_model_input(im, CFG, 24)
    assert x.shape == (1, 3, 24, 24)
    x, rgb = to_model_input(im, CFG, "native")
    assert x.shape == (1, 3, 30, 45) and rgb.shape == (30, 45, 3)
    assert (rgb == (10, 20, 30)).all()


def test_refuses_smaller_than_a_patch_and_too_large_native(monkeypatch):
    with pytest.raises(ImageLoadError, match="smaller than one 4x4 patch"):
        to_model_input(Image.new("RGB", (3, 10)), CFG, "native")
    with pytest.raises(ImageLoadError, match="smaller than one"):
        to_model_input(Image.new("RGB", (40, 40)), CFG, 2)
    to_model_input(Image.new("RGB", (4, 5)), CFG, "native")  # one patch: fine (model pads)
    monkeypatch.setattr(preprocess, "MAX_NATIVE_PIXELS", 32 * 32)
    with pytest.raises(ImageLoadError, match="--size") as info:
        to_model_input(Image.new("RGB", (40, 40)), CFG, "native")
    assert "\n" not in str(info.value)


def test_parse_size():
    assert parse_size("model") == "model" and parse_size("Native") == "native"
    assert parse_size("224") == 224 and parse_size(96) == 96
    for bad in ("0", "-3", "big", 0, "2.5"):
        with pytest.raises(ValueError):
            parse_size(bad)
