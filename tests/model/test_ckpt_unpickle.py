"""The allow-list unpickler on its own: what it rebuilds for real, what becomes an inert
placeholder, and that nothing it is handed is ever imported or called."""

from __future__ import annotations

import pickle
import sys
import types

import pytest
import torch

from swin_gui.model.checkpoints import CheckpointError
from swin_gui.model.checkpoints.torch_zip import check_archive, read_archive
from swin_gui.model.checkpoints.unpickle import Placeholder, restricted_load


def test_parameters_and_tensors_with_attributes_come_back_as_plain_tensors(tmp_path):
    module = types.ModuleType("mmengine_fake")
    sys.modules["mmengine_fake"] = module

    class Hub:
        pass

    Hub.__module__, Hub.__qualname__ = "mmengine_fake", "Hub"
    module.Hub = Hub
    p = torch.nn.Parameter(torch.arange(3.0))
    t = torch.arange(4.0)[1:3]  # a view: the whole storage is saved, offset 1
    t.note = "extra attribute"  # pickled through _rebuild_from_type_v2
    torch.save({"state_dict": {"p": p, "t": t}, "hub": Hub()}, tmp_path / "x.pth")
    del sys.modules["mmengine_fake"]
    check_archive(tmp_path / "x.pth")
    obj, placeholders = read_archive(tmp_path / "x.pth")
    assert placeholders == {"mmengine_fake.Hub"}
    assert isinstance(obj["hub"], Placeholder) and obj["hub"].global_name == "mmengine_fake.Hub"
    assert type(obj["state_dict"]["p"]) is torch.Tensor
    assert torch.equal(obj["state_dict"]["p"], torch.arange(3.0))
    assert torch.equal(obj["state_dict"]["t"], torch.tensor([1.0, 2.0]))


def test_torch_tensor_global_is_never_called_for_real():
    class Alloc:
        def __reduce__(self):  # torch.Tensor(2**34) would allocate 64 GiB
            return (torch.Tensor, (2**34,))

    obj, _ = restricted_load(pickle.dumps({"w": Alloc()}, protocol=2), "a.pkl")
    assert isinstance(obj["w"], Placeholder) and obj["w"].args == (2**34,)


@pytest.mark.parametrize("target", ["builtins eval", "subprocess Popen", "torch load"])
def test_code_running_globals_are_refused_by_name(target):
    module, name = target.split()
    data = (
        f"c{module}\n{name}\n(S'1'\ntR.".encode()
    )  # protocol 0: GLOBAL, MARK, STRING, TUPLE, REDUCE
    with pytest.raises(CheckpointError) as info:
        restricted_load(data, "p.pkl")
    assert str(info.value).startswith(f"p.pkl refused: it holds Python objects ({module}.{name})")
