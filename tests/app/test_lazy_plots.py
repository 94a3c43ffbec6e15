"""What a view builds, and what it leaves for later (issue 11, item 6: the 16 ms target),
checked by counting items, not timing:

- the plots of a figure outside the view (and half a view around it) are laid out but not
  built until a scroll, zoom or resize brings them near; a file gets every plot;
- a placeholder keeps the scene's extent, so the scroll bars do not come and go (each
  toggle resized the viewport and re-laid out the panel);
- a halo outline is one path drawn twice (two items, one path), a halo line one item.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsPathItem

from swin_gui.app.figure_file import write_figure
from swin_gui.app.figure_plot import Segments
from swin_gui.app.figure_scene import FigureScene
from swin_gui.app.figure_scene import shown as is_shown
from swin_gui.app.figure_view import FigureView
from swin_gui.app.panels.attention import AttentionPanel
from swin_gui.render import figure as F

_PICTURE = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)


def _tall_figure(n: int = 4) -> F.Figure:
    """`n` pictures stacked top to bottom (one group each), 200 pt apart."""
    plots = tuple(
        F.Plot(f"p{k}", (0, 8), (0, 8), (180, 180), (F.Heatmap(_PICTURE, (0, 0, 8, 8)),),
               title=f"plot {k}", group=f"g{k}")
        for k in range(n)
    )  # fmt: skip
    return F.Figure("tall", plots)


def _built_plots(scene: FigureScene) -> set[str]:
    """The keys of the plots whose picture is in the scene and shown."""
    info = scene.info
    shown = [i for i in scene.items() if is_shown(i) and not isinstance(i, QGraphicsPathItem)]
    out = set()
    for placement in info.layout.placements:
        x, y = (v * info.px_per_pt for v in placement.box[:2])
        if any(abs(i.pos().x() - x) < 1 and abs(i.pos().y() - y) < 1 for i in shown):
            out.add(placement.plot.key)
    return out


def _small_view(qtbot) -> FigureView:
    """A 400×300 view showing `_tall_figure()` (its first plot or two)."""
    view = FigureView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.show_figure(_tall_figure())
    return view


def test_plots_out_of_view_are_built_when_scrolled_to(qtbot):
    view = _small_view(qtbot)
    scene = view.figure_scene
    first = _built_plots(scene)
    assert "p0" in first and "p3" not in first and not scene.complete
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    assert "p3" in _built_plots(scene)  # built by the scroll, before any paint
    view.fit()  # back to the top: what was built stays
    assert {"p0", "p3"} <= _built_plots(scene)


def test_a_bigger_view_builds_the_rest_at_once(qtbot):
    view = _small_view(qtbot)
    assert not view.figure_scene.complete
    view.resize(400, 2000)
    qtbot.waitUntil(lambda: view.figure_scene.complete)
    assert _built_plots(view.figure_scene) == {"p0", "p1", "p2", "p3"}


def test_a_file_gets_every_plot(qapp, tmp_path):
    scene = FigureScene()
    scene.draw(_tall_figure(), 300, None, 1.0, visible=None)
    assert scene.complete and _built_plots(scene) == {"p0", "p1", "p2", "p3"}
    scene.deleteLater()
    text = write_figure(_tall_figure(), tmp_path / "tall.svg").read_text(encoding="utf-8")
    assert all(f"plot {k}" in text for k in range(4))  # every title, not only a view's worth


def test_a_placeholder_keeps_the_scroll_bars(qtbot, make_panel, trace224):
    panel = make_panel(AttentionPanel, trace224, (420, 300))  # the figure is taller
    bar = panel.view.verticalScrollBar()
    assert bar.maximum() > 0
    before = panel.view.figure_scene.sceneRect()
    panel.show_placeholder("computing attention…")
    after = panel.view.figure_scene.sceneRect()
    assert after.contains(before) and bar.maximum() > 0
    panel.refresh(wait=True)  # the figure again: its own extent
    assert panel.view.figure_scene.sceneRect() == before


def test_a_halo_is_one_path_twice_and_a_halo_line_one_item(qapp):
    box = F.rects([(2, 2, 1, 1)])
    cross = np.asarray([((1, 1), (3, 3))], np.float32)
    layers = (
        F.Rects(box, "#ffffff", None, 1.2, halo="#000000"),
        F.Lines(cross, "selected", 1.5, halo="#000000"),
    )
    scene = FigureScene()
    scene.draw(F.Figure("h", (F.Plot("p", (0, 8), (0, 8), (160, 160), layers),)), 300, 300, 1.0)
    paths = [
        i for i in scene.items() if isinstance(i, QGraphicsPathItem) and i is not scene.highlight
    ]
    halo, line = sorted((p for p in paths if p.path().elementCount()), key=lambda p: p.zValue())
    assert halo.path() == line.path()
    assert halo.pen().widthF() == line.pen().widthF() + F.HALO_PT
    assert halo.pen().color().name() == "#000000" and line.pen().color().name() == "#ffffff"
    (segments,) = [i for i in scene.items() if isinstance(i, Segments)]
    assert segments.halo is not None and segments.halo.widthF() > segments.pen.widthF()
    scene.deleteLater()


def test_a_prepared_figure_is_shown_without_building(qapp):
    scene = FigureScene()
    scene.draw(_tall_figure(2), 300, None, 1.0)
    other = np.random.default_rng(1).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    plot = F.Plot("p0", (0, 8), (0, 8), (180, 180), (F.Heatmap(other, (0, 0, 8, 8)),))
    figure = F.Figure("next", (plot,))
    shown = {i for i in scene.items() if is_shown(i)}
    scene.prepare(figure, 300, None, None)
    prepared = set(scene.items())
    assert {i for i in scene.items() if is_shown(i)} == shown  # nothing shown changed
    assert len(prepared - shown) == 1  # the new picture, built hidden
    scene.draw(figure, 300, None, 1.0)
    assert set(scene.items()) == prepared  # drawn from what was prepared, nothing built
    scene.deleteLater()


def test_the_grid_prepares_the_next_step_while_idle(qtbot, make_panel, trace224):
    from swin_gui.app.panels.grid import GridPanel

    panel = make_panel(GridPanel, trace224)
    panel.session.select(step="block", stage=1, block=0)
    qtbot.waitUntil(lambda: panel._neighbours == [], timeout=5000)  # both neighbours built
    before = set(panel.view.figure_scene.items())
    panel.session.step_by(1)  # stage 1 block 1: a new shift, so a new frame
    assert panel.session.selection.block == 1
    assert set(panel.view.figure_scene.items()) == before  # all of it was prepared
    panel.session.select(token=(3, 3))  # a change starts the idle work over
    assert panel._neighbours is None


def _grab(view: FigureView) -> np.ndarray:
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return np.array(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())


def test_a_view_that_stepped_through_blocks_paints_what_a_fresh_view_paints(
    qtbot, make_window, tiny_model, make_image
):
    """Hidden groups are transparent (their device caches kept), prepared frames are painted
    offscreen while idle and shown again later: none of it may leak into the picture. At
    every step through the blocks and back, after the idle prefetch, the grid view paints
    exactly what a new view of the same figure paints."""
    window = make_window(tiny_model, make_image(height=96, width=128))
    session, grid = window.session, window.panels["grid"]
    fresh = FigureView()
    qtbot.addWidget(fresh)
    fresh.resize(grid.view.size())
    fresh.show()
    qtbot.waitExposed(fresh)
    steps = len(session.steps())
    for delta in [1] * (steps - 1) + [-1] * (steps // 2):
        session.step_by(delta)
        qtbot.wait(200)  # the prefetch builds (and paints) the neighbours' frames
        fresh.figure_scene.forget_spare()
        fresh.show_figure(grid.figure)
        qtbot.wait(10)
        np.testing.assert_array_equal(_grab(grid.view), _grab(fresh))
    assert any(not is_shown(i) for i in grid.view.figure_scene.items())  # spare groups kept


def test_the_attention_panel_prepares_only_blocks_whose_attention_is_held(
    qtbot, make_window, tiny_model, make_image, monkeypatch
):
    """While idle the attention panel builds the figure of a neighbouring step it can draw
    now (a block visited before, its window's attention held) and nothing else: idle time
    computes no attention ahead."""
    window = make_window(tiny_model, make_image(height=96, width=128))
    session, panel = window.session, window.panels["attention"]
    session.select(step="block", stage=0, block=0, token=(2, 3))
    qtbot.waitUntil(lambda: panel.figure is not None and not panel.waiting)
    session.step_by(+1)  # block 0,1: its attention is computed for the view
    qtbot.waitUntil(lambda: not panel.waiting)
    back, ahead = session.stepped(-1), session.stepped(+1)
    trace = session.trace
    assert panel.can_prepare(trace, back) and not panel.can_prepare(trace, ahead)
    prepared = []
    real = AttentionPanel.make_figure
    monkeypatch.setattr(
        AttentionPanel, "make_figure", lambda self, t, s: prepared.append(s) or real(self, t, s)
    )
    qtbot.wait(400)  # idle: the prefetch runs
    assert prepared == [back]
    assert not panel.can_prepare(trace, ahead)  # still not computed
