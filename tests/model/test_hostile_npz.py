"""Hostile trace NPZ files (issue 15, part 2): `Trace.load_npz` checks the version and every
shape against the schema and fails with one `TraceFormatError` line, never a raw KeyError,
EOFError, BadZipFile or JSONDecodeError; a deflate bomb is refused from the headers without
inflating it; `save_npz` does not overwrite by default. Every file is made at test time
from a random trace (no model)."""

from __future__ import annotations

import json
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from fake_trace import fake_trace

from swin_gui.npz_read import INFLATE_RATIO, TraceFormatError
from swin_gui.safe_write import ExportError
from swin_gui.trace_io import load_npz, save_npz


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("npz") / "good.npz"
    save_npz(fake_trace(), path)
    return path


def rewrite(src, dst, changes=None, drop=()):
    """A copy of the NPZ at `src` with members replaced, added or dropped."""
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k not in drop}
    arrays.update(changes or {})
    np.savez(dst, **arrays)
    return dst


def refused(path) -> str:
    with pytest.raises(TraceFormatError) as info:
        load_npz(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path.name}: "), message
    assert "Error" not in message  # no class names
    return message


def test_good_file_loads(good):
    again = load_npz(good)
    assert again.block(1, 1).attn.shape == fake_trace().block(1, 1).attn.shape


@pytest.mark.parametrize(
    ("changes", "drop", "needle"),
    [
        ({"schema_version": np.array(999)}, (), "schema_version 999 is not one this"),
        ({"schema_version": np.array("abc")}, (), "schema_version 'abc' is not a version"),
        ({}, ("schema_version",), "no schema_version"),
        ({"stage0.block0.attn": np.zeros((4, 16), np.float32)}, (), "stage0.block0.attn has shape"),
        ({"stage1.block1.padded": np.arange(5)}, (), "stage1.block1.padded has shape (5,)"),
        ({"meta": np.array(json.dumps([1, 2]))}, (), "meta must be a JSON object, not list"),
        ({"config": np.array("{not json")}, (), "config is not valid JSON"),  # JSONDecodeError
        ({}, ("stage2.block0.out",), "missing stage2.block0.out"),  # KeyError
        ({"image": np.zeros((40, 56), np.uint8)}, (), "image has shape (40, 56)"),
        ({"stage1.block0.padded": np.array([99, 99])}, (), "the 5x7 grid pads to"),
        ({"stage0.out": np.zeros((16, 3, 3), np.float32)}, (), "stage0.out has shape"),
    ],
    ids=[
        "version-999",
        "version-abc",
        "version-missing",
        "attn-2d",
        "padded-5",
        "meta-list",
        "config-bad-json",
        "missing-key",
        "image-2d",
        "padded-wrong",
        "grid-wrong",
    ],
)
def test_schema_violations_are_one_line(good, tmp_path, changes, drop, needle):
    path = rewrite(good, tmp_path / "bad.npz", changes, drop)
    assert needle in refused(path)


def test_truncated_file_is_one_line_not_eoferror(good, tmp_path):
    data = good.read_bytes()
    for cut in (len(data) // 2, 100):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(data[:cut])
        assert "NPZ" in refused(path) or "corrupt" in refused(path)


def test_not_a_zip_is_one_line_not_badzipfile(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("hello, not a zip")
    assert "not a readable NPZ" in refused(path)


def test_missing_file_and_fifo_are_one_line(tmp_path):
    import os

    assert "no such file" in refused(tmp_path / "nope.npz")
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    assert "not a regular file" in refused(fifo)


def test_a_pickle_member_is_refused(good, tmp_path):
    path = tmp_path / "pickle.npz"
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["meta"] = np.array([{"a": 1}], dtype=object)
    np.savez(path, **arrays)
    assert "Python objects" in refused(path)


def test_deflate_bomb_is_refused_from_the_headers(good, tmp_path):
    """300 MB of zeros deflate to about 0.3 MB: refused before inflating, in well under a
    second and without allocating the array."""
    path = tmp_path / "bomb.npz"
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    big = (300 << 20) // 4
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, a in arrays.items():
            if k != "stage0.block0.attn":
                with zf.open(k + ".npy", "w") as f:
                    np.lib.format.write_array(f, a)
        with zf.open("stage0.block0.attn.npy", "w", force_zip64=True) as f:
            header = {"descr": "<f4", "fortran_order": False, "shape": (big,)}
            np.lib.format.write_array_header_1_0(f, header)
            chunk = bytes(1 << 20)
            for _ in range(big * 4 // len(chunk)):
                f.write(chunk)
    assert path.stat().st_size < 3 << 20
    tracemalloc.start()
    start = time.perf_counter()
    message = refused(path)
    took = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "possible zip bomb" in message and f"over {INFLATE_RATIO}x" in message
    assert took < 5 and peak < 20 << 20, (took, peak)


def test_zip_entry_smaller_than_its_header_says_is_refused(good, tmp_path):
    """A header declaring a huge array in a tiny entry is caught before any allocation."""
    path = tmp_path / "liar.npz"
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    with zipfile.ZipFile(path, "w") as zf:
        for k, a in arrays.items():
            with zf.open(k + ".npy", "w") as f:
                if k == "stage0.out":
                    header = {"descr": "<f4", "fortran_order": False, "shape": (16, 10**5, 10**5)}
                    np.lib.format.write_array_header_1_0(f, header)
                    f.write(bytes(64))
                else:
                    np.lib.format.write_array(f, a)
    assert "the zip entry says" in refused(path)


def test_save_npz_does_not_overwrite_by_default(tmp_path):
    trace = fake_trace()
    path = tmp_path / "t.npz"
    path.write_bytes(b"precious")
    with pytest.raises(ExportError, match="already exists"):
        save_npz(trace, path)
    assert path.read_bytes() == b"precious"
    save_npz(trace, path, overwrite=True)
    assert load_npz(path).config == trace.config
