"""`swin-gui explain` end to end on a tiny checkpoint (in process): FILE.npy and FILE.png
beside it, one line of figures, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from swin_gui import cli
from swin_gui.model.checkpoints import save_checkpoint


@pytest.fixture(scope="module")
def files(tmp_path_factory, tiny_model):
    d = tmp_path_factory.mktemp("explain_cli")
    save_checkpoint(tiny_model, d / "tiny.safetensors", tiny_model.info.class_names)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (250, 333, 3), dtype=np.uint8)).save(d / "img.png")
    return d


def run(files, capsys, *args):
    argv = [
        "explain",
        str(files / "img.png"),
        "--model",
        str(files / "tiny.safetensors"),
        "--size",
        "native",
        "--threads",
        "1",
        *args,
    ]
    try:
        code = cli.main(argv)
    except SystemExit as e:  # argparse usage errors
        code = e.code
    return code, capsys.readouterr()


def test_reach_writes_bool_npy_and_png(files, capsys, tmp_path):
    out = tmp_path / "r.npy"
    code, io = run(
        files,
        capsys,
        "--method",
        "reach",
        "--stage",
        "0",
        "--block",
        "0",
        "--token",
        "62,83",
        "--out",
        str(out),
    )
    assert code == 0, io.err
    m = np.load(out)
    # 250 x 333 px -> 63 x 84 tokens (the image zero-padded to 252 x 336); the bottom-right
    # token's window is tokens 56..62 x 77..83 = px 224..251 x 308..335, of which the image
    # has 224..249 x 308..332: 26 x 25 px (the patch padding is no pixel)
    assert m.dtype == bool and m.shape == (250, 333)
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (224, 249, 308, 332)
    with Image.open(out.with_suffix(".png")) as png:
        assert png.size == (333, 250)
    assert io.out.count("\n") == 1 and "area_px 650" in io.out


def test_gradcam_float32_and_target(files, capsys, tmp_path):
    out = tmp_path / "g.npy"
    code, io = run(files, capsys, "--method", "gradcam", "--target", "ring", "--out", str(out))
    assert code == 0, io.err
    m = np.load(out)
    assert m.dtype == np.float32 and m.shape == (250, 333)
    assert "target 1" in io.out
    code, io = run(files, capsys, "--method", "gradcam", "--out", str(out))
    assert code == 2 and "exists" in io.err  # no overwrite without --overwrite


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--method", "erf", "--token", "99,0"], "not on the"),
        (["--method", "gradcam", "--target", "zebra"], "unknown class"),
        (["--method", "lime"], "invalid choice"),
    ],
)
def test_errors_are_one_line(files, capsys, tmp_path, args, needle):
    code, io = run(files, capsys, *args, "--out", str(tmp_path / "e.npy"))
    assert code == 2 and needle in io.err and io.err.count("\n") == 1


def test_several_images_run_as_one_batch(files, capsys, tmp_path):
    rng = np.random.default_rng(1)
    first, second = files / "img.png", files / "img2.png"
    Image.fromarray(rng.integers(0, 255, (250, 333, 3), dtype=np.uint8)).save(second)
    common = ["--model", str(files / "tiny.safetensors"), "--size", "native", "--threads", "1"]
    out = tmp_path / "b.npy"
    argv = ["explain", str(first), str(second), *common, "--method", "rollout"]
    assert cli.main([*argv, "--target", "1,ring", "--out", str(out)]) == 0
    io = capsys.readouterr()
    both = np.load(out)
    assert both.dtype == np.float32 and both.shape == (2, 250, 333)
    for i in range(2):
        with Image.open(tmp_path / f"b-{i}.png") as png:
            assert png.size == (333, 250)
    lines = io.out.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{first}: ") and "img2.png: " in lines[1]
    assert all("target 1" in line for line in lines)
    for i, image in enumerate((first, second)):  # each image alone gives its own slot
        single = tmp_path / f"one{i}.npy"
        argv = ["explain", str(image), *common, "--method", "rollout", "--target", "1"]
        assert cli.main([*argv, "--out", str(single)]) == 0
        np.testing.assert_allclose(both[i], np.load(single), rtol=1e-5, atol=1e-11)
    argv = ["explain", str(first), str(second), *common, "--method", "gradcam"]
    assert cli.main([*argv, "--target", "1,2,3", "--out", str(tmp_path / "e.npy")]) == 2
    err = capsys.readouterr().err
    assert "3 classes for 2 images" in err and err.count("\n") == 1
