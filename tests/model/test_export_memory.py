"""The 12 MP memory bound of `swin-gui export` (issue 11): the NPZ writer streams every
large array (converted to float16, transposed to C, H, W, a block's attention) a piece at
a time and writes the bytes numpy writes for the whole array; a lazily captured block's
attention goes into its member chunk by chunk from the one pass that also gives `mid`,
with nothing cached and no shift mask built; the feature analysis converts to float64 a
slab at a time with the very same numbers."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch
from fake_trace import fake_trace
from lazy_models import SMALL_V1, SMALL_V2, make

import swin_gui.analysis.features as features
import swin_gui.export_stream as export_stream
import swin_gui.model.chunks as chunks
import swin_gui.model.regions as regions
from swin_gui.api import capture
from swin_gui.model.ondemand import OnDemand


def whole(a: np.ndarray) -> bytes:
    """What numpy writes for the whole array."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=False)
    return buf.getvalue()


def written(put, options=None) -> dict[str, bytes]:
    """Every member a `_Writer` call writes, as bytes."""
    buf = io.BytesIO()
    w = export_stream._Writer(buf, options or export_stream.NpzOptions())
    put(w)
    w.close()
    with zipfile.ZipFile(buf) as zf:
        return {n[:-4]: zf.read(n) for n in zf.namelist()}


RNG = np.random.default_rng(0)
ARRAYS = {
    "f32": RNG.standard_normal((37, 5, 3)).astype(np.float32),
    "f32-1d": RNG.standard_normal(101).astype(np.float32),
    "i64": RNG.integers(-9, 9, (13, 4)),
    "u8": RNG.integers(0, 255, (9, 11), dtype=np.uint8),
    "bool": RNG.random((6, 7)) > 0.5,
    "empty-rows": np.zeros((0, 3), np.float32),
    "empty-cols": np.zeros((4, 0), np.float32),
    "strided": RNG.standard_normal((20, 30)).astype(np.float32)[::2, ::3],
}


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("name", list(ARRAYS))
def test_pieces_write_the_bytes_numpy_writes_for_the_whole_array(name, dtype, monkeypatch):
    monkeypatch.setattr(export_stream, "CHUNK_BYTES", 24)  # many pieces, a ragged last one
    a = ARRAYS[name]
    got = written(lambda w: w.put("x", a), export_stream.NpzOptions(dtype=dtype))["x"]
    want = a.astype(np.float16) if dtype == "float16" and a.dtype.kind == "f" else a
    assert got == whole(np.ascontiguousarray(want))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("shape", [(7, 9, 5), (3, 4, 1), (1, 1, 96), (0, 4, 3)])
def test_channel_first_maps_are_written_a_few_planes_at_a_time(shape, dtype, monkeypatch):
    monkeypatch.setattr(export_stream, "CHUNK_BYTES", 2 * shape[0] * shape[1] * 4 or 8)
    a = RNG.standard_normal(shape).astype(np.float32)
    got = written(lambda w: w.put_chw("m", a), export_stream.NpzOptions(dtype=dtype))["m"]
    want = np.ascontiguousarray(a.transpose(2, 0, 1)).astype(dtype)
    assert got == whole(want)


def test_a_short_stream_fails_instead_of_writing_a_file_that_does_not_load():
    def short(w):
        m = w.open("a", (4, 3), np.float32)
        m.write(np.zeros((3, 3), np.float32))
        m.close()

    with pytest.raises(RuntimeError, match="1 rows were never written"):
        written(short)


def test_writing_a_trace_never_copies_a_whole_map(tmp_path, monkeypatch):
    """numpy reports its buffers to tracemalloc: while a float16 trace with channel-first
    maps is written, no allocation near the size of its largest map is made (the old
    writer made a transposed copy, then a float16 one, of every map)."""
    monkeypatch.setattr(export_stream, "CHUNK_BYTES", 1 << 16)
    trace = fake_trace(height=800, width=1120)
    largest = max(a.nbytes for b in trace.blocks() for a in (b.attn, b.mid, b.out) if a is not None)
    assert largest > 8 * (1 << 16)  # big enough for a copy to show
    options = export_stream.NpzOptions(dtype="float16")
    with open(tmp_path / "t.npz", "wb") as f:
        tracemalloc.start()
        try:
            export_stream.write_trace_npz(trace, f, options)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < largest / 4, (peak, largest)


