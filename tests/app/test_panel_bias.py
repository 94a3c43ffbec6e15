"""BiasPanel two-way sync with real mouse events: clicking a head's table selects the head
(the mean selects None), session changes move the frame and the token row, hovering a table
cell reads "bias logit …" with its offset and the key it points to, and an expansion cell
hovers its query and key and a click follows the key."""

from __future__ import annotations

import pytest

from swin_gui.analysis.attention import window_keys
from swin_gui.app.panels.bias import BiasPanel
from swin_gui.app.state import Hover
from swin_gui.render import figure as F


@pytest.fixture
def panel(make_panel, trace224) -> BiasPanel:
    return make_panel(BiasPanel, trace224)


def _framed(panel) -> list[str]:
    return [p.key for p in panel.figure.plots if p.frame == "selected"]


def test_clicking_a_table_selects_its_head(qtbot, panel, figure_mouse):
    session = panel.session
    session.select(stage=3, block=1)  # 4 heads
    assert _framed(panel) == ["mean"]
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "head2", 0.0, 0.0)
    assert session.selection.head == 2 and _framed(panel) == ["head2"]
    assert panel.heading.full.endswith("head 2")
    token = session.selection.token
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "mean", 3.0, -2.0)
    assert session.selection.head is None and session.selection.token == token  # head only


def test_session_changes_redraw(panel, trace224):
    session = panel.session
    session.select(stage=2, block=0, head=1)
    assert _framed(panel) == ["head1"]
    bt = trace224.block(2, 0)
    matrix = panel.figure.plot("matrix")
    assert matrix.layers[0].data[3, 4] == pytest.approx(float(bt.bias[1, 3, 4]))
    session.select(token=(8, 9))  # W-MSA, 14×14: window 3, position 1·7 + 2 = 9
    rows = [r for r in panel.figure.plot("matrix").layers if isinstance(r, F.Rects)]
    assert tuple(rows[0].rects[0]) == (0, 9, 49, 1)


def test_hovering_a_table_cell_names_the_offset_key(qtbot, panel, figure_mouse, trace224):
    session = panel.session
    session.select(stage=2, block=0, head=0, token=(6, 6))
    messages: list[str] = []
    session.message.connect(messages.append)
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        figure_mouse.move(panel, "head1", 1.0, 2.0)  # Δcol 1, Δrow 2: key (4, 5)
    assert blocker.args[0] == Hover(2, ((6, 6), (4, 5)), "bias")
    table_value = panel.figure.plot("head1").hits[0].values[2 + 6, 1 + 6]
    assert messages[-1] == (
        f"bias logit {F.format_value(float(table_value))} · offset (Δrow, Δcol) = (2, 1)"
        " · query (6, 6) → key (4, 5)"
    )
    # query (6, 6) is position 6·7 + 6 = 48, key (4, 5) position 4·7 + 5 = 33
    assert table_value == pytest.approx(float(trace224.block(2, 0).bias[1, 48, 33]))


def test_expansion_cells_hover_and_click(qtbot, panel, figure_mouse, trace224):
    session = panel.session
    session.select(stage=1, block=1, token=(5, 9))  # s = 3: window 0
    keys, _ = window_keys(trace224.block(1, 1), 0)
    with qtbot.waitSignal(session.hoverChanged, timeout=2000) as blocker:
        figure_mouse.move(panel, "matrix", 3.5, 20.5)  # query 20 → key 3
    assert blocker.args[0].tokens == ((5, 9), tuple(int(v) for v in keys[3]))
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        figure_mouse.click(panel, "matrix", 3.5, 20.5)
    assert session.selection.token == (3, 6)  # key 3 of window 0: (0 + 3, 3 + 3)
