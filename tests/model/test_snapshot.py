"""The headless snapshot: every registered view gives its figure for a validated selection
(one-line errors), the same figure the view function builds."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.render import figure as F
from swin_gui.render import layout as L
from swin_gui.render.registry import NAMES, VIEWS, view
from swin_gui.render.snapshot import render_snapshot, snapshot_selection


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("stage", [0, 3])
def test_every_view_gives_a_figure_with_text_at_every_stage(trace224, name, stage):
    fig = render_snapshot(trace224, name, stage=stage, block=1, token=(1, 1))
    assert isinstance(fig, F.Figure) and fig.view == name
    assert fig.title and fig.plots and fig.texts()
    lay = L.layout(fig, 500, 400)
    assert all(p.box[2] > 0 and p.box[3] > 0 for p in lay.placements)


@pytest.mark.parametrize("spec", VIEWS, ids=NAMES)
def test_snapshot_equals_the_view_function(trace224, spec):
    kw = {"stage": 1, "block": 1, "head": 1, "token": (3, 5)}
    a = render_snapshot(trace224, spec.name, **kw)
    b = spec.figure_function()(trace224, snapshot_selection(trace224, **kw))
    assert a.texts() == b.texts()
    if a.data is not None:
        np.testing.assert_array_equal(a.data, b.data)


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
    with pytest.raises(ValueError, match=r"^unknown view 'nope'; choose one of: grid, attention"):
        render_snapshot(trace224, "nope")
    with pytest.raises(ValueError, match="unknown view"):
        view("nope")
