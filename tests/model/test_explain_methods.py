"""Grad-CAM against an independent hook-based computation, the exact windowed rollout
(its matrices are the captured attention; every vector is a distribution; masked pairs
carry nothing), the shift-off counterfactual, Score-CAM and the explain() API."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import swin_gui
from swin_gui import api
from swin_gui.explain.common import no_shift
from swin_gui.explain.erf import square_figures
from swin_gui.explain.rollout import attention_probe, rollout, window_tokens


@pytest.fixture(scope="module")
def x224():
    torch.manual_seed(5)
    return torch.randn(1, 3, 224, 224) * 0.5


@pytest.fixture(scope="module")
def x_native():
    torch.manual_seed(6)
    return torch.randn(1, 3, 250, 333) * 0.5


def reference_gradcam(model, x, stage, k):
    """Textbook Grad-CAM with retain_grad on the stage output, full autograd."""
    kept = {}

    def hook(_m, _a, out):
        out.retain_grad()
        kept["A"] = out

    h = model.layers[stage].register_forward_hook(hook)
    try:
        x = x.clone().requires_grad_(True)
        logits = model(x)
        model.zero_grad()
        logits[0, k].backward()
    finally:
        h.remove()
        model.zero_grad()
    A = kept["A"][0].permute(2, 0, 1)  # C, h, w
    alpha = kept["A"].grad[0].permute(2, 0, 1).mean(dim=(1, 2))  # C
    cam = torch.relu((alpha[:, None, None] * A).sum(0))
    side = 4 * 2**stage
    up = F.interpolate(cam[None, None], scale_factor=side, mode="bilinear", align_corners=False)
    return up[0, 0, : x.shape[2], : x.shape[3]].detach().numpy()


@pytest.mark.parametrize("stage", [1, 3])
def test_gradcam_equals_independent_hook_computation(tiny_model, x_native, stage):
    r = swin_gui.explain(tiny_model, x_native, method="gradcam", stage=stage, target=2)
    ref = reference_gradcam(tiny_model, x_native, stage, 2)
    assert r.map.shape == (250, 333) and r.target == 2
    np.testing.assert_allclose(r.map, ref, rtol=1e-4, atol=1e-6 * np.abs(ref).max())
    assert all(p.requires_grad for p in tiny_model.parameters())  # restored


def test_no_shift_is_the_wmsa_network_and_is_restored(tiny_model, x224):
    m = tiny_model
    with torch.no_grad():
        t = m.patch_embed(x224)
        for stage in m.layers:
            t = t if stage.downsample is None else stage.downsample(t)
            for blk in stage.blocks:
                t = blk(t, None, shift=0)
        manual = m.head(m.norm(t))
        with no_shift(m):
            ablated = m(x224)
        normal = m(x224)
    torch.testing.assert_close(ablated, manual)
    assert not torch.allclose(normal, manual)
    assert [b.shift_size for s in m.layers for b in s.blocks] == [0, 3] * 4


def test_rollout_matrices_are_the_captured_attention(tiny_model, x_native):
    trace = api.capture(tiny_model, x_native)
    with torch.no_grad(), attention_probe(tiny_model) as records:
        tiny_model(x_native)
    assert len(records) == 8
    for rec in records:
        got = torch.cat(rec["probs"]).numpy()
        want = trace.block(rec["stage"], rec["index"]).attn
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-5)
        assert rec["shift"] == trace.block(rec["stage"], rec["index"]).shift


def test_window_tokens_undo_pad_roll_partition():
    idx = window_tokens((9, 9), 7, 3)  # padded 14 x 14, rolled by 3
    assert idx.shape == (4, 49)
    # window 0, position 0 is padded position (3, 3) = token 3*9 + 3
    assert idx[0, 0] == 30
    # window 0 covers padded rows 3..9: row 9.. is padding (-1)
    assert (idx[0].reshape(7, 7)[6] == -1).all() and (idx[0].reshape(7, 7)[:6, :6] >= 0).all()
    real = np.sort(idx[idx >= 0])
    assert np.array_equal(real, np.arange(81))  # every token exactly once


@pytest.mark.parametrize("which", ["x224", "x_native"])
@pytest.mark.parametrize("shift", [True, False])
def test_rollout_vectors_are_distributions(tiny_model, which, shift, request):
    x = request.getfixturevalue(which)
    for token, stage, block in [(None, None, None), ((2, 3), 1, 1)]:
        m, figs = rollout(tiny_model, x, stage, block, token, None, shift, keep_vectors=True)
        assert m.shape == x.shape[2:] and (m >= 0).all()
        if which == "x224":
            assert m.sum() == pytest.approx(1.0, abs=1e-5)
        else:  # 250 x 333: the last token row/column is half padding, cropped
            assert 0.97 < m.sum() < 1.0 + 1e-5
        for _, v in figs["vectors"]:
            assert (v >= 0).all() and float(v.sum()) == pytest.approx(1.0, abs=1e-9)


def test_rollout_masked_pairs_carry_nothing(tiny_model, x224):
    # stage 0 block 1 (SW-MSA): token (0, 0) shares its rolled window with regions from
    # the far corners; the mask keeps only original tokens 0..2 x 0..2
    _, figs = rollout(tiny_model, x224, 0, 1, (0, 0), None, True, keep_vectors=True)
    (where, v) = figs["vectors"][0]
    assert where == (0, 1)
    v = v.reshape(56, 56).numpy()
    assert (v[:3, :3] > 1e-6).all()
    outside = v.copy()
    outside[:3, :3] = 0
    assert outside.max() < 1e-30
    # without the shift the same token spreads over its W-MSA window 0..6 x 0..6
    _, off = rollout(tiny_model, x224, 0, 1, (0, 0), None, False, keep_vectors=True)
    v_off = off["vectors"][0][1].reshape(56, 56).numpy()
    assert (v_off[:7, :7] > 1e-6).all() and v_off[7:].max() == 0 and v_off[:, 7:].max() == 0


def test_chefer_rollout_is_class_specific(tiny_model, x224):
    a = swin_gui.explain(tiny_model, x224, method="rollout", target=1)
    b = swin_gui.explain(tiny_model, x224, method="rollout", target=5)
    plain = swin_gui.explain(tiny_model, x224, method="rollout")
    assert a.figures["variant"] == "chefer" and plain.figures["variant"] == "rollout"
    for r in (a, b, plain):
        assert r.map.sum() == pytest.approx(1.0, abs=1e-5) and (r.map >= 0).all()
    assert not np.allclose(a.map, b.map)


def test_scorecam_batches_agree(tiny_model, x224):
    one = swin_gui.explain(tiny_model, x224, method="scorecam", stage=3, target=0, batch=64)
    many = swin_gui.explain(tiny_model, x224, method="scorecam", stage=3, target=0, batch=7)
    assert one.map.shape == (224, 224) and (one.map >= 0).all()
    np.testing.assert_allclose(one.map, many.map, rtol=1e-4, atol=1e-6)


def test_square_figures_hand_worked():
    heat = np.zeros((100, 100))
    heat[50, 50] = 1.0  # a point mass at the centre pixel
    heat[10, 50] = 1.0  # and one 40 px above it
    f = square_figures(heat, (50.0, 50.0), (0.5, 0.99))
    assert f["r50"] == pytest.approx(2 / 100)  # rows 49..50 hold pixel 50
    assert f["r99"] == pytest.approx(2 * 40 / 100)  # rows 10..89 reach row 10


def test_explain_api_shapes_and_errors(tiny_model, x_native):
    r = swin_gui.explain(tiny_model, x_native, method="reach", stage=1, block=0, shift="off")
    assert r.map.dtype == bool and r.map.shape == (250, 333) and not r.shift
    assert r.token == (16, 21) and "area_px" in r.figures and "reach" in r.summary()
    e = swin_gui.explain(tiny_model, x_native, method="erf", stage=0, block=1, token=(5, 6))
    assert e.map.shape == (250, 333) and set(e.figures) == {"r20", "r30", "r50", "r99"}
    with pytest.raises(ValueError, match="unknown method"):
        swin_gui.explain(tiny_model, x_native, method="lime")
    with pytest.raises(ValueError, match="not on the"):
        swin_gui.explain(tiny_model, x_native, method="erf", stage=3, token=(99, 0))
    with pytest.raises(ValueError, match="unknown class"):
        swin_gui.explain(tiny_model, x_native, method="gradcam", target="zebra")
    assert swin_gui.explain(tiny_model, x_native, method="gradcam", target="ring").target == 1
