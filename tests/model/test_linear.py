"""The model's Linear: oneDNN on a packed weight for CPU inference, F.linear otherwise;
the packed copies cached by weight, bounded, refreshed and released with it."""

import gc

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from swin_gui.model import linear as lin
from swin_gui.model.linear import PACKED, Linear, PackedWeights

pytestmark = pytest.mark.skipif(not lin._ONEDNN, reason="this torch build has no oneDNN")


@pytest.fixture
def layer():
    torch.manual_seed(0)
    return Linear(96, 384)


def test_inference_takes_onednn_and_matches_f_linear(layer):
    x = torch.randn(2, 49, 96)
    before = len(PACKED)
    with torch.inference_mode():
        y = layer(x)
    assert len(PACKED) == before + 1  # the weight was packed: the oneDNN path ran
    torch.testing.assert_close(y, F.linear(x, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)


def test_fused_gelu_equals_gelu_after(layer):
    x = torch.randn(3136, 96)
    with torch.no_grad():
        fused = layer(x, then=nn.GELU())
        separate = F.gelu(layer(x))
        tanh = layer(x, then=nn.GELU(approximate="tanh"))  # not fusable: applied after
    assert torch.equal(fused, separate)
    assert torch.equal(tanh, F.gelu(layer(x).detach(), approximate="tanh"))


def test_any_number_of_rows_gives_the_same_numbers(layer):
    x = torch.randn(3136, 96)
    with torch.no_grad():
        whole = layer(x)
        parts = torch.cat([layer(x[:64]), layer(x[64:1000]), layer(x[1000:])])
    assert torch.equal(whole, parts)  # chunked MLP / attention stay bit-equal


def test_gradients_take_f_linear(layer):
    x = torch.randn(4, 96, requires_grad=True)
    before = len(PACKED)
    y = layer(x)
    y.sum().backward()
    assert len(PACKED) == before  # nothing packed on the autograd path
    assert torch.equal(y, F.linear(x, layer.weight, layer.bias))
    assert x.grad is not None and layer.weight.grad is not None


def test_a_changed_weight_is_repacked(layer):
    x = torch.randn(8, 96)
    with torch.no_grad():
        first = layer(x)
        layer.weight.mul_(2.0)  # what load_state_dict's copy_ does: the version moves
        second = layer(x)
    torch.testing.assert_close(second, 2 * first - layer.bias, rtol=1e-5, atol=1e-5)


def test_packed_copies_go_with_their_model():
    model = nn.Sequential(Linear(8, 16), Linear(16, 8))
    with torch.no_grad():
        model(torch.randn(2, 8))
    ids = {id(p) for p in model.parameters() if p.dim() == 2}
    assert ids <= set(PACKED._entries)
    del model
    gc.collect()
    assert not ids & set(PACKED._entries)


def test_the_budget_bounds_the_copies():
    cache = PackedWeights(budget=16 * 384 * 4)  # room for one 16 x 384 weight
    small, big = torch.randn(16, 384), torch.randn(384, 96)
    assert cache.weight(small) is not small
    assert cache.weight(big) is big  # over budget: the plain weight, not a copy
    assert len(cache) == 1 and cache.nbytes <= cache.budget
    x = torch.randn(5, 96)
    packed_out = torch.ops.mkldnn._linear_pointwise(x, cache.weight(big), None, "none", [], "")
    assert torch.equal(
        packed_out,
        torch.ops.mkldnn._linear_pointwise(
            x, PackedWeights(2**30).weight(big), None, "none", [], ""
        ),
    )


def test_counters_see_the_aten_matmul(layer):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        layer(torch.randn(10, 96))
    assert counter.get_total_flops() == 2 * 10 * 96 * 384


def test_env_forces_f_linear(layer, monkeypatch):
    monkeypatch.setenv("SWIN_GUI_LINEAR", "aten")
    x = torch.randn(7, 96)
    with torch.no_grad():
        assert torch.equal(layer(x), F.linear(x, layer.weight, layer.bias))
