"""The headless snapshot: every registered view gives its figure for a validated selection
(worked out by hand; one-line errors), and the registry names exactly the views whose files
exist."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import swin_gui.render as render_package
from swin_gui.render import figure as F
from swin_gui.render import layout as L
from swin_gui.render.registry import NAMES, view
from swin_gui.render.snapshot import render_snapshot, snapshot_selection


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("stage", [0, 3])
def test_every_view_gives_a_figure_with_text_at_every_stage(trace224, name, stage):
    fig = render_snapshot(trace224, name, stage=stage, block=1, token=(1, 1))
    assert isinstance(fig, F.Figure) and fig.view == name
    assert fig.title and fig.plots and fig.texts()
    lay = L.layout(fig, 500, 400)
    assert all(p.box[2] > 0 and p.box[3] > 0 for p in lay.placements)


def test_the_registry_and_the_view_files_agree():
    """A view is two files and one registry line: deleting the line (or a file) fails here
    instead of dropping the view's tests silently. Read from the files, not the registry."""
    render = Path(render_package.__file__).parent
    panels = render.parent / "app" / "panels"  # read as text: no Qt import here
    figures = {p.stem for p in render.glob("*.py") if f"def figure_{p.stem}(" in p.read_text()}
    panel_files = {
        p.stem for p in panels.glob("*.py") if f"class {p.stem.capitalize()}Panel(" in p.read_text()
    }
    assert figures == panel_files == set(NAMES)
    assert len(NAMES) == len(set(NAMES))


def test_snapshot_selection_by_hand(trace224):
    """Stage 1 of a 224 input: a 28 x 28 grid, M = 7, a 4 x 4 window grid; block 1 shifts
    by s = 3, so token (2, 5) rolls to (27, 2): window row 3, column 0, index 12; drawn
    without the shift it lies in window 0."""
    sel = snapshot_selection(trace224, stage=1, block=1, head=1, token=(2, 5))
    assert (sel.step, sel.stage, sel.block, sel.head, sel.token) == ("block", 1, 1, 1, (2, 5))
    assert sel.window == 12
    regular = snapshot_selection(trace224, stage=1, block=1, token=(2, 5), shift_view=False)
    assert regular.window == 0 and regular.head is None
    assert snapshot_selection(trace224).window == 0  # no token: the first window


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


def test_a_snapshot_of_the_shift_turned_off_draws_the_ablation(trace224, tiny_model):
    from swin_gui.api import ablate_shift
    from swin_gui.render.snapshot import needs_ablation

    off = dict(stage=0, block=1, shift_view=False)
    assert needs_ablation(trace224, "shift", **off)
    assert not needs_ablation(trace224, "shift", stage=0, block=1, shift_view=True)
    assert not needs_ablation(trace224, "shift", stage=0, block=0, shift_view=False)  # W-MSA
    assert not needs_ablation(trace224, "mask", **off)
    waiting = render_snapshot(trace224, "shift", **off)
    ablation = ablate_shift(tiny_model, trace224, 0, 1)
    done = render_snapshot(trace224, "shift", ablation=ablation, **off)
    heat = next(p for p in done.plots if p.key == "ablation").layers[0]
    expected = np.linalg.norm(ablation - trace224.block(0, 1).out, axis=-1)
    np.testing.assert_allclose(heat.data, expected, rtol=1e-5, atol=1e-6)
    assert not any(
        getattr(lay, "data", None) is not None
        for p in waiting.plots
        if p.key == "ablation"
        for lay in p.layers
    )  # only the "computing" line
