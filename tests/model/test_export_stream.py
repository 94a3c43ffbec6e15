"""The streamed trace NPZ (issue 11, items 3 and 4): written block by block with never
more than one block's attention alive, `--attention/--dtype/--compress`, masks as region
labels under schema 2, version-1 files still loading, a medium image read back equal to
the eager capture, and `swin-gui export` over folders and globs with a summary line."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_trace import LazyTrace, fake_trace, tensor_image
from PIL import Image

from swin_gui import cli
from swin_gui.api import capture, load_model
from swin_gui.export_stream import NpzOptions, mask_to_regions, parse_attention
from swin_gui.model import SwinTransformer
from swin_gui.model.checkpoints import save_checkpoint
from swin_gui.model.regions import regions_to_mask
from swin_gui.trace import Trace
from swin_gui.trace_io import load_npz, save_npz

REPO = Path(__file__).resolve().parents[2]
GRIDS = ("mid", "out")


def assert_same(a: Trace, b: Trace, attention: bool = True, atol: float = 0.0) -> None:
    """Every array of two traces equal (within atol for float16 files)."""

    def close(x, y):
        assert x.dtype == np.float32 or x.dtype == np.uint8, x.dtype
        np.testing.assert_allclose(x, y, atol=atol, rtol=0)

    assert a.config == b.config and a.meta == b.meta and a.class_names == b.class_names
    np.testing.assert_array_equal(a.image, b.image)
    for x, y in ((a.input, b.input), (a.logits, b.logits), (a.pooled, b.pooled)):
        np.testing.assert_array_equal(x, y)  # kept float32 whatever the dtype
    close(a.embed, b.embed)
    close(a.norm_out, b.norm_out)
    for sa, sb in zip(a.stages, b.stages, strict=True):
        close(sa.out, sb.out)
        assert (sa.merge_in is None) == (sb.merge_in is None)
        for ba, bb in zip(sa.blocks, sb.blocks, strict=True):
            assert (ba.shift, ba.window, ba.padded) == (bb.shift, bb.window, bb.padded)
            for name in (*GRIDS, "bias"):
                close(getattr(ba, name), getattr(bb, name))
            if attention:
                close(ba.attn, bb.attn)
            assert (ba.mask is None) == (bb.mask is None)
            if ba.mask is not None:
                np.testing.assert_array_equal(ba.mask, bb.mask)
            if ba.logit_scale is not None:
                np.testing.assert_array_equal(ba.logit_scale, bb.logit_scale)


def has_attention(block) -> bool:
    """Whether a loaded block holds attention (left out: None, or a LookupError once
    attention is computed on demand and there is no model to compute it)."""
    try:
        return block.attn is not None
    except LookupError:
        return False


def members(path: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename[:-4]: i for i in zf.infolist()}


@pytest.mark.parametrize("version", [1, 2])
def test_roundtrip_is_exact_and_masks_are_region_labels(tmp_path, version):
    trace = fake_trace(version=version)
    path = save_npz(trace, tmp_path / "t.npz")
    assert_same(trace, load_npz(path))
    keys = members(path)
    shifted = [f"stage{b.stage}.block{b.index}" for b in trace.blocks() if b.shift]
    assert shifted  # the fixture has shifted blocks
    for k in shifted:
        assert f"{k}.regions" in keys and f"{k}.mask" not in keys
    with np.load(path) as z:
        for b in trace.blocks():
            if b.shift:
                regions = z[f"stage{b.stage}.block{b.index}.regions"]
                assert regions.shape == b.padded and regions.dtype == np.uint8
    with np.load(path) as z:
        assert int(z["schema_version"]) == 2
        assert json.loads(str(z["export_options"]))["attention"] == "all"


def test_block_attention_is_read_one_block_at_a_time(tmp_path):
    """A lazy trace hands out a fresh array per access: the writer never holds two."""
    eager = fake_trace(height=70, width=90)
    lazy = LazyTrace(eager)
    path = tmp_path / "lazy.npz"
    save_npz(lazy, path)
    assert lazy.peak == 1
    assert_same(eager, load_npz(path))


def test_attention_choice_dtype_and_compression(tmp_path):
    trace = fake_trace()
    none = save_npz(trace, tmp_path / "none.npz", options=NpzOptions(attention="none"))
    assert not [k for k in members(none) if k.endswith(".attn")]
    again = load_npz(none)
    assert not any(has_attention(b) for b in again.blocks())
    assert_same(trace, again, attention=False)

    one = save_npz(trace, tmp_path / "one.npz", options=NpzOptions(attention="1.1,3.0"))
    assert sorted(k for k in members(one) if k.endswith(".attn")) == [
        "stage1.block1.attn",
        "stage3.block0.attn",
    ]
    loaded = load_npz(one)
    np.testing.assert_array_equal(loaded.block(1, 1).attn, trace.block(1, 1).attn)
    assert not has_attention(loaded.block(1, 0))

    half = save_npz(trace, tmp_path / "half.npz", options=NpzOptions(dtype="float16"))
    with np.load(half) as z:
        assert z["stage0.block0.attn"].dtype == np.float16 and z["logits"].dtype == np.float32
    assert_same(trace, load_npz(half), atol=5e-3)
    assert half.stat().st_size < 0.6 * none.stat().st_size + 0.6 * one.stat().st_size

    packed = save_npz(trace, tmp_path / "packed.npz", options=NpzOptions(compress=True))
    assert {i.compress_type for i in members(packed).values()} == {zipfile.ZIP_DEFLATED}
    assert_same(trace, load_npz(packed))


def test_parse_attention_and_block_check():
    assert parse_attention("ALL") == "all" and parse_attention("none") == "none"
    assert parse_attention("0.0, 3.1,0.0") == ((0, 0), (3, 1))
    for bad in ("0", "a.b", "1.-1", ""):
        with pytest.raises(ValueError, match="--attention"):
            parse_attention(bad)
    with pytest.raises(ValueError, match=r"--attention 0\.1: the model has stages 0\.\.3"):
        NpzOptions(attention="0.1").check(fake_trace().config)  # stage 0 has one block


def test_masks_that_labels_cannot_express_are_stored_in_full(tmp_path):
    trace = fake_trace()
    b = trace.block(1, 1)
    grid = mask_to_regions(b.mask, b.window, b.padded)  # derived from the mask alone
    assert grid.shape == b.padded
    np.testing.assert_array_equal(regions_to_mask(grid, b.window), b.mask)
    odd = b.mask.copy()
    odd[0, 0, 1] = -100.0  # not symmetric: no labelling gives it
    assert mask_to_regions(odd, b.window, b.padded) is None
    from dataclasses import replace

    block = replace(b, mask=odd)
    stage = replace(trace.stages[1], blocks=(trace.stages[1].blocks[0], block))
    trace = replace(trace, stages=(trace.stages[0], stage, *trace.stages[2:]))
    path = save_npz(trace, tmp_path / "odd.npz")
    assert "stage1.block1.mask" in members(path) and "stage1.block1.regions" not in members(path)
    np.testing.assert_array_equal(load_npz(path).block(1, 1).mask, odd)


def write_v1(trace: Trace, path: Path) -> None:
    """The schema-1 writer as it was before streaming (np.savez of every array)."""

    def chw(a):
        return np.ascontiguousarray(a.transpose(2, 0, 1))

    arrays = {
        "schema_version": np.array(1),
        "config": np.array(json.dumps(trace.config.to_dict())),
        "meta": np.array(json.dumps(trace.meta)),
        "class_names": np.array(trace.class_names, dtype=str),
        "input": trace.input,
        "image": trace.image,
        "embed.out": chw(trace.embed),
        "norm.out": chw(trace.norm_out),
        "pooled": trace.pooled,
        "logits": trace.logits,
    }
    for st in trace.stages:
        s = f"stage{st.index}"
        arrays[f"{s}.out"] = chw(st.out)
        if st.merge_in is not None:
            arrays[f"{s}.merge.in"], arrays[f"{s}.merge.out"] = chw(st.merge_in), chw(st.merge_out)
        for bt in st.blocks:
            k = f"{s}.block{bt.index}"
            arrays.update({f"{k}.attn": bt.attn, f"{k}.bias": bt.bias, f"{k}.mid": chw(bt.mid)})
            arrays.update({f"{k}.shift": np.array(bt.shift), f"{k}.window": np.array(bt.window)})
            arrays.update({f"{k}.padded": np.array(bt.padded), f"{k}.out": chw(bt.out)})
            if bt.mask is not None:
                arrays[f"{k}.mask"] = bt.mask
            if bt.logit_scale is not None:
                arrays[f"{k}.logit_scale"] = bt.logit_scale
    np.savez(path, **arrays)


@pytest.mark.parametrize("version", [1, 2])
def test_version_1_files_still_load(tmp_path, version):
    trace = fake_trace(version=version)
    write_v1(trace, tmp_path / "v1.npz")
    assert_same(trace, load_npz(tmp_path / "v1.npz"))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, tiny64_config):
    path = tmp_path_factory.mktemp("stream") / "tiny.safetensors"
    torch.manual_seed(0)
    save_checkpoint(SwinTransformer(tiny64_config.with_(name="tiny-stream")).eval(), path)
    return path


def test_medium_capture_streams_back_equal(model_file, tmp_path):
    """A real forward pass at a size no window divides, written and read back exactly."""
    trace = capture(load_model(model_file), tensor_image(150, 210))
    path = save_npz(trace, tmp_path / "medium.npz")
    assert_same(trace, load_npz(path))


def test_readme_schema_table_names_every_key(tmp_path):
    path = save_npz(fake_trace(version=2), tmp_path / "t.npz")
    text = (REPO / "README.md").read_text()
    section = text.split("## Trace NPZ schema", 1)[1].split("\n## ", 1)[0]
    for key in members(path):
        generic = re.sub(r"block\d+", "block{b}", re.sub(r"stage\d+", "stage{s}", key))
        last = "." + generic.rsplit(".", 1)[-1]
        assert f"`{generic}`" in section or ("." in generic and f"`{last}`" in section), generic


def test_cli_folders_and_globs_with_progress_and_summary(model_file, tmp_path, capsys):
    photos, shots = tmp_path / "photos", tmp_path / "shots"
    photos.mkdir()
    shots.mkdir()
    for i, name in enumerate(("a.png", "b.jpg")):
        Image.new("RGB", (48, 40), (40 * i, 90, 200)).save(photos / name)
    (photos / "notes.txt").write_text("not an image")
    for i, name in enumerate(("x.jpg", "y.jpg", "z.png")):
        Image.new("RGB", (40, 52), (20 * i, 30, 90)).save(shots / name)
    out = tmp_path / "out"
    argv = ["export", str(photos), str(shots / "*.jpg"), str(tmp_path / "none" / "*.png")]
    argv += ["--out", str(out), "--model", str(model_file), "--attention", "none"]
    assert cli.main([*argv, "--dtype", "float16", "--compress"]) == 1  # the empty glob
    err = capsys.readouterr().err.splitlines()
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "x", "y"]
    assert any(re.fullmatch(r"\[1/5\] a\.png \.\.\. ok \(\d+\.\d s\) -> .*a", ln) for ln in err)
    assert any("none/*.png: no file matches this pattern" in ln for ln in err), err
    assert re.fullmatch(
        r"exported 4 of 5 images to .* in \d+\.\d s \((\d+\.)?\d+ images/s\)", err[-1]
    )
    manifest = json.loads((out / "x" / "manifest.json").read_text())
    assert manifest["npz"] == {"attention": "none", "dtype": "float16", "compress": True}
    assert not [k for k in members(out / "x" / "trace.npz") if k.endswith(".attn")]
