"""The Trace is frozen all the way down: no field can be rebound, no array written, no meta
entry added; what a caller wants recorded goes in through `capture(..., meta=...)`."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest
import torch
from fake_trace import fake_trace

from swin_gui.api import capture
from swin_gui.trace_io import load_npz, save_npz


def arrays(trace) -> dict[str, np.ndarray]:
    """Every array a trace hands out, by a readable name (lazy fields computed)."""
    found = {n: getattr(trace, n) for n in ("input", "image", "embed", "norm_out", "pooled")}
    found["logits"] = trace.logits
    for st in trace.stages:
        for n in ("out", "merge_in", "merge_out"):
            found[f"stage{st.index}.{n}"] = getattr(st, n)
        for b in st.blocks:
            for n in ("attn", "bias", "mask", "mid", "out", "input", "regions", "logit_scale"):
                found[f"stage{b.stage}.block{b.index}.{n}"] = getattr(b, n)
    return {k: v for k, v in found.items() if v is not None}


def assert_frozen(trace) -> None:
    found = arrays(trace)
    assert len(found) > 20
    writable = [k for k, a in found.items() if a.flags.writeable]
    assert writable == [], writable
    block = trace.stages[0].blocks[-1]
    with pytest.raises(ValueError, match="read-only"):
        block.attn[0, 0, 0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.attn = None
    for change in (
        lambda m: m.__setitem__("source", "elsewhere"),
        lambda m: m.update(source="elsewhere"),
        lambda m: m.pop("source", None),
        lambda m: m.setdefault("new", 1),
        lambda m: m.clear(),
    ):
        with pytest.raises(TypeError, match="read-only"):
            change(trace.meta)
    assert copy.deepcopy(trace.meta) == trace.meta and json.loads(json.dumps(trace.meta))


@pytest.mark.parametrize("eager", [True, False], ids=["eager", "lazy"])
def test_a_capture_is_frozen(tiny_model, eager):
    torch.manual_seed(3)
    trace = capture(tiny_model, torch.randn(1, 3, 64, 64) * 0.3, eager=eager)
    assert_frozen(trace)


def test_a_loaded_trace_is_frozen(tmp_path):
    assert_frozen(load_npz(save_npz(fake_trace(), tmp_path / "t.npz")))


def test_meta_goes_in_at_capture_and_its_lists_are_frozen_too(tiny_model, tmp_path):
    image = np.zeros((40, 50, 3), np.uint8)
    trace = capture(tiny_model, image, 64, meta={"source": "cam.png", "tags": ["a", "b"]})
    assert trace.meta["source"] == "cam.png"  # the caller's entry wins over the capture's
    assert trace.meta["tags"] == ["a", "b"] and trace.meta["model"] == "tiny (random)"
    with pytest.raises(TypeError, match="read-only"):
        trace.meta["tags"].append("c")
    assert image.flags.writeable  # the caller's own array keeps its flags
    again = load_npz(save_npz(trace, tmp_path / "t.npz"))
    assert again.meta == trace.meta and again.meta["tags"].__class__.__name__ == "FrozenList"
    changed = dataclasses.replace(trace, meta={**trace.meta, "source": "b.png"})
    assert changed.meta["source"] == "b.png" and trace.meta["source"] == "cam.png"
