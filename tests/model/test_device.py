"""Device handling without a GPU: the forward pass never reads a device tensor back on the
host (run on PyTorch's meta device, whose tensors have no values, so any .item(), bool()
or .cpu() of one inside the forward raises), and a capture copies its record back with
one synchronisation. `benchmarks/gpu_check.py` checks the same on a real GPU with
torch.cuda.set_sync_debug_mode("error")."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import swin_gui.model.recorder as recorder
from swin_gui.model import Recorder, SwinConfig, SwinTransformer
from swin_gui.model.windows import CACHE

SMALL_V1 = SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), num_classes=8)
SMALL_V2 = SMALL_V1.with_(version=2, window_size=8, img_size=256)
READS = {"aten::_local_scalar_dense", "aten::item", "aten::equal", "aten::is_nonzero"}


class DeviceReads(TorchDispatchMode):
    """Counts ops that hand a meta tensor's value to the host or copy one to the CPU
    (`reads`), and copies from the CPU onto the device (`uploads`)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []
        self.uploads: list[str] = []
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        self.ops += 1
        name = func._schema.name
        on_meta = any(isinstance(a, torch.Tensor) and a.is_meta for a in args)
        to_cpu = str(kwargs.get("device", "")) == "cpu"
        if on_meta and (name in READS or (name == "aten::_to_copy" and to_cpu)):
            self.reads.append(name)
        src = args[0] if args and isinstance(args[0], torch.Tensor) else None
        to_meta = str(kwargs.get("device", "")) == "meta"
        if name == "aten::_to_copy" and src is not None and not src.is_meta and to_meta:
            self.uploads.append(f"{name} {tuple(src.shape)}")
        if name == "aten::copy_" and args[0].is_meta and not args[1].is_meta:
            self.uploads.append(f"{name} {tuple(args[1].shape)}")
        return func(*args, **kwargs)


@pytest.mark.parametrize("cfg", [SMALL_V1, SMALL_V2], ids=["v1", "v2"])
@pytest.mark.parametrize("hw", [(224, 224), (250, 333)])
@pytest.mark.parametrize("attention", [None, False, True], ids=["plain", "lazy", "eager"])
def test_forward_never_reads_device_tensors(cfg, hw, attention):
    """No read-back ever; and once a size has been seen (its indices, bias and masks
    uploaded and cached), no upload either."""
    model = SwinTransformer(cfg).eval().to("meta")
    x = torch.empty(2, 3, *hw, device="meta")
    rec = None if attention is None else Recorder(attention=attention, mid=attention)
    with torch.no_grad(), DeviceReads() as first:
        model(x, None if rec is None else Recorder(attention=attention, mid=attention))
    with torch.no_grad(), DeviceReads() as mode:
        logits = model(x, rec)
    assert logits.shape == (2, 8) and logits.is_meta
    assert mode.ops > 100, "the dispatch mode saw the forward pass"
    assert first.reads == [] and mode.reads == []
    assert first.uploads, "the first pass at a size uploads its indices"
    assert mode.uploads == []
    if rec is not None:
        assert rec.data["stage0.block1.in"].is_meta  # the record stays on the device
    CACHE.clear()  # meta entries are of no use to the other tests


def test_a_device_read_would_be_caught():
    """The check can fail: one .item() on a device tensor is seen (and raises on meta)."""
    with DeviceReads() as mode, pytest.raises(RuntimeError):
        torch.ones(2, device="meta").sum().item()
    assert mode.reads == ["aten::_local_scalar_dense"]


def test_to_host_synchronises_once(monkeypatch):
    """Every recorded tensor is queued non-blocking; one synchronize for the lot."""
    calls, copies = [], []
    monkeypatch.setattr(recorder, "_on_accelerator", lambda v: isinstance(v, torch.Tensor))
    monkeypatch.setattr(torch.accelerator, "synchronize", lambda d=None: calls.append(d))
    real_to = torch.Tensor.to

    def to(self, *args, **kwargs):
        copies.append(kwargs.get("non_blocking"))
        return real_to(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", to)
    rec = Recorder()
    for i in range(5):
        rec.put(f"t{i}", torch.full((3,), float(i)))
    rec.put("shift", 3)
    host = rec.to_host()
    assert len(calls) == 1 and copies == [True] * 5
    assert host["shift"] == 3 and host["t4"].tolist() == [4.0, 4.0, 4.0]
