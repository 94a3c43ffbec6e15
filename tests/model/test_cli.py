"""Safe file writing (`swin_gui.export`) and the headless CLI: atomic writes, no silent
overwrites, one-line errors for unwritable targets; `export`, `inspect` and `snapshot`
end to end on a tiny checkpoint, with exit codes and one-line errors (no tracebacks)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from swin_gui import cli
from swin_gui.api import capture, load_model
from swin_gui.export import export_image, export_plan
from swin_gui.model import SwinConfig, SwinTransformer
from swin_gui.model.checkpoints import save_checkpoint
from swin_gui.model.cost import count_params, format_macs, macs
from swin_gui.safe_write import ExportError, atomic_write, save_npy, save_png

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cfg(tiny64_config) -> SwinConfig:
    return tiny64_config.with_(name="tiny-cli")


@pytest.fixture(scope="module")
def files(tmp_path_factory, cfg) -> dict[str, Path]:
    """A tiny swin-gui checkpoint, two good images and one broken one."""
    d = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    save_checkpoint(SwinTransformer(cfg).eval(), d / "tiny.safetensors")
    rng = np.random.default_rng(0)
    for name, size in (("cat.png", (40, 56)), ("dog.jpg", (70, 50))):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(d / name)
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return {
        "dir": d,
        "model": d / "tiny.safetensors",
        "cat": d / "cat.png",
        "dog": d / "dog.jpg",
        "bad": d / "broken.png",
    }


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "swin_gui", "--threads", "1", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


# ---- swin_gui.export -----------------------------------------------------------------------
def test_save_png_roundtrip_no_overwrite_and_overwrite(tmp_path):
    a = np.random.default_rng(1).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    path = save_png(a, tmp_path / "sub" / "x.png")  # missing parent folder is created
    np.testing.assert_array_equal(np.asarray(Image.open(path)), a)
    with pytest.raises(ExportError, match="already exists") as info:
        save_png(a[::-1].copy(), path)
    assert "\n" not in str(info.value)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), a)  # untouched
    save_png(a[::-1].copy(), path, overwrite=True)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), a[::-1])
    save_npy(np.arange(4.0), tmp_path / "v.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "v.npy"), np.arange(4.0))
    assert _leftovers(tmp_path / "sub") == [] and _leftovers(tmp_path) == []


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    def half_then_fail(f):
        f.write(b"partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "new.bin", half_then_fail)
    assert not (tmp_path / "new.bin").exists()
    (tmp_path / "old.bin").write_bytes(b"old")
    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "old.bin", half_then_fail, overwrite=True)
    assert (tmp_path / "old.bin").read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_written_files_get_normal_permissions(tmp_path):
    path = save_png(np.zeros((2, 2, 3), np.uint8), tmp_path / "p.png")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_parent_that_is_a_file_is_one_line_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match="not a folder") as info:
        save_png(np.zeros((2, 2, 3), np.uint8), tmp_path / "afile" / "out.png")
    assert "\n" not in str(info.value)


def test_read_only_folder_is_one_line_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        probe = locked / ".probe"
        try:
            probe.write_bytes(b"")
            probe.unlink()
            pytest.skip("running as root (or similar): a 0o500 folder is still writable")
        except PermissionError:
            pass
        with pytest.raises(ExportError, match="permission denied") as info:
            save_png(np.zeros((2, 2, 3), np.uint8), locked / "out.png")
        assert "\n" not in str(info.value)
    finally:
        locked.chmod(0o700)


def test_permission_denied_is_one_line_even_as_root(tmp_path, monkeypatch):
    """The same path as a 0o500 folder for a normal user, simulated so it runs as root."""
    import swin_gui.export as export

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(export.os, "open", denied)
    with pytest.raises(ExportError, match="permission denied") as info:
        save_png(np.zeros((2, 2, 3), np.uint8), tmp_path / "out.png")
    assert "\n" not in str(info.value) and not (tmp_path / "out.png").exists()


def test_export_image_writes_everything_or_nothing(files, tmp_path):
    trace = capture(load_model(files["model"]), files["cat"])
    written = export_image(trace, tmp_path / "cat")
    assert sorted(p.name for p in written) == sorted(export_plan(trace))
    assert all(p.stat().st_size > 0 for p in written)
    stage3 = np.asarray(Image.open(tmp_path / "cat" / "stage3_pca.png"))
    assert stage3.shape == trace.image.shape  # aligned to the input image
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "manifest.json").write_text("{}")
    with pytest.raises(ExportError, match="already exists"):
        export_image(trace, tmp_path / "again")
    assert [p.name for p in (tmp_path / "again").iterdir()] == ["manifest.json"]


# ---- the CLI in a subprocess ------------------------------------------------------------------
def test_help_lists_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in cli.COMMANDS:
        assert command in result.stdout
    assert run_cli("export", "--help").returncode == 0


def test_export_end_to_end_with_a_bad_image(files, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        "export",
        files["cat"],
        files["bad"],
        files["dog"],
        "--out",
        out,
        "--model",
        files["model"],
        "--size",
        "native",
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: broken.png: ")
    assert "[1/3] cat.png ... ok" in result.stderr and "[3/3] dog.jpg ... ok" in result.stderr
    with np.load(out / "dog" / "trace.npz") as z:
        assert {"image", "config", "stage0.out", "stage3.out", "logits"} <= set(z.files)
        assert z["image"].shape == (70, 50, 3)  # native size kept
    assert (out / "cat" / "pyramid_pca.png").exists() and not (out / "broken").exists()


def test_inspect_missing_checkpoint_is_one_line_exit_2(tmp_path):
    result = run_cli("inspect", tmp_path / "nope.safetensors")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("swin-gui: error: ")
    assert "Traceback" not in result.stderr


# ---- the CLI in-process (same code path, faster) ------------------------------------------------
def test_export_refuses_overwrite_then_overwrites(files, tmp_path, capsys):
    args = ["export", str(files["cat"]), "--out", str(tmp_path), "--model", str(files["model"])]
    assert cli.main(args) == 0
    assert cli.main(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli.main([*args, "--overwrite"]) == 0


def test_export_same_stem_twice_gets_distinct_folders(files, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    twin = other / "cat.png"
    twin.write_bytes(files["cat"].read_bytes())
    out = tmp_path / "out"
    assert (
        cli.main(
            [
                "export",
                str(files["cat"]),
                str(twin),
                "--out",
                str(out),
                "--model",
                str(files["model"]),
            ]
        )
        == 0
    )
    assert (out / "cat" / "trace.npz").exists() and (out / "cat-2" / "trace.npz").exists()


def test_inspect_reports_architecture_params_and_macs(files, capsys, cfg):
    assert cli.main(["inspect", str(files["model"])]) == 0
    out = capsys.readouterr().out
    model = load_model(files["model"])
    assert "swin-gui" in out  # detected format
    assert re.search(r"^depths +1, 1, 2, 1$", out, re.MULTILINE)
    assert f"{count_params(model):,}" in out
    assert format_macs(macs(cfg, 64, 64)["total"]) in out
    assert "64×64" in out


@pytest.mark.parametrize(
    ("command", "needle", "code"),
    [
        (
            "inspect swin_no_such_preset",
            "not a file, a folder, 'demo', 'hf-hub:<repo>' or a known preset",
            2,
        ),
        ("export {cat} --out {dir}/o --model {model} --size 2", "smaller", 1),  # per image
        (
            "snapshot {cat} --view grid --stage 9 --model {model} --out {dir}/s.png",
            "stage 9 out of range",
            2,
        ),
        ("export {cat} --out {dir}/o2 --model {model} --cmap jet", "unknown colormap", 2),
        ("export {cat} --out {cat}/o --model {model}", "not a folder", 2),
    ],
)
def test_user_errors_are_one_line(files, capsys, command, needle, code):
    values = {k: str(v) for k, v in files.items()}
    assert cli.main(command.format(**values).split()) == code
    err = capsys.readouterr().err
    assert needle in err
    assert all(
        line.startswith(("swin-gui: error:", "error:", "exported"))
        for line in err.strip().splitlines()
    ), err


def test_split_command_skips_global_options():
    assert cli.split_command(["--threads", "2", "inspect", "x"]) == (
        ["--threads", "2"],
        "inspect",
        ["x"],
    )
    assert cli.split_command(["photo.png", "--model", "demo"])[1] is None


def test_usage_errors_are_one_line(files, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["export", str(files["cat"]), "--out", "x", "--size", "abc"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("swin-gui: error: argument --size")


def test_gui_without_a_display_is_one_line_and_loads_no_qt(files, capsys, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is Linux-only")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    already = "PySide6" in sys.modules
    assert cli.main([str(files["cat"])]) == 2
    assert "no display found" in capsys.readouterr().err
    assert already or "PySide6" not in sys.modules
