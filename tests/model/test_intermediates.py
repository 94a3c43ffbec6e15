"""`forward_intermediates` follows timm's API (indices, norm, stop_early,
intermediates_only) and, on timm's weights, gives timm's feature pyramid."""

from __future__ import annotations

import pytest
import torch

from swin_gui.model import SwinConfig, SwinTransformer

SMALL = SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), num_classes=8)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return SwinTransformer(SMALL).eval()


def test_indices_norm_and_stop_early(model):
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        final, outs = model.forward_intermediates(x)
        assert [o.shape[1:] for o in outs] == [(16, 32, 32), (32, 16, 16), (64, 8, 8), (128, 4, 4)]
        torch.testing.assert_close(final, model.forward_features(x))
        last2 = model.forward_intermediates(x, indices=2, intermediates_only=True)
        assert [o.shape[1] for o in last2] == [64, 128]
        torch.testing.assert_close(last2[1], outs[3])
        normed = model.forward_intermediates(x, indices=[-1], norm=True, intermediates_only=True)
        torch.testing.assert_close(normed[0], final.permute(0, 3, 1, 2))
        assert not torch.allclose(normed[0], outs[3])  # the norm did something
        early, first = model.forward_intermediates(x, indices=[0], stop_early=True)
        assert early.shape == (1, 32, 32, 16) and len(first) == 1  # stage 0, not normed
        with pytest.raises(ValueError, match="out of range"):
            model.forward_intermediates(x, indices=5)


@pytest.mark.timm
def test_equals_timm_forward_intermediates(tmp_path):
    timm = pytest.importorskip("timm", reason="timm is a reference-only package")
    from swin_gui.model.checkpoints import load_checkpoint

    ref = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False).eval()
    torch.save(ref.state_dict(), tmp_path / "t.pth")
    ours = load_checkpoint(tmp_path / "t.pth").model.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        for kwargs in ({}, {"indices": 2, "norm": True}, {"indices": [0, 2]}):
            f_ref, i_ref = ref.forward_intermediates(x, **kwargs)
            f_ours, i_ours = ours.forward_intermediates(x, **kwargs)
            torch.testing.assert_close(f_ours, f_ref, atol=1e-4, rtol=0)
            for a, b in zip(i_ours, i_ref, strict=True):
                torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
