"""Keyboard and navigator: every step of a Swin-T-shaped trace (depths 2, 2, 6, 2) with
←/→, stages with PgUp/PgDn, heads 1–9/0, the S shift-view toggle (and its ablation),
Shift+arrows for the token, and two-way sync between the navigator and the session."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from swin_gui.app.navigator import step_label
from swin_gui.app.state import Step


@pytest.fixture
def window(make_window, narrow_t_model, make_image, qtbot):
    w = make_window(narrow_t_model, make_image("scene.png", 224, 224))
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    return w


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window, k, modifier)


def assert_at(window, step: Step) -> None:
    nav, session = window.navigator, window.session
    assert session.current_step() == step
    assert nav.current_step() == step
    assert nav.tree.currentItem().text(0) == step_label(session.trace, step)


def test_arrows_walk_every_step(qtbot, window):
    session = window.session
    steps = session.steps()
    # embed, 4 stages of blocks (2+2+6+2), 3 mergings, final norm, head
    assert len(steps) == 1 + 12 + 3 + 2
    assert [s.kind for s in steps].count("merge") == 3
    key(qtbot, window, Qt.Key.Key_Left)  # from stage 0 block 0 back to the patch embed
    assert_at(window, steps[0])
    for step in steps[1:]:
        key(qtbot, window, Qt.Key.Key_Right)
        assert_at(window, step)
        sel = session.selection
        assert (sel.step, sel.stage, sel.block) == (step.kind, step.stage, step.block)
    key(qtbot, window, Qt.Key.Key_Right)  # past the end: stays on the head
    assert_at(window, steps[-1])
    for step in reversed(steps[:-1]):
        key(qtbot, window, Qt.Key.Key_Left)
        assert_at(window, step)


def test_breadcrumb_follows(qtbot, window):
    window.session.go_to_step(Step("block", 0, 1))
    text = window.breadcrumb.full
    assert text.startswith("stage 0 · block 1 · SW-MSA · shift 3 · M 7")
    key(qtbot, window, Qt.Key.Key_PageDown)
    assert window.breadcrumb.full.startswith("stage 1 · block 0 · W-MSA · shift 0")


def test_page_keys_move_by_stage(qtbot, window):
    session = window.session
    for stage in (1, 2, 3, 3):
        key(qtbot, window, Qt.Key.Key_PageDown)
        assert (session.selection.stage, session.selection.block) == (stage, 0)
        assert_at(window, Step("block", stage, 0))
    for stage in (2, 1, 0, 0):
        key(qtbot, window, Qt.Key.Key_PageUp)
        assert_at(window, Step("block", stage, 0))


def test_digit_keys_pick_heads(qtbot, window):
    session = window.session
    assert session.selection.head is None
    key(qtbot, window, Qt.Key.Key_2)  # stage 0 has one head: ignored
    assert session.selection.head is None
    key(qtbot, window, Qt.Key.Key_1)
    assert session.selection.head == 0
    session.stage_by(3)  # stage 3: six heads
    for k, head in ((Qt.Key.Key_6, 5), (Qt.Key.Key_3, 2)):
        key(qtbot, window, k)
        assert session.selection.head == head
    key(qtbot, window, Qt.Key.Key_9)  # beyond the head count: ignored
    assert session.selection.head == 2
    key(qtbot, window, Qt.Key.Key_0)
    assert session.selection.head is None


def test_s_toggles_shift_view_and_ablates(qtbot, window):
    session = window.session
    session.go_to_step(Step("block", 0, 1))  # SW-MSA, shift 3
    trace = session.trace
    assert trace.block(0, 1).shift == 3 and session.ablation is None
    key(qtbot, window, Qt.Key.Key_S)
    assert session.selection.shift_view is False
    ablated = session.ablation  # the worker (sync in tests) re-ran the block without shift
    assert ablated is not None and ablated.out.shape == trace.block(0, 1).out.shape
    assert ablated.of(trace, 0, 1) and ablated.shift == 0  # its own typed result
    key(qtbot, window, Qt.Key.Key_S)
    assert session.selection.shift_view is None and session.ablation is None
    key(qtbot, window, Qt.Key.Key_S)  # off again: the ablation comes back
    assert session.selection.shift_view is False and session.ablation is not None
    np.testing.assert_array_equal(session.ablation.out, ablated.out)
    key(qtbot, window, Qt.Key.Key_1)  # other changes keep the ablation of this block
    assert session.ablation is not None
    key(qtbot, window, Qt.Key.Key_S)
    session.go_to_step(Step("block", 0, 0))  # W-MSA: S shows what a shift would do
    key(qtbot, window, Qt.Key.Key_S)
    assert session.selection.shift_view is True and session.ablation is None
    key(qtbot, window, Qt.Key.Key_S)
    assert session.selection.shift_view is None


def test_shift_arrows_move_the_token(qtbot, window):
    session = window.session
    session.select(token=(3, 3))
    mod = Qt.KeyboardModifier.ShiftModifier
    key(qtbot, window, Qt.Key.Key_Right, mod)
    assert session.selection.token == (3, 4)
    key(qtbot, window, Qt.Key.Key_Down, mod)
    assert session.selection.token == (4, 4)
    key(qtbot, window, Qt.Key.Key_Left, mod)
    key(qtbot, window, Qt.Key.Key_Up, mod)
    assert session.selection.token == (3, 3)
    assert session.current_step() == Step("block", 0, 0)  # the step did not move


def test_keys_work_with_the_navigator_focused(qtbot, window):
    window.navigator.tree.setFocus()
    qtbot.waitUntil(window.navigator.tree.hasFocus, timeout=5_000)
    qtbot.keyClick(window.navigator.tree, Qt.Key.Key_Right)
    assert window.session.current_step() == Step("block", 0, 1)


def test_text_field_keeps_its_keys(qtbot, window):
    edit = QLineEdit("abc")
    window.toolbar.addWidget(edit)
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=5_000)
    edit.setCursorPosition(0)
    qtbot.keyClick(edit, Qt.Key.Key_Right)
    qtbot.keyClick(edit, Qt.Key.Key_S)
    assert edit.cursorPosition() == 2 and edit.text() == "asbc"
    assert window.session.current_step() == Step("block", 0, 0)
    assert window.session.selection.shift_view is None


def test_navigator_click_and_session_sync(qtbot, window):
    nav, session = window.navigator, window.session
    merge = Step("merge", 2, 0)
    item = nav.item_for(merge)
    rect = nav.tree.visualItemRect(item)
    qtbot.mouseClick(nav.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert session.current_step() == merge
    assert session.selection.stage == 2
    session.go_to_step(Step("block", 2, 5))  # session -> navigator
    assert nav.current_step() == Step("block", 2, 5)
    assert nav.tree.currentItem().text(0) == "b5 SW-MSA · M 7 · s 3"


def test_navigator_labels(window):
    nav = window.navigator
    labels = [nav.tree.topLevelItem(i).text(0) for i in range(nav.tree.topLevelItemCount())]
    assert labels[0] == "Patch embed 4×4 → 56×56, C=24"
    assert labels[1] == "Stage 0 · 56×56 · 24 ch · 1 head"
    assert "Patch merging 56→28, 24→48" in labels
    assert labels[-2] == "Final norm · 7×7 · 192 ch"
    assert labels[-1].startswith("Head · top-1 '")
    # stage 3 is 7×7 = M: the rule switches the SW-MSA shift off, and the navigator says so
    assert nav.item_for(Step("block", 3, 1)).text(0) == "b1 SW-MSA (shift off: 7×7 ≤ M)"
