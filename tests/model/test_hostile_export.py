"""Hostile exports (issue 15, part 2): image names that would escape `--out`, interrupted and
failed exports (SIGINT, SIGTERM, SIGHUP, SIGKILL in a subprocess; a full disk simulated at
file 19 of 22 and a really full tmpfs), stale temp files, non-finite numbers in the
manifest, out of memory in a batch, and CLI errors without class names. Everything is
generated at test time; the traces come from random numbers or a tiny checkpoint."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_trace import fake_trace
from PIL import Image

import swin_gui.export as export
from swin_gui import cli, safe_write, trace_io
from swin_gui.export import export_image, export_plan
from swin_gui.export_batch import safe_name
from swin_gui.model import SwinTransformer
from swin_gui.model.checkpoints import save_checkpoint
from swin_gui.safe_write import ExportError, save_png, sweep_stale

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative path -> sha1), hidden ones included."""
    return {
        str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def parts(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.part"))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, tiny64_config):
    path = tmp_path_factory.mktemp("hostile") / "tiny.safetensors"
    torch.manual_seed(0)
    save_checkpoint(SwinTransformer(tiny64_config.with_(name="tiny-hostile")).eval(), path)
    return path


def png(path: Path, size=(40, 56), seed=0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path, format="PNG")
    return path


# ---- names --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("..", "image"),
        (".", "image"),
        ("", "image"),
        (" . ", "image"),
        ("a/b", "a_b"),
        (".bashrc", "bashrc"),
        ("cat", "cat"),
        ("x\x00y", "x_y"),
    ],
)
def test_safe_name(stem, expected):
    assert safe_name(stem) == expected


def test_dot_stems_stay_inside_out(model_file, tmp_path):
    """`...png` has the stem `..` and `..png` the stem `.`: both land in out/<name>/, and a
    manifest.json beside out/ survives even with --overwrite."""
    src = tmp_path / "src"
    src.mkdir()
    images = [png(src / "...png"), png(src / "..png", seed=1), png(src / "image.png", seed=2)]
    out = tmp_path / "work" / "out"
    out.parent.mkdir()
    (out.parent / "manifest.json").write_text("precious")
    before = snapshot(out.parent)
    args = ["export", *map(str, images), "--out", str(out), "--model", str(model_file)]
    assert cli.main([*args, "--overwrite"]) == 0
    assert snapshot(out.parent)["manifest.json"] == before["manifest.json"]
    assert sorted(p.name for p in out.iterdir()) == ["image", "image-2", "image-3"]
    assert all(p.is_dir() for p in out.iterdir())
    assert not [p for p in out.iterdir() if p.is_file()]  # no loose files in --out
    assert sorted(p.name for p in out.parent.iterdir()) == ["manifest.json", "out"]


# ---- all or nothing -------------------------------------------------------------------------
def test_interrupted_overwrite_keeps_the_old_export(tmp_path, monkeypatch):
    export_image(fake_trace(seed=0), tmp_path / "cat")
    old = snapshot(tmp_path)
    real, calls = export.save_png, []

    def interrupt_at_fifth(*a, **k):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(export, "save_png", interrupt_at_fifth)
    with pytest.raises(KeyboardInterrupt):
        export_image(fake_trace(seed=1), tmp_path / "cat", overwrite=True)
    assert snapshot(tmp_path) == old  # not one new file mixed in, no temp left


def test_full_disk_at_file_19_of_22_rolls_back(tmp_path, monkeypatch):
    trace = fake_trace()
    assert len(export_plan(trace)) == 22
    real, calls = safe_write.atomic_write, []

    def disk_full_at_19(path, write, overwrite=False, **kw):
        calls.append(Path(path).name)
        if len(calls) == 19:

            def half(f):
                f.write(b"partial")
                raise OSError(errno.ENOSPC, "No space left on device")

            return real(path, half, overwrite, **kw)
        return real(path, write, overwrite, **kw)

    for module in (safe_write, trace_io):  # every file of the export is written through it
        monkeypatch.setattr(module, "atomic_write", disk_full_at_19)
    with pytest.raises(ExportError, match="no space left on device") as info:
        export_image(trace, tmp_path / "cat")
    assert "\n" not in str(info.value) and calls[18] == export_plan(trace)[18]
    assert list(tmp_path.iterdir()) == []  # no folder, no 18 files, no temp
    monkeypatch.undo()
    written = export_image(trace, tmp_path / "cat")  # the rerun is not refused
    assert sorted(p.name for p in (tmp_path / "cat").iterdir()) == sorted(export_plan(trace))
    assert len(written) == 22


def test_a_folder_with_other_files_or_a_symlink_keeps_them(tmp_path):
    """The GUI exports into any folder the user picks: only the export's files change."""
    mine = tmp_path / "Desktop"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"mine")
    export_image(fake_trace(seed=0), mine)
    export_image(fake_trace(seed=1), mine, overwrite=True)
    assert (mine / "holiday.jpg").read_bytes() == b"mine"
    assert sorted(p.name for p in mine.iterdir()) == sorted(
        [*export_plan(fake_trace()), "holiday.jpg"]
    )
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    export_image(fake_trace(), link)
    export_image(fake_trace(seed=2), link, overwrite=True)
    assert link.is_symlink() and len(list(real.iterdir())) == 22 and parts(tmp_path) == []


