"""The headless snapshot dispatcher: every view renders, selections are validated with
one-line errors, and a snapshot equals what the view function itself draws."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from swin_gui.render.selection import Selection
from swin_gui.render.snapshot import RENDERERS, VIEWS, render_snapshot, renderer


def _require(view: str) -> None:
    """Views are written by several people; skip only while a module is missing."""
    module = RENDERERS[view][0]
    if importlib.util.find_spec(f"swin_gui.render.{module}") is None:
        pytest.skip(f"swin_gui/render/{module}.py is not written yet")


def test_views_list():
    assert VIEWS[:5] == ("grid", "shift", "mask", "attention", "bias")
    assert {"pyramid", "merging", "internals", "predictions"} <= set(VIEWS)


@pytest.mark.parametrize("stage", [0, 3])
@pytest.mark.parametrize("view", VIEWS)
def test_every_view_renders(trace224, view, stage):
    _require(view)
    pic = render_snapshot(trace224, view, stage=stage, block=1, token=(1, 1))
    assert pic.rgb.dtype == np.uint8 and pic.rgb.ndim == 3 and pic.rgb.shape[2] == 3
    assert pic.rgb.shape[0] > 16 and pic.rgb.shape[1] > 16
    assert pic.rgb.std() > 0  # not a blank canvas


@pytest.mark.parametrize("view", ["pyramid", "merging", "internals", "predictions"])
def test_snapshot_equals_the_view_function(trace224, view):
    kw = dict(stage=2, block=1, token=(3, 4), feature_mode="pca")
    pic = render_snapshot(trace224, view, **kw)
    sel = Selection(step="block", window=trace224.block(2, 1).locate(3, 4)[0], **kw)
    np.testing.assert_array_equal(pic.rgb, renderer(view)(trace224, sel).rgb)


def test_title_strip(trace224):
    plain = render_snapshot(trace224, "pyramid")
    titled = render_snapshot(trace224, "pyramid", title=True)
    assert titled.rgb.shape[0] > plain.rgb.shape[0]
    np.testing.assert_array_equal(
        titled.rgb[-plain.rgb.shape[0] :, : plain.rgb.shape[1]], plain.rgb
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stage": 5}, "stage 5 out of range: this model has stages 0..3"),
        ({"stage": -1}, "stage -1 out of range: this model has stages 0..3"),
        ({"stage": 1, "block": 2}, "block 2 out of range: stage 1 has blocks 0..1"),
        ({"stage": 3, "head": 4}, "head 4 out of range: stage 3 has heads 0..3"),
        ({"stage": 1, "token": (28, 0)}, "token (28, 0) out of range: stage 1 has rows 0..27"),
        ({"feature_mode": "rgb"}, "unknown feature mode 'rgb'"),
        ({"stage": 0, "channel": 16}, "channel 16 out of range: stage 0 has channels 0..15"),
    ],
)
def test_bad_selection_is_a_one_line_value_error(trace224, kwargs, message):
    with pytest.raises(ValueError) as info:
        render_snapshot(trace224, "pyramid", **kwargs)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_unknown_view(trace224):
    with pytest.raises(ValueError, match=r"^unknown view 'nope'; choose one of: grid, shift"):
        render_snapshot(trace224, "nope")
