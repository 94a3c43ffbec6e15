"""Batched export: images of one size share a forward pass, each image gets its own
trace equal to a one-by-one capture, and a bad image in a batch fails alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from swin_gui.api import capture
from swin_gui.export_batch import _groups, capture_batch, split_record
from swin_gui.model import Recorder, SwinConfig, SwinTransformer

SMALL = SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), num_classes=8)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return SwinTransformer(SMALL).eval()


def _images(tmp_path, n, size=(96, 80)):
    rng = np.random.default_rng(1)
    paths = []
    for i in range(n):
        p = tmp_path / f"im{i}.png"
        Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).save(p)
        paths.append(str(p))
    return paths


def test_batched_traces_equal_one_by_one(model, tmp_path):
    paths = _images(tmp_path, 3)
    batched = capture_batch(model, paths, size="native")
    for path, trace in zip(paths, batched, strict=True):
        single = capture(model, path, size="native")
        np.testing.assert_array_equal(trace.input, single.input)
        np.testing.assert_allclose(trace.logits, single.logits, atol=1e-5, rtol=1e-5)
        for a, b in zip(trace.blocks(), single.blocks(), strict=True):
            np.testing.assert_allclose(a.out, b.out, atol=1e-4, rtol=1e-4)
            np.testing.assert_allclose(a.attn, b.attn, atol=1e-5)  # on demand, per image
    assert not np.array_equal(batched[0].logits, batched[1].logits)  # not one image thrice


def test_bad_image_in_a_batch_fails_alone(model, tmp_path):
    paths = _images(tmp_path, 2)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    got = capture_batch(model, [paths[0], str(bad), paths[1]], size="native")
    assert isinstance(got[1], Exception) and not isinstance(got[0], Exception)
    assert got[2].logits.shape == (8,)


def test_groups_are_runs_of_one_size(model, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = _images(tmp_path / "a", 3), _images(tmp_path / "b", 1, (64, 64))
    items = [(a[0], None), (a[1], None), (b[0], None), (a[2], None), ("x", "no images")]
    assert _groups(model, items, "native") == [[0, 1], [2], [3], [4]]


def test_split_record_slices_the_batch_and_keeps_the_geometry():
    data = {
        "stage0.block0.in": torch.arange(6.0).view(3, 2),
        "stage0.block0.attn": torch.arange(12.0).view(6, 2),  # B*nW = 3 * 2
        "stage0.block0.bias": torch.ones(3, 2),  # heads == B by chance: not sliced
        "stage0.block0.window": 7,
    }
    part = split_record(data, 1, 3)
    assert part["stage0.block0.in"].tolist() == [[2.0, 3.0]]
    assert part["stage0.block0.attn"].tolist() == [[4.0, 5.0], [6.0, 7.0]]
    assert part["stage0.block0.bias"].shape == (3, 2) and part["stage0.block0.window"] == 7


def test_recorder_to_host_returns_cpu_tensors_unchanged():
    rec = Recorder()
    rec.put("a", torch.ones(2))
    rec.put("b", 3)
    rec.put("c", None)  # None records nothing
    host = rec.to_host()
    assert host["a"] is rec.data["a"] and host["b"] == 3 and "c" not in host
