"""The shared figure view and panel plumbing: bounded zoom that a new image resets and a
step keeps, Fit, headings that elide instead of re-laying out, values on hover, and hover
outlines that do not outlive their trace."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from swin_gui.app.panels.grid import GridPanel
from swin_gui.app.state import Hover


@pytest.fixture
def panel(make_panel, trace224) -> GridPanel:
    return make_panel(GridPanel, trace224, (600, 600))


def wheel(view, steps: int) -> None:
    pos = QPointF(view.viewport().rect().center())
    event = QWheelEvent(
        pos,
        view.mapToGlobal(pos.toPoint()),
        QPoint(),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.wheelEvent(event)


def test_zoom_is_bounded_kept_across_steps_and_reset_by_a_new_image(panel, trace224):
    view = panel.view
    wheel(view, 3)
    assert view.zoom == pytest.approx(1.25**3)
    wheel(view, 100)
    assert view.zoom == 16.0  # zoom-in bound
    wheel(view, -200)
    assert view.zoom == pytest.approx(view.min_zoom())  # never smaller than the whole figure
    assert view.zoom > 0.2
    wheel(view, 4)
    kept = view.zoom
    panel.session.select(stage=1, block=1)
    assert view.zoom == kept  # a step keeps the panel's zoom
    panel.session.set_trace(trace224)
    assert view.zoom == 1.0  # a new image resets it


def test_fit_by_double_click_and_labels_keep_their_size(qtbot, panel):
    view = panel.view
    panel.session.select(block=1)  # SW-MSA: the 9 region labels
    sizes = {label.pixel_size for label in view.figure_scene.labels}
    wheel(view, 5)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton)
    assert view.zoom == 1.0
    assert {label.pixel_size for label in view.figure_scene.labels} == sizes
    assert min(sizes) >= round(9 * view.logicalDpiY() / 72)


def test_a_longer_heading_elides_and_keeps_the_layout(panel):
    hint = panel.heading.sizeHint().width(), panel.minimumSizeHint().width()
    panel.heading.set_full_text("Window grid · " + "very long heading " * 20)
    assert panel.heading.toolTip().startswith("Window grid")
    assert panel.heading.text().endswith("…")
    assert (panel.heading.sizeHint().width(), panel.minimumSizeHint().width()) == hint


def test_hover_puts_the_value_and_token_in_the_status_bar(qtbot, panel, figure_mouse):
    messages = []
    panel.session.message.connect(messages.append)
    tp = 4  # stage 0 tokens are 4 px
    figure_mouse.move(panel, "image", 10 * tp + 1, 3 * tp + 1)
    assert messages and messages[-1].startswith("token (3, 10) → window")


def test_hover_outlines_from_another_panel_are_cleared_by_a_new_trace(panel, trace224):
    scene = panel.view.figure_scene
    panel.session.set_hover(Hover(0, ((3, 3),), "attention"))
    assert not scene.highlight.path().isEmpty()
    panel.session.set_trace(trace224)
    assert scene.highlight.path().isEmpty()
