"""The shared canvas and panel plumbing: the picture is smoothed only while drawn smaller
than 1:1 (legible captions when shrunk, crisp tokens when zoomed in), on every panel."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QApplication

from swin_gui.app.panels.attention import AttentionPanel
from swin_gui.app.panels.base import ImageCanvas

SMOOTH = QPainter.RenderHint.SmoothPixmapTransform


def smooth(canvas: ImageCanvas) -> bool:
    QApplication.processEvents()  # the view box settles its range on the next pass
    return bool(canvas.renderHints() & SMOOTH)


def test_canvas_smooths_only_while_shrunk(qtbot):
    canvas = ImageCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(200, 200)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.show_rgb(np.zeros((800, 800, 3), np.uint8))  # about 4 picture px per screen px
    assert smooth(canvas)
    canvas.view.setRange(QRectF(0, 0, 40, 40), padding=0)  # zoomed in: 5 screen px per px
    assert not smooth(canvas)
    canvas.view.autoRange(padding=0)
    assert smooth(canvas)


def test_a_panel_without_its_own_filter_gets_it(make_panel, trace224):
    panel = make_panel(AttentionPanel, trace224, (320, 360))  # a ~1000 px wide picture
    assert panel.picture.rgb.shape[1] > 2 * panel.canvas.width()
    assert smooth(panel.canvas)


def test_a_new_token_does_not_resize_the_picture(make_panel, trace224):
    """Captions only grow, so a caption that wraps differently for the next token does not
    re-lay out the panel (which painted the picture twice per change)."""
    panel = make_panel(AttentionPanel, trace224, (320, 360))
    session = panel.session
    sizes, heights = set(), []
    for i in range(12):
        session.select(stage=0, block=1, token=((i * 7) % 56, (i * 11) % 56))
        QApplication.processEvents()
        sizes.add(panel.canvas.size().toTuple())
        heights.append(panel.caption.minimumHeight())
    assert heights == sorted(heights)  # never shrinks
    assert heights[-1] >= panel.caption.heightForWidth(panel.caption.width())
    assert len(sizes) <= 2  # at most one growth step, not a resize per token
