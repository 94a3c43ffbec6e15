"""A big block's attention is computed off the GUI thread: a block change shows a clear
"computing attention…" placeholder at once, token changes and the event loop go on while
it is computed (slowed here to stand in for a 12 MP image), then the panel draws it. Small
traces draw at once, as before."""

from __future__ import annotations

import itertools
import time

import pytest
from PySide6.QtCore import QTimer

from swin_gui.app.panels import attention as attention_panel
from swin_gui.model import ondemand

SLOW_S = 1.0


@pytest.fixture
def slow_attention(monkeypatch):
    """Every block's attention goes to the background and takes `SLOW_S` longer."""
    monkeypatch.setattr(attention_panel, "BACKGROUND_BYTES", 0)
    compute = ondemand.OnDemand._compute

    def slow(self, block, name):
        if name == "attn":
            time.sleep(SLOW_S)
        return compute(self, block, name)

    monkeypatch.setattr(ondemand.OnDemand, "_compute", slow)


def keys(panel) -> list[str]:
    return [p.key for p in panel.figure.plots]


def test_a_new_block_never_blocks_the_gui_thread(
    threaded, slow_attention, qtbot, make_window, tiny_model, make_image
):
    window = make_window(tiny_model, make_image("a.png", 96, 96), size=224)
    assert not window.worker.sync
    panel, s = window.panels["attention"], window.session
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=20_000)  # block 0.0 drawn
    ticks = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    t0 = time.perf_counter()
    s.select(step="block", stage=0, block=1)  # its attention is not computed yet
    changed_ms = (time.perf_counter() - t0) * 1e3
    assert keys(panel) == ["pending"]
    assert "computing attention… (stage 0 · block 1)" in panel.caption.full
    t1 = time.perf_counter()
    s.select(token=(3, 4))  # a token change while it computes: answered at once
    token_ms = (time.perf_counter() - t1) * 1e3
    assert keys(panel) == ["pending"]
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=20_000)
    drawn_s = time.perf_counter() - t0
    timer.stop()
    assert s.trace.block(0, 1).computed("attn")
    assert "stage 0" in panel.heading.full and "block 1" in panel.heading.full
    assert changed_ms < 300 and token_ms < 300, (changed_ms, token_ms)
    assert drawn_s >= SLOW_S  # the computation itself really took that long...
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.5, max(gaps)  # ...and the event loop kept turning meanwhile


def test_going_back_to_a_computed_block_draws_at_once(
    threaded, slow_attention, qtbot, make_window, tiny_model, make_image
):
    window = make_window(tiny_model, make_image("a.png", 96, 96), size=224)
    panel, s = window.panels["attention"], window.session
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=20_000)
    s.select(step="block", stage=0, block=1)
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=20_000)
    s.select(block=0)  # held in the trace's cache: no placeholder
    assert "pending" not in keys(panel)


def test_the_newest_block_wins(
    threaded, slow_attention, qtbot, make_window, tiny_model, make_image
):
    window = make_window(tiny_model, make_image("a.png", 96, 96), size=224)
    panel, s = window.panels["attention"], window.session
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=20_000)
    for stage, block in ((0, 1), (1, 0), (1, 1)):  # quick block changes
        s.select(step="block", stage=stage, block=block)
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=30_000)
    assert "stage 1" in panel.heading.full and "block 1" in panel.heading.full
    assert not s.trace.block(1, 0).computed("attn")  # superseded before it ran


def test_small_traces_draw_at_once(qtbot, make_window, tiny_model, make_image):
    window = make_window(tiny_model, make_image("a.png", 96, 96), size=224)
    panel, s = window.panels["attention"], window.session
    s.select(step="block", stage=0, block=1)
    assert "pending" not in keys(panel) and s.trace.block(0, 1).computed("attn")


def test_export_of_a_waiting_panel_computes_first(
    threaded, slow_attention, qtbot, make_window, tiny_model, make_image, tmp_path
):
    window = make_window(tiny_model, make_image("a.png", 96, 96), size=224)
    panel, s = window.panels["attention"], window.session
    s.select(step="block", stage=0, block=1)
    assert keys(panel) == ["pending"]
    written = panel.export(tmp_path / "attention.png")
    assert "pending" not in keys(panel) and written[0].exists()


def test_big_block_norms_are_computed_in_the_background(
    threaded, qtbot, monkeypatch, make_window, tiny_model, make_image
):
    from swin_gui.app.panels import internals

    monkeypatch.setattr(internals, "BACKGROUND_BYTES", 0)
    norms = internals.block_norms
    monkeypatch.setattr(internals, "block_norms", lambda t: time.sleep(SLOW_S) or norms(t))
    window = make_window(tiny_model, make_image("b.png", 96, 96, seed=4), size=224)
    panel = window.panels["internals"]
    window.go_to(view="internals")
    qtbot.waitUntil(lambda: panel.figure is not None, timeout=20_000)
    assert keys(panel) == ["pending"]
    assert "computing every block's norms…" in panel.caption.full
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=20_000)
    assert "chart" in keys(panel)
    panel.refresh()  # computed once per trace: drawn at once now
    assert "pending" not in keys(panel)


def test_a_huge_block_computes_the_row_of_windows_of_the_token(
    threaded, qtbot, monkeypatch, make_window, tiny_model, make_image
):
    """A block too big to hold whole (a 12 MP photo's stage 0) computes, in the background,
    only the row of windows holding the selected token; a token in that row draws at once,
    one in another row waits for its own row."""
    monkeypatch.setattr(attention_panel, "BACKGROUND_BYTES", 0)
    monkeypatch.setattr(ondemand, "WHOLE_BYTES", 0)
    window = make_window(tiny_model, make_image("a.png", 96, 96), size=224)
    panel, s = window.panels["attention"], window.session
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=20_000)
    s.select(step="block", stage=0, block=1, token=(0, 0))
    assert keys(panel) == ["pending"]
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=20_000)
    bt = s.trace.block(0, 1)
    nWh, nWw = bt.window_grid
    assert nWh > 1 and not bt.computed("attn") and not bt.computed("mask")
    row = bt.locate(0, 0)[0] // nWw
    same_row = next(
        (r, c)
        for r in range(bt.resolution[0])
        for c in range(bt.resolution[1])
        if bt.locate(r, c)[0] // nWw == row and bt.locate(r, c)[0] != bt.locate(0, 0)[0]
    )
    s.select(token=same_row)  # another window of the computed row: drawn at once
    assert "pending" not in keys(panel)
    other = next((r, 0) for r in range(bt.resolution[0]) if bt.locate(r, 0)[0] // nWw != row)
    s.select(token=other)  # another row: computed in the background in its turn
    assert keys(panel) == ["pending"]
    qtbot.waitUntil(lambda: "pending" not in keys(panel), timeout=20_000)
    assert not bt.computed("attn")