@pytest.mark.parametrize("cfg", [SMALL_V1, SMALL_V2], ids=["v1", "v2"])
def test_lazy_attention_streams_chunk_by_chunk_uncached_and_equals_eager(cfg, monkeypatch):
    model = make(cfg)
    monkeypatch.setattr(chunks, "CHUNK_TOKENS", 1)  # one window row of windows a chunk
    x = torch.randn(1, 3, 250, 333)
    eager = capture(model, x, eager=True)
    lazy = capture(model, x)
    asked, pieces = [], {}
    real_get, real_append = OnDemand.get, export_stream._Member.append

    def get(self, block, name):
        asked.append(name)
        return real_get(self, block, name)

    def append(self, chunk):
        pieces.setdefault(self.key, []).append(chunk.shape[0])
        real_append(self, chunk)

    def no_mask(*args, **kwargs):
        raise AssertionError("the (nW, N, N) shift mask was built")

    monkeypatch.setattr(OnDemand, "get", get)
    monkeypatch.setattr(export_stream._Member, "append", append)
    monkeypatch.setattr(regions, "regions_to_mask", no_mask)
    got = written(lambda w: _write(w, lazy))
    monkeypatch.undo()

    assert set(asked) <= {"bias"}, asked  # attention, mid and mask never went via the cache
    assert not [k for k in lazy.block(0, 0).source.cached() if k[2] != "bias"]
    block = lazy.block(0, 1)
    windows = (block.padded[0] // block.window) * (block.padded[1] // block.window)
    parts = pieces["stage0.block1.attn"]
    assert len(parts) > 1 and sum(parts) == windows and max(parts) < windows
    want = written(lambda w: _write(w, eager))
    assert got.keys() == want.keys()
    for key in got:
        if key != "meta":  # the eager trace says so in its meta
            assert got[key] == want[key], key


def _write(w, trace) -> None:
    for st in trace.stages:
        for b in range(len(st.blocks)):
            export_stream._put_block(
                w, trace.block(st.index, b), f"stage{st.index}.block{b}", w.options
            )


def test_on_demand_attention_reads_the_recorded_input_and_leaves_it_unchanged():
    """The on-demand pass reads the trace's block input in place (no copy of a 12 MP
    block's input): it must never write into it."""
    model = make(SMALL_V1)
    trace = capture(model, torch.randn(1, 3, 120, 150))
    block = trace.block(0, 1)
    before = block.input.copy()
    block.attn, block.mid  # noqa: B018 - computed on demand
    assert not block.input.flags.writeable
    np.testing.assert_array_equal(block.input, before)


# ---- the feature analysis, a float64 slab at a time ------------------------------------------
def _plain_pca(f, k=3):
    """The whole-array formulation the slab version replaced."""
    H, W, C = f.shape
    X = f.reshape(-1, C).astype(np.float64)
    X = X - X.mean(axis=0, keepdims=True)
    values, comps = features._principal_axes(X, k)
    flip = np.sign(comps[np.arange(len(comps)), np.argmax(np.abs(comps), axis=1)])
    comps = comps * np.where(flip == 0, 1.0, flip)[:, None]
    total = float((X * X).sum() / max(len(X), 1))
    explained = values.clip(min=0) / total
    return (X @ comps.T).reshape(H, W, -1).astype(np.float32), explained.astype(np.float32)


@pytest.mark.parametrize("shape", [(31, 23, 7), (8, 9, 96), (5, 6, 1), (40, 3, 2), (4, 4, 3)])
def test_slabwise_analysis_gives_the_whole_array_numbers(shape, monkeypatch):
    monkeypatch.setattr(features, "SLAB", 64)  # many slabs, some of a single row
    f = (RNG.standard_normal(shape) * RNG.random(shape[2]) * 5).astype(np.float32)
    x = f.astype(np.float64)
    np.testing.assert_array_equal(features.channel_energy(f), np.mean(x * x, axis=(0, 1)))
    np.testing.assert_array_equal(
        features.norm_map(f), np.sqrt(np.sum(x * x, axis=2)).astype(np.float32)
    )
    scores, explained = _plain_pca(f)
    got = features.pca(f)
    np.testing.assert_array_equal(got.scores[..., : scores.shape[2]], scores)
    np.testing.assert_array_equal(got.explained[: len(explained)], explained)


def test_a_large_map_is_analysed_without_a_whole_float64_copy(monkeypatch):
    monkeypatch.setattr(features, "SLAB", 1 << 16)  # 512 KB of float64 a slab
    f = RNG.standard_normal((300, 250, 24)).astype(np.float32)  # 7 MB; float64 14 MB
    tracemalloc.start()
    try:
        features.channel_energy(f)
        features.norm_map(f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < f.nbytes / 2, (peak, f.nbytes)  # whole: 2 float64 copies, 4x f.nbytes


def test_shift_masks_are_made_in_their_own_dtype():
    labels = RNG.integers(0, 9, (5, 16))
    want = np.where(labels[:, :, None] == labels[:, None, :], 0.0, regions.MASK_VALUE)
    got = regions.labels_to_mask(labels)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want.astype(np.float32))
    tracemalloc.start()
    try:
        regions.labels_to_mask(RNG.integers(0, 9, (400, 49)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 400 * 49 * 49 * 8, peak  # no float64 (nW, N, N) on the way
