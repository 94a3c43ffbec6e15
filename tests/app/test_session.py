"""Session rules the views rely on: a token carried through a coarse stage comes back to
where it was, and at launch every panel agrees on the selected window."""

from __future__ import annotations

from swin_gui.app.state import Session
from swin_gui.render.common import selected_window
from swin_gui.render.selection import view_shift


def test_a_round_trip_through_stage_3_keeps_the_token(trace224):
    s = Session()
    s.set_trace(trace224)
    s.select(stage=0, block=0, token=(28, 28))
    s.select(stage=3, block=0)
    assert s.selection.token == (3, 3)  # (28.5 / 8) rounded down
    s.select(stage=0, block=0)
    assert s.selection.token == (28, 28)  # it used to come back as (24, 24)
    s.select(stage=2)
    s.select(token=(5, 1))  # a token chosen on a coarse stage becomes the anchor
    s.select(stage=0)
    assert s.selection.token == (22, 6)  # the centre of that stage-2 token


def test_at_launch_the_selected_window_is_the_selected_tokens(trace224):
    s = Session()
    s.set_trace(trace224)
    sel = s.selection
    block = trace224.block(sel.stage, sel.block)
    assert sel.token is not None
    assert sel.window == selected_window(block, sel, view_shift(block, sel))
    s.select(block=1)
    sel = s.selection
    block = trace224.block(0, 1)
    assert sel.window == block.locate(*sel.token, shift=block.shift)[0]


def test_stepped_is_the_selection_step_by_makes(trace224):
    """`stepped` (what a panel prepares while idle) must be exactly where ←/→ goes."""
    session = Session()
    session.set_trace(trace224)
    session.select(stage=0, block=0, token=(40, 13))
    for delta in (+1, +1, +1, -1, +1, +1, +1, +1, +1, +1, +1, -1):
        expected = session.stepped(delta)
        session.step_by(delta)
        assert session.selection == expected
    assert Session().stepped(1) is None  # no trace
