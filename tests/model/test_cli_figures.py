"""`swin-gui snapshot` writes PNG/SVG/PDF figures and refuses other suffixes; the GUI
refuses a missing image or model, an existing screenshot file and a screenshot under a
file before any window opens; a missing X11 library is one line naming it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from swin_gui import cli
from swin_gui.display import missing_library_message, platform_plugin_dir
from swin_gui.model.checkpoints import save_checkpoint


@pytest.fixture(scope="module")
def files(tmp_path_factory, tiny_model) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("figures")
    save_checkpoint(tiny_model, d / "tiny.safetensors")
    img = d / "cat.png"
    Image.new("RGB", (64, 64), (200, 80, 40)).save(img)
    return {"cat": img, "model": d / "tiny.safetensors", "dir": d}


def snapshot(files, out, *extra) -> list[str]:
    return [
        "snapshot",
        str(files["cat"]),
        "--view",
        "attention",
        "--stage",
        "1",
        "--block",
        "1",
        "--model",
        str(files["model"]),
        "--out",
        str(out),
        *extra,
    ]


def test_snapshot_writes_png_svg_and_pdf(files, tmp_path, capsys):
    for suffix in ("png", "svg", "pdf"):
        out = tmp_path / f"fig.{suffix}"
        assert cli.main(snapshot(files, out, "--theme", "light")) == 0, capsys.readouterr().err
        assert out.stat().st_size > 1000
    assert (tmp_path / "fig.svg").read_text().count("<text") > 5
    assert (tmp_path / "fig.pdf").read_bytes().startswith(b"%PDF")
    with Image.open(tmp_path / "fig.png") as im:
        one = im.size
    assert cli.main(snapshot(files, tmp_path / "fig2.png", "--scale", "2")) == 0
    with Image.open(tmp_path / "fig2.png") as im:
        two = im.size
    assert abs(two[0] - 2 * one[0]) <= 2 and abs(two[1] - 2 * one[1]) <= 2


def test_snapshot_refuses_a_suffix_it_cannot_write(files, tmp_path, capsys):
    assert cli.main(snapshot(files, tmp_path / "fig.jpg")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("swin-gui: error: cannot write fig.jpg: figures are .png, .svg or .pdf")
    assert "\n" not in err and not (tmp_path / "fig.jpg").exists()


def run_gui(args, tmp_path, **env_changes) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SWIN_GUI_SETTINGS": str(tmp_path / "s.ini"),
    }
    env.update(env_changes)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "swin_gui", *args],
        env=env,
        timeout=60,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["missing.png"], "missing.png: no such file"),
        (["--model", "no_such_model.pth"], "no such model: no_such_model.pth"),
    ],
)
def test_missing_inputs_are_one_line_before_any_window(tmp_path, args, needle):
    done = run_gui(args, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert needle in done.stderr
    assert "PySide6" not in done.stderr and "Traceback" not in done.stderr


def test_screenshot_never_replaces_a_file_or_hangs_under_a_file(tmp_path):
    existing = tmp_path / "shot.png"
    existing.write_bytes(b"keep me")
    done = run_gui(["--screenshot", str(existing)], tmp_path)
    assert done.returncode == 2 and "already exists" in done.stderr
    assert existing.read_bytes() == b"keep me"
    afile = tmp_path / "afile"
    afile.write_text("x")
    done = run_gui(["--screenshot", str(afile / "x.png")], tmp_path)
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb check is Linux-only")
def test_a_missing_x11_library_is_one_line_naming_it(tmp_path):
    plugin = platform_plugin_dir() / "libqxcb.so"
    if not plugin.exists():
        pytest.skip("this PySide6 has no xcb plugin")
    lonely = tmp_path / "plugins"
    lonely.mkdir()
    shutil.copy(plugin, lonely)  # away from Qt's own libraries: its loader cannot resolve them
    done = run_gui(
        [], tmp_path, QT_QPA_PLATFORM=None, DISPLAY=":99", QT_QPA_PLATFORM_PLUGIN_PATH=str(lonely)
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("swin-gui: error: the X11 window cannot open: libQt6")
    assert len(done.stderr.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_gui(
        [], tmp_path, QT_QPA_PLATFORM=None, DISPLAY=":99", QT_QPA_PLATFORM_PLUGIN_PATH=str(empty)
    )
    assert done.returncode == 2 and "libqxcb.so is not in" in done.stderr


def test_the_message_names_the_debian_package():
    err = "libxcb-icccm.so.4: cannot open shared object file: No such file or directory"
    msg = missing_library_message(err)
    assert "libxcb-icccm.so.4 is missing" in msg and "apt-get install libxcb-icccm4" in msg


@pytest.fixture(scope="module")
def nan_model(tmp_path_factory, tiny_model) -> Path:
    import copy

    import torch

    bad = copy.deepcopy(tiny_model)
    with torch.no_grad():
        bad.layers[1].blocks[0].attn.qkv.weight[0, 0] = float("nan")
        bad.layers[2].blocks[1].mlp.fc2.weight[0, 0] = float("inf")
    path = tmp_path_factory.mktemp("nan") / "nan.safetensors"
    save_checkpoint(bad, path)
    return path


@pytest.mark.parametrize(
    "view",
    [
        "grid",
        "attention",
        "mask",
        "shift",
        "bias",
        "internals",
        "pyramid",
        "merging",
        "predictions",
    ],
)
def test_every_view_survives_non_finite_weights(files, nan_model, tmp_path, capsys, view):
    out = tmp_path / f"{view}.png"
    args = [
        "snapshot",
        str(files["cat"]),
        "--view",
        view,
        "--stage",
        "2",
        "--block",
        "1",
        "--model",
        str(nan_model),
        "--out",
        str(out),
    ]
    assert cli.main(args) == 0, capsys.readouterr().err
    assert out.stat().st_size > 1000


def test_offscreen_runs_print_no_qt_resize_note(files, tmp_path):
    shot = tmp_path / "shot.png"
    done = run_gui(
        [str(files["cat"]), "--model", str(files["model"]), "--screenshot", str(shot)], tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "propagateSizeHints" not in done.stderr and shot.exists()