@pytest.fixture
def small_tmpfs(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_really_full_tmpfs_rolls_back_and_a_rerun_works(small_tmpfs, tmp_path):
    trace = fake_trace()
    pages = sum(-(-p.stat().st_size // 4096) for p in export_image(trace, tmp_path / "ref"))
    size = (pages - 3) * 4096  # a few pages short: fails near the end of the export
    subprocess.run(["mount", "-o", f"remount,size={size}", str(small_tmpfs)], check=True)
    (small_tmpfs / "cat").mkdir()
    export_image(fake_trace(seed=5, height=8, width=8), small_tmpfs / "cat")  # an old export
    old = snapshot(small_tmpfs)
    with pytest.raises(ExportError, match="no space left on device"):
        export_image(trace, small_tmpfs / "cat", overwrite=True)
    assert snapshot(small_tmpfs) == old
    with pytest.raises(ExportError, match="no space left on device"):
        export_image(trace, small_tmpfs / "dog")
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["cat"]
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_tmpfs)], check=True)
    export_image(trace, small_tmpfs / "dog")
    export_image(trace, small_tmpfs / "cat", overwrite=True)
    assert parts(small_tmpfs) == []


# ---- signals in a subprocess ------------------------------------------------------------------
SCRIPT = """
import sys, time
sys.path.insert(0, {here!r})
from fake_trace import fake_trace
import swin_gui.api, swin_gui.export as export
from swin_gui import cli

class Model:
    cfg = fake_trace().config

cli.load = lambda *a, **k: Model()
swin_gui.api.capture = lambda model, image, size=None, **k: fake_trace(seed=1)
real, calls = export.save_png, []

def slow(*a, **k):
    calls.append(1)
    if len(calls) == 5:
        print("READY", flush=True)
        time.sleep(60)
    return real(*a, **k)

export.save_png = slow
sys.exit(cli.main(["export", {image!r}, "--out", {out!r}, "--overwrite"]))
"""


def _as_from_a_terminal() -> None:
    """The child starts with the signal state a shell gives a command: default dispositions
    and nothing blocked. A process started with SIGINT ignored keeps it ignored (Python then
    installs no KeyboardInterrupt handler), and in the full suite this pytest process had
    SIGINT ignored by the time this test ran (SIGTERM and SIGHUP, which the export handles
    itself, still passed): the child must not inherit that."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"])
def test_signal_mid_export_leaves_the_old_export(tmp_path, signum):
    out = tmp_path / "out"
    export_image(fake_trace(seed=0), out / "cat")
    old = snapshot(out)
    script = SCRIPT.format(here=str(HERE), image=str(tmp_path / "cat.png"), out=str(out))
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_as_from_a_terminal,
    )
    try:
        assert proc.stdout.readline().strip() == b"READY", proc.stderr.read().decode()
        assert parts(out)  # mid-export: the temporary folder exists
        proc.send_signal(getattr(signal, signum))
        proc.wait(30)
    finally:
        proc.kill()
    stderr = proc.stderr.read().decode()
    number = getattr(signal, signum)
    if signum == "SIGKILL":
        assert proc.returncode == -number
        assert parts(out)  # litter that nobody could clean up ...
        export_image(fake_trace(seed=2), out / "dog")  # ... until the folder is next written
        assert parts(out) == []
        assert {k: v for k, v in snapshot(out).items() if k.startswith("cat/")} == old
    else:
        assert proc.returncode == 128 + number, stderr
        assert f"interrupted ({signum})" in stderr and "Traceback" not in stderr
        assert snapshot(out) == old  # old export intact, nothing new, no .part files


def test_stale_temp_files_of_ours_are_swept_when_the_folder_is_next_written(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that is certainly gone
    stale_file = tmp_path / f".a.png.{dead.pid}-0123abcd.part"
    stale_file.write_bytes(b"half")
    stale_dir = tmp_path / f".cat.{dead.pid}-89abcdef.part"
    (stale_dir / "sub").mkdir(parents=True)
    live = tmp_path / f".b.png.{os.getpid()}-00000000.part"  # being written right now
    live.write_bytes(b"busy")
    old_legacy = tmp_path / ".c.png.deadbeef.part"  # pre-pid names: swept when an hour old
    old_legacy.write_bytes(b"x")
    os.utime(old_legacy, (time.time() - 7200,) * 2)
    new_legacy = tmp_path / ".d.png.feedf00d.part"
    new_legacy.write_bytes(b"x")
    swapped = tmp_path / f".dog.{dead.pid}-11111111.old.part"  # a swap cut half way
    swapped.mkdir()
    (swapped / "manifest.json").write_text("{}")
    not_ours = tmp_path / ".notes.part"
    not_ours.write_text("mine")
    save_png(np.zeros((2, 2, 3), np.uint8), tmp_path / "x.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, new_legacy.name, not_ours.name, "x.png", "dog"]
    )
    assert (tmp_path / "dog" / "manifest.json").read_text() == "{}"  # put back
    assert sweep_stale(tmp_path) == []


# ---- manifest ---------------------------------------------------------------------------------
def test_manifest_is_strict_json_with_non_finite_numbers(tmp_path):
    trace = fake_trace()
    logits = trace.logits.copy()
    logits[1] = np.nan
    trace = replace(trace, logits=logits, meta={"mean": float("inf"), "x": [float("-inf"), 1.5]})
    export_image(trace, tmp_path / "cat")
    text = (tmp_path / "cat" / "manifest.json").read_text()

    def no_constants(token):
        raise AssertionError(f"{token} is not JSON")

    manifest = json.loads(text, parse_constant=no_constants)
    assert manifest["meta"] == {"mean": None, "x": [None, 1.5]}
    assert all(row["p"] is None for row in manifest["top5"])  # NaN logits: unknown p
    assert manifest["npz"] == {"attention": "all", "dtype": "float32", "compress": False}


# ---- out of memory in a batch -----------------------------------------------------------------
def test_out_of_memory_is_one_error_line_and_the_rest_go_through(
    model_file, tmp_path, monkeypatch, capsys
):
    import swin_gui.api as api

    big = tmp_path / "big.png"
    Image.new("RGB", (4000, 3000), (90, 120, 200)).save(big)
    star = png(tmp_path / "star.png")
    real = api.capture

    def capture(model, image, size="model", **kw):
        if Path(image).name == "big.png":  # what torch raises when the allocation fails
            raise RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough "
                "memory: you tried to allocate 2304000000 bytes."
            )
        return real(model, image, size=size, **kw)

    monkeypatch.setattr(api, "capture", capture)
    out = tmp_path / "out"
    args = ["export", str(big), str(star), "--out", str(out), "--model", str(model_file)]
    assert cli.main([*args, "--size", "native"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert "error: big.png: out of memory at 4000×3000; try --size 2048" in err
    assert any(line.startswith("[2/2] star.png ... ok") for line in err)
    assert err[-1].startswith("exported 1 of 2 images")
    assert (out / "star" / "trace.npz").exists() and not (out / "big").exists()


OOM_SCRIPT = """
import resource, sys
from swin_gui import cli
import swin_gui.api, swin_gui.export, swin_gui.render.features, tqdm  # imported before the cap

