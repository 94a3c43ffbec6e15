"""The Concepts panel with real mouse events: a click on a link word selects that block,
window or token in the session (so in every panel); the text follows the selection, the
view it explains (the hook and the focus), re-wraps when the panel is resized, scrolls
with the wheel, and draws its links in the link colour (read back from the pixels)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from swin_gui.app.figure_label import THEMES
from swin_gui.app.panels.concepts import ConceptsPanel
from swin_gui.app.panels.mask import MaskPanel
from swin_gui.render import figure as F
from swin_gui.render.concept_text.textlayout import width_pt
from swin_gui.render.concepts import text_width


@pytest.fixture
def panel(make_panel, trace224) -> ConceptsPanel:
    p = make_panel(ConceptsPanel, trace224, (700, 800))
    p.session.select(stage=1, block=1, token=(27, 27))
    return p


def _hits(panel) -> list[tuple[str, F.HitRegion]]:
    return [(p.key, h) for p in panel.figure.plots for h in p.hits]


def _link(panel, select: dict) -> tuple[str, F.HitRegion]:
    for key, hit in _hits(panel):
        if hit.payload["select"] == select:
            return key, hit
    raise AssertionError(f"no link selecting {select}")


def _centre(hit: F.HitRegion) -> tuple[float, float]:
    x0, y0, x1, y1 = hit.extent
    return (x0 + x1) / 2, (y0 + y1) / 2


def _click(figure_mouse, panel, link: tuple[str, F.HitRegion]) -> None:
    figure_mouse.click(panel, link[0], *_centre(link[1]))


def _words(panel) -> list[F.Text]:
    return [t for p in panel.figure.plots for t in p.layers if isinstance(t, F.Text)]


def _plain(panel) -> str:
    return " ".join(t.text for t in _words(panel))


def test_click_on_a_window_link_selects_that_window(qtbot, panel, figure_mouse):
    session = panel.session
    assert "15 mix regions" not in _plain(panel) and "7 mix regions" in _plain(panel)
    link = _link(panel, {"window": 12})
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        _click(figure_mouse, panel, link)
    assert session.selection.window == 12 and (
        session.selection.stage,
        session.selection.block,
    ) == (1, 1)
    bt = session.trace.block(1, 1)
    assert bt.locate(*session.selection.token)[0] == 12  # the token moved into it
    assert "Window 12" in _plain(panel)  # the text followed


def test_click_on_a_block_link_selects_that_block(qtbot, panel, figure_mouse):
    session = panel.session
    messages: list[str] = []
    session.message.connect(messages.append)
    link = _link(panel, {"step": "block", "stage": 1, "block": 0})
    figure_mouse.move(panel, link[0], *_centre(link[1]))
    assert messages and messages[-1] == "click: select block 1.0"
    assert panel.view.viewport().cursor().shape() == Qt.CursorShape.PointingHandCursor
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        _click(figure_mouse, panel, link)
    assert (session.selection.stage, session.selection.block) == (1, 0)
    assert "Block 1.0 is W-MSA" in _plain(panel)


def test_click_on_a_region_link_selects_a_token_of_it(qtbot, panel, figure_mouse):
    session = panel.session
    bt = session.trace.block(1, 1)
    link = next(kh for kh in _hits(panel) if kh[1].payload["link"].startswith("token"))
    with qtbot.waitSignal(session.selectionChanged, timeout=2000):
        _click(figure_mouse, panel, link)
    token = link[1].payload["select"]["token"]
    assert session.selection.token == token and bt.locate(*token)[0] == 15


def test_follows_the_view_through_the_hook_and_the_focus(qtbot, panel, trace224):
    assert "In this view: Window grid" in _plain(panel)
    panel.set_active_view("shift")
    assert "In this view: Cyclic shift" in _plain(panel)
    panel.set_active_view("no-such-view")  # ignored
    assert panel.active_view == "shift"
    other = MaskPanel(panel.session)
    qtbot.addWidget(other)
    other.show()
    qtbot.waitExposed(other)
    other.activateWindow()
    other.view.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(lambda: panel.active_view == "mask", timeout=2000)
    assert "In this view: Attention mask" in _plain(panel)
    panel.activateWindow()
    panel.view.setFocus()  # its own focus keeps the view it explains
    QApplication.processEvents()
    assert panel.active_view == "mask"


def test_rewraps_to_the_new_width(qtbot, panel):
    wide = panel.figure
    panel.resize(300, 800)
    qtbot.waitUntil(lambda: panel.figure is not wide, timeout=3000)
    room = text_width(panel.width_pt())
    assert max(t.x for t in _words(panel)) < room
    height = sum(p.ylim[1] for p in panel.figure.plots)
    assert height > sum(p.ylim[1] for p in wide.plots)
    assert panel.figure.texts() == wide.texts()


def test_the_text_fills_the_viewport_without_being_shrunk(qtbot, panel):
    panel.resize(500, 400)
    qtbot.wait(200)  # the re-wrap timer
    view = panel.view
    width = view.viewport().width() / view.px_per_pt
    lay = view.figure_scene.info.layout
    room = text_width(width)
    for p in panel.figure.plots:  # laid out at their own size: no word squeezed
        assert lay.of(p.key).box[2] == pytest.approx(p.size[0]) and p.size[0] <= room + 0.5
    assert view.horizontalScrollBar().maximum() == 0


def test_wheel_scrolls_instead_of_zooming(qtbot, panel):
    panel.resize(700, 300)
    qtbot.waitUntil(lambda: panel.view.verticalScrollBar().maximum() > 0, timeout=3000)
    bar = panel.view.verticalScrollBar()
    vp = panel.view.viewport()
    pos = QPointF(vp.width() / 2, vp.height() / 2)
    event = QWheelEvent(
        pos,
        vp.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(vp, event)
    assert bar.value() > 0 and panel.view.zoom == 1.0


def _rgb(name: str) -> np.ndarray:
    h = THEMES["dark"][name].lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)])


def test_links_are_drawn_in_the_link_colour(qtbot, panel):
    panel.view._relayout.stop()
    panel.view._draw()
    image = panel.view.viewport().grab().toImage()
    info = panel.view.figure_scene.info
    ppt = info.px_per_pt

    def pixels(key, x0, y0, x1, y1) -> np.ndarray:
        pl = info.layout.of(key)
        (a, b), (c, d) = pl.to_fig(x0, y0), pl.to_fig(x1, y1)
        view = panel.view
        p0 = view.mapFromScene(QPointF(a * ppt, b * ppt))
        p1 = view.mapFromScene(QPointF(c * ppt, d * ppt))
        out = [
            [image.pixelColor(x, y).getRgb()[:3] for x in range(p0.x(), p1.x())]
            for y in range(p0.y(), p1.y())
        ]
        return np.asarray(out, int).reshape(-1, 3)

    key, hit = _link(panel, {"window": 12})
    link = pixels(key, *hit.extent)
    near = np.abs(link - _rgb("hover")).sum(axis=1) < 60
    assert near.sum() >= 10  # glyph and underline pixels in the link colour
    key, plain = next(
        (p.key, t)
        for p in panel.figure.plots
        for t in p.layers
        if isinstance(t, F.Text) and t.color == "fg" and t.text == "masked"
    )
    box = pixels(key, plain.x, plain.y, plain.x + width_pt(plain.text, 9.0), plain.y + 12)
    assert (np.abs(box - _rgb("fg")).sum(axis=1) < 60).sum() >= 10
    assert (np.abs(box - _rgb("hover")).sum(axis=1) < 60).sum() == 0


def test_in_the_main_window_it_explains_the_raised_or_clicked_view(
    make_window, tiny_model, make_image, qtbot
):
    window = make_window(tiny_model, make_image())
    window.go_to(view="concepts", stage=1, block=1)
    QApplication.processEvents()
    panel = window.panels["concepts"]
    assert panel.isVisible() and panel.active_view == "grid"
    assert "Block 1.1 is SW-MSA" in _plain(panel) and "In this view: Window grid" in _plain(panel)
    window.docks["mask"].raise_()  # a tab raised in the right-hand dock
    qtbot.waitUntil(lambda: "In this view: Attention mask" in _plain(panel), timeout=3000)
    window.panels["internals"].view.setFocus()  # a click into another panel focuses it
    window.docks["internals"].raise_()
    qtbot.waitUntil(lambda: "In this view: Block internals" in _plain(panel), timeout=3000)


def test_a_language_switch_retranslates_the_text(panel):
    from swin_gui import i18n

    assert panel.heading.full == "Concepts · Block 1.1 · in Window grid"
    i18n.set_language("ru")
    try:
        assert panel.heading.full == "Понятия · Блок 1.1 · в виде «Сетка окон»"
        text = _plain(panel)
        assert "В этом виде: Сетка окон" in text and "Где ошибается конспект" in text
        assert "8\u00a0832" in text  # the grouped number is one word: it never breaks
        assert {"window": 12} in [h.payload["select"] for _, h in _hits(panel)]
    finally:
        i18n.set_language("en")
    assert "In this view: Window grid" in _plain(panel)


def test_a_finished_sweep_is_cited(make_window, tiny_model, make_image, qtbot):
    from swin_gui.costlab import CostRow, Crossover, SweepResult

    def row(model, family, size, ms):
        return CostRow(model, family, size, 1, 1, 1, 1, 1, 1, 1, ms, 1, 1.0)

    window = make_window(tiny_model, make_image())
    window.go_to(view="concepts")
    QApplication.processEvents()
    panel, cost = window.panels["concepts"], window.panels["cost"]
    assert "README › Cost lab" in _plain(panel)
    result = SweepResult(
        (row("tiny", "swin", 224, 20.0), row("DeiT-S", "vit", 224, 100.0)),
        (224,),
        ("tiny", "DeiT-S"),
        {},
        (Crossover("time", "always"),),
        1.0,
        1,
    )
    cost.result = result  # what CostPanel._on_finished stores, then the worker's signal
    cost.worker.finished.emit(result)
    qtbot.waitUntil(lambda: "the Cost lab's run in this session" in _plain(panel), timeout=3000)
    assert "At 224 px tiny took 20.0 ms and DeiT-S 100.0 ms: tiny 5.00× faster" in _plain(panel)
