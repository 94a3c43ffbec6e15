"""The explain methods on a batch equal the same methods one image at a time; the rollout's
window-by-window propagation equals a dense textbook rollout built from the eager Trace's
attention; the model's head-averaged, computed-once softmax record (`Recorder(attention=
"mean")`) equals the eager capture's attention averaged over heads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import swin_gui
from swin_gui import api
from swin_gui.explain.rollout import rollout
from swin_gui.model import Recorder


@pytest.fixture(scope="module")
def xs():
    torch.manual_seed(11)
    return torch.randn(3, 3, 100, 76) * 0.5  # 25 x 19 tokens: padded windows at stage 0


def one_by_one(model, xs, method, target=None, **kw):
    """Each image alone (a per-image target list handed out one by one)."""
    out = []
    for i in range(len(xs)):
        t = target[i] if isinstance(target, list) else target
        out.append(swin_gui.explain(model, xs[i : i + 1], method=method, target=t, **kw))
    return out


CASES = [
    ("gradcam", dict(stage=2, target="top")),
    ("gradcam", dict(stage=3, target=[1, 5, 2])),
    ("rollout", dict()),
    ("rollout", dict(stage=1, block=1, token=(5, 4), shift="off")),
    ("rollout", dict(target=[3, 0, 7])),  # Chefer et al., a class per image
    ("erf", dict(stage=1, block=0, token=(3, 2))),
    ("reach", dict(stage=2, block=1)),
    ("scorecam", dict(stage=1, target=4, batch=5)),  # 32 channels: 96 masked images
]


@pytest.mark.parametrize(("method", "kw"), CASES)
def test_batch_equals_one_by_one(tiny_model, xs, method, kw):
    batch = swin_gui.explain(tiny_model, xs, method=method, **kw)
    singles = one_by_one(tiny_model, xs, method, **kw)
    assert isinstance(batch, list) and len(batch) == 3
    for b, s in zip(batch, singles, strict=True):
        assert b.map.shape == s.map.shape == (100, 76) and b.map.dtype == s.map.dtype
        assert b.target == s.target and (b.stage, b.block, b.token) == (s.stage, s.block, s.token)
        if method == "reach":
            assert np.array_equal(b.map, s.map)
        else:
            scale = max(float(np.abs(s.map).max()), 1e-30)
            np.testing.assert_allclose(b.map, s.map, rtol=1e-4, atol=1e-5 * scale)
        for k, v in s.figures.items():
            if isinstance(v, float):
                assert b.figures[k] == pytest.approx(v, rel=1e-4, abs=1e-6), k
            else:
                assert b.figures[k] == v, k
    if isinstance(kw.get("target"), list):
        assert [b.target for b in batch] == kw["target"]
    if method != "reach":  # three different images give three different maps
        assert not np.allclose(batch[0].map, batch[1].map)


def test_a_list_of_images_is_a_batch(tiny_model, xs):
    images = [xs[i] for i in range(3)]  # (3, H, W) tensors
    got = swin_gui.explain(tiny_model, images, method="gradcam", stage=3)
    assert [r.map.shape for r in got] == [(100, 76)] * 3
    assert len(swin_gui.explain(tiny_model, images[:1], method="gradcam")) == 1  # still a list
    single = swin_gui.explain(tiny_model, xs[:1], method="gradcam")  # one image: no list
    assert single.map.shape == (100, 76)


def test_batch_errors_are_one_line(tiny_model, xs):
    with pytest.raises(ValueError, match="different sizes"):
        swin_gui.explain(tiny_model, [xs[0], xs[1, :, :96]], method="gradcam", size="native")
    with pytest.raises(ValueError, match="2 targets for 3 images"):
        swin_gui.explain(tiny_model, xs, method="gradcam", target=[1, 2])
    with pytest.raises(ValueError, match="one image"):
        rollout(tiny_model, xs)


def dense_rollout(trace, stage: int) -> np.ndarray:
    """Textbook rollout with dense (tokens × tokens) matrices, from the eager Trace: per
    block Â = row-normalised 0.5·A + 0.5·I, A the heads' mean placed at the original
    tokens (the Trace's own window_tokens undoes pad/roll/partition); merging splits a
    token evenly over its real 2 × 2 children; start uniform at the last block."""
    st = trace.stages[stage]
    H, W = st.resolution
    v = np.full(H * W, 1.0 / (H * W))
    for s in range(stage, -1, -1):
        st = trace.stages[s]
        H, W = st.resolution
        for b in reversed(st.blocks):
            A = np.zeros((H * W, H * W))
            attn = b.attn.astype(np.float64).mean(1)  # nW, N, N
            for w in range(attn.shape[0]):
                rc = b.window_tokens(w)  # N, 2 original (row, col)
                real = (rc[:, 0] < H) & (rc[:, 1] < W)
                t = rc[:, 0] * W + rc[:, 1]
                A[np.ix_(t[real], t[real])] = attn[w][np.ix_(real, real)]
            A = 0.5 * A + 0.5 * np.eye(H * W)
            v = v @ (A / A.sum(1, keepdims=True))
        if s > 0:
            h, w_ = trace.stages[s].resolution
            Hb, Wb = trace.stages[s - 1].resolution
            parent = ((np.arange(Hb)[:, None] // 2) * w_ + np.arange(Wb)[None, :] // 2).ravel()
            count = np.bincount(parent, minlength=h * w_)
            v = (v / count)[parent]
    return v


def test_rollout_equals_a_dense_textbook_rollout(tiny_model, xs):
    trace = api.capture(tiny_model, xs[:1], eager=True)
    want = dense_rollout(trace, 3)  # stage-0 tokens, 25 x 19
    _, figs = rollout(tiny_model, xs[:1], keep_vectors=True)
    got = figs["vectors"][-1][1].numpy()  # after stage 0 block 0: the stage-0 vector
    assert figs["vectors"][-1][0] == (0, 0)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-9)
    assert got.sum() == pytest.approx(1.0, abs=1e-12) and want.sum() == pytest.approx(1.0)


def test_head_mean_record_is_the_eager_attention_computed_once(tiny_model, xs):
    eager, mean = Recorder(attention=True, mid=False), Recorder(attention="mean", mid=False)
    with torch.no_grad():
        plain = tiny_model(xs)
        full = tiny_model(xs, eager)
        once = tiny_model(xs, mean)
    torch.testing.assert_close(full, plain, rtol=0, atol=0)  # eager: the fused output
    torch.testing.assert_close(once, plain, rtol=1e-4, atol=1e-5)  # probs @ v instead
    keys = [k for k in eager.data if k.endswith(".attn")]
    assert len(keys) == 8
    for k in keys:
        a, m = eager.data[k], mean.data[k + "_mean"]  # (B·nW, heads, N, N), (B·nW, N, N)
        assert m.shape == a.shape[:1] + a.shape[2:] and k not in mean.data
        torch.testing.assert_close(m, a.mean(1), rtol=1e-4, atol=1e-6)


def test_batched_evaluation_equals_scene_by_scene(tiny_model):
    """`evaluate --explain` batches the scenes and shares Score-CAM's masked passes between
    a scene's two targets; its figures equal the methods run one target at a time."""
    from swin_gui.demo import explain_eval as ev
    from swin_gui.demo.train import to_tensor

    table = {k: v for k, v in ev.methods().items() if k in ("gradcam s3", "rollout chefer")}
    got = ev.run(tiny_model, "two", 1, table, n_auc=0, n_score=1)
    want: dict = {name: {"point": [], "point_other": [], "energy": []} for name in got}
    for i, (image, targets) in enumerate(ev._scenes("two", 1)):
        x = to_tensor([image], tiny_model.cfg)
        for k, mask, other in targets:
            heats = {
                "gradcam s3": swin_gui.explain(tiny_model, x, "gradcam", 3, target=k).map,
                "rollout chefer": swin_gui.explain(tiny_model, x, "rollout", target=k).map,
            }
            if i < 1:
                heats["scorecam s3"] = swin_gui.explain(
                    tiny_model, x, "scorecam", 3, target=k, batch=64
                ).map
            for name, heat in heats.items():
                heat = heat.astype(np.float64)
                want[name]["point"].append(float(ev.hits(heat, mask)))
                want[name]["point_other"].append(float(ev.hits(heat, other)))
                want[name]["energy"].append(ev.energy(heat, mask))
    assert set(got) == {"gradcam s3", "rollout chefer", "scorecam s3"}
    for name, r in want.items():
        assert got[name]["point"] == pytest.approx(np.mean(r["point"]))
        assert got[name]["point_other"] == pytest.approx(np.mean(r["point_other"]))
        assert got[name]["energy"] == pytest.approx(np.mean(r["energy"]), rel=1e-4)


def test_rollout_runs_one_pass_and_stops_after_the_last_softmax(tiny_model, xs):
    runs = {"embed": 0, "last mlp": 0, "head": 0}

    def count(name):
        return lambda *_: runs.__setitem__(name, runs[name] + 1)

    hooks = [
        tiny_model.patch_embed.register_forward_hook(count("embed")),
        tiny_model.layers[3].blocks[1].mlp.register_forward_hook(count("last mlp")),
        tiny_model.head.register_forward_hook(count("head")),
    ]
    try:
        rollout(tiny_model, xs[:1])
    finally:
        for h in hooks:
            h.remove()
    assert runs == {"embed": 1, "last mlp": 0, "head": 0}
