"""The structural receptive field: hand-worked reaches on Swin-T's geometry (M = 7, s = 3,
4 px tokens), and reach == the support of the erf gradient on a random model."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from swin_gui.explain.common import model_input
from swin_gui.explain.erf import erf
from swin_gui.explain.reach import NetGeometry, reach_curve, token_reach


def box(reach: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(reach.any(1)), np.flatnonzero(reach.any(0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


@pytest.fixture(scope="module")
def geom224(tiny_model):
    return NetGeometry.from_model(tiny_model, 224, 224)


def test_wmsa_block_reaches_its_window(geom224):
    # token (10, 10) is in window (1, 1): tokens 7..13 -> pixels 28..55, 28 x 28
    r = token_reach(geom224, 0, 0, (10, 10))
    assert r.sum() == 28 * 28 and box(r) == (28, 28, 56, 56)
    assert r[28:56, 28:56].all()


def test_swmsa_block_grows_as_the_shifted_windows_dictate(geom224):
    # block 1 rolls by 3: token (10, 10) sits at rolled (7, 7), window rows 7..13 = original
    # tokens 10..16; back through block 0 those span the W-MSA windows 7..13 and 14..20
    r = token_reach(geom224, 0, 1, (10, 10))
    assert box(r) == (28, 28, 84, 84) and r.sum() == 56 * 56
    # the corner token wraps to rolled (53, 53): its window mixes 4 regions, the mask keeps
    # only region (2, 2) = original tokens 0..2 x 0..2, all in W-MSA window 0: no growth
    corner = token_reach(geom224, 0, 1, (0, 0))
    assert box(corner) == (0, 0, 28, 28) and corner.sum() == 28 * 28


def test_shift_off_reach_stops_growing_within_a_stage(tiny_model):
    on = NetGeometry.from_model(tiny_model, 224, 224, shift=True)
    off = NetGeometry.from_model(tiny_model, 224, 224, shift=False)
    a_on = dict(reach_curve(on, (40.0, 40.0)))
    a_off = dict(reach_curve(off, (40.0, 40.0)))
    assert a_off["s0.b0"] == a_off["s0.b1"] == 28 * 28
    assert a_off["s1.b0"] == a_off["s1.b1"] == 56 * 56
    assert a_on["s0.b1"] > a_on["s0.b0"] and a_on["s1.b1"] > a_on["s1.b0"]


def test_padding_reaches_nothing(tiny_model):
    # 200 px: 50 x 50 tokens padded to 56; token (49, 49) shares window 42..55 with
    # padding only, so after the W-MSA block it reaches just its own 4 x 4 pixels
    g = NetGeometry.from_model(tiny_model, 200, 200)
    r = token_reach(g, 0, 0, (49, 49))
    assert r.shape == (200, 200) and r.sum() == 16 and box(r) == (196, 196, 200, 200)
    # SW-MSA: rolled (46, 46), window rows 42..48 = original 45..51, real 45..49; back
    # through block 0 (windows 42..48 and 49): tokens 42..49 = pixels 168..199
    r1 = token_reach(g, 0, 1, (49, 49))
    assert box(r1) == (168, 168, 200, 200) and r1.sum() == 32 * 32


def erf_support(model, x, stage, block, token, shift):
    heat, _ = erf(model, x, stage, block, token, shift)
    # masked pairs still pass e^-100 ~ 4e-44 of a weight: far below any real path
    return heat > heat.max() * 1e-30


@pytest.mark.parametrize("shift", [True, False], ids=["shift-on", "shift-off"])
@pytest.mark.parametrize("size", [(224, 224), (250, 333)], ids=["224", "333x250"])
def test_reach_equals_erf_support(tiny_model, size, shift):
    model = copy.deepcopy(tiny_model).double()
    torch.manual_seed(3)
    x = torch.randn(1, 3, *size, dtype=torch.float64)
    g = NetGeometry.from_model(model, *size, shift=shift)
    cases = [
        (0, 1, (0, 0)),
        (0, 1, (20, 31)),
        (1, 1, (size[0] // 8 - 1, size[1] // 8 - 1)),
        (2, 0, (3, 5)),
    ]
    for stage, block, token in cases:
        reach = token_reach(g, stage, block, token)
        support = erf_support(model, x, stage, block, token, shift)
        assert support.shape == reach.shape
        assert np.array_equal(support, reach), (stage, block, token, support.sum(), reach.sum())


def test_geometry_from_trace_matches_model(tiny_model, trace_native):
    a = NetGeometry.from_trace(trace_native)
    b = NetGeometry.from_model(tiny_model, *trace_native.image.shape[:2])
    assert a == b
    assert model_input(tiny_model, torch.zeros(1, 3, 8, 8))[0].shape == (1, 3, 8, 8)