def vm():
    status = open("/proc/self/status").read().split("VmSize:")[1]
    return int(status.split()[0]) * 1024

model = cli.load({model!r})
cli.load = lambda *a, **k: model
export = ["--threads", "1", "export", "--overwrite", "--out"]
cli.main([*export, {warm!r}, {star!r}])  # lazy imports and caches before the cap
cap = vm() + (120 << 20)  # 120 MB more address space: the small image fits, 4000x3000 not
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
sys.exit(cli.main([*export, {out!r}, {big!r}, {star!r}, "--size", "native"]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc are Linux")
def test_real_out_of_memory_under_an_address_space_limit(model_file, tmp_path):
    """The batch of issue 11 under `ulimit -v`: one error line for the 4000x3000 photo."""
    big = tmp_path / "big.png"
    Image.new("RGB", (4000, 3000), (90, 120, 200)).save(big)
    star = png(tmp_path / "star.png")
    out = tmp_path / "out"
    script = OOM_SCRIPT.format(
        model=str(model_file),
        out=str(out),
        warm=str(tmp_path / "warm"),
        big=str(big),
        star=str(star),
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    err = done.stderr.splitlines()
    assert done.returncode == 1, done.stderr
    assert "error: big.png: out of memory at 4000×3000; try --size 2048" in err, done.stderr
    assert any(line.startswith("[2/2] star.png ... ok") for line in err), done.stderr
    assert (out / "star" / "manifest.json").exists() and not (out / "big").exists()
    assert parts(tmp_path) == []


# ---- CLI messages -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--threads", "0", "inspect", "demo"], "swin-gui: error: --threads must be at least 1"),
        (["inspect", "no_such_preset_x"], "swin-gui: error: model 'no_such_preset_x' is not"),
        (
            ["export", "a.png", "--out", "{tmp}/o", "--model", "{model}", "--attention", "9.0"],
            "swin-gui: error: --attention 9.0: the model has stages 0..3",
        ),
        (
            ["export", "/dev/zero", "--out", "{tmp}/o", "--model", "{model}"],
            "error: zero: not a regular file (a character device)",
        ),
    ],
    ids=["threads", "model", "attention", "dev-zero"],
)
def test_cli_errors_name_no_exception_classes(model_file, tmp_path, capsys, argv, needle):
    argv = [a.format(tmp=tmp_path, model=model_file) for a in argv]
    assert cli.main(argv) in (1, 2)
    err = capsys.readouterr().err
    assert needle in err, err
    assert not any(c in err for c in ("CLIError", "ValueError", "ImageLoadError", "Traceback"))
