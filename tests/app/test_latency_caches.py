"""What keeps a token, head or block change within a frame (issue 11, item 6), checked by
counting, not timing (speed lives in `swin-gui bench --only ui`):

- a rebuilt figure with the same content keeps its scene items (`layer_key`);
- a caption's wrapping is the same as the one-measurement-per-word rule it replaced;
- a token change does not rebuild a hidden panel, and stage changes do not recompute the
  pyramid's channel energies;
- a big block's mask mosaic is built and coloured by the background work, not on the GUI
  thread; costly attention goes to the background even when its bytes are few;
- cached derived data dies with its trace (and a picture's colouring with its array).
"""

from __future__ import annotations

import gc
import random
import weakref

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics

from swin_gui.analysis.cache import TraceCache
from swin_gui.app import figure_plot
from swin_gui.app.figure_cache import ArrayCache
from swin_gui.app.figure_scene import FigureScene
from swin_gui.app.figure_scene import shown as is_shown
from swin_gui.app.panels import attention as attention_panel
from swin_gui.app.panels import mask as mask_panel
from swin_gui.app.panels.attention import AttentionPanel
from swin_gui.app.panels.base import Panel
from swin_gui.app.panels.elided import _wrap_elided
from swin_gui.app.panels.mask import MaskPanel
from swin_gui.app.panels.pyramid import PyramidPanel
from swin_gui.render import figure as F
from swin_gui.render import pyramid as render_pyramid
from swin_gui.render.mask import mosaic
from swin_gui.render.selection import Selection


# ---- the scene keeps what did not change ------------------------------------------------------
def _figure(token: tuple[int, int]) -> F.Figure:
    """A picture, a grid and a token box: fresh layer objects every call, as a view makes."""
    picture = _PICTURE
    layers = (
        F.Heatmap(picture, (0, 0, 8, 8)),
        F.Lines(F.grid_lines(0, 0, 8, 8, 1, 1), "grid", 0.5),
        F.Rects(F.rects([(token[1], token[0], 1, 1)]), "selected", None, 1.5),
    )
    return F.Figure("t", (F.Plot("p", (0, 8), (0, 8), (160, 160), layers),))


_PICTURE = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)


def _shown(scene) -> set:
    return {i for i in scene.items() if is_shown(i)}


def test_a_rebuilt_figure_keeps_the_items_of_unchanged_layers(qapp):
    scene = FigureScene()
    scene.draw(_figure((1, 1)), 300, 300, 1.0)
    before = _shown(scene)
    scene.draw(_figure((1, 1)), 300, 300, 1.0)  # equal content, new objects: nothing rebuilt
    assert _shown(scene) == before and set(scene.items()) == before
    scene.draw(_figure((2, 3)), 300, 300, 1.0)  # the token moved: only its box is new
    after = _shown(scene)
    assert len(after - before) == 1 and len(before - after) == 1
    (new,) = after - before
    assert new.boundingRect().width() > 0  # the new box item, the picture and grid kept
    (old_box,) = before - after
    assert old_box.scene() is scene and not is_shown(old_box)  # kept hidden
    scene.draw(_figure((1, 1)), 300, 300, 1.0)  # back: the first box shows again, not rebuilt
    assert _shown(scene) == before
    scene.forget_spare()
    assert set(scene.items()) == before and new.scene() is None
    scene.deleteLater()


def test_spare_groups_are_bounded_by_what_only_they_hold(qapp, monkeypatch):
    """A big picture shared with the figure shown costs the spare nothing (a photo's
    picture under every stage's grid); pictures only hidden groups hold are bounded."""
    from swin_gui.app import figure_scene

    big = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)

    def figure(extent: int, own: bool) -> F.Figure:  # extent: where the big picture lies
        layers = [F.Heatmap(big, (0, 0, extent, extent))]
        if own:  # a picture of its own, as big
            layers.append(F.Heatmap(big.copy(), (0, 0, 8, 8)))
        return F.Figure("t", (F.Plot("p", (0, 8), (0, 8), (160, 160), tuple(layers)),))

    copy = big.nbytes + 64 * 64 * 4  # an own copy: the array and its picture
    monkeypatch.setattr(figure_scene, "SPARE_BYTES", copy * 3 // 2)
    scene = FigureScene()
    for extent in (8, 7, 6, 5):  # the big picture placed anew: its items go spare
        scene.draw(figure(extent, own=False), 300, 300, 1.0)
    assert len(scene._spare) == 3  # all kept: their picture is the one shown
    before = set(scene.items())
    scene.draw(figure(4, own=True), 300, 300, 1.0)
    first_copy = max(set(scene.items()) - before, key=lambda i: i.zValue())  # layer 1
    scene.draw(figure(3, own=True), 300, 300, 1.0)  # the first own copy goes spare...
    assert len(scene._spare) == 6
    scene.draw(figure(2, own=True), 300, 300, 1.0)  # ...and the second: over the bound
    assert len(scene._spare) == 7  # the oldest own copy went; the shared ones stay
    assert first_copy.scene() is None
    scene.deleteLater()


# ---- caption wrapping ---------------------------------------------------------------------------
def _reference_wrap(text: str, m: QFontMetrics, width: int, lines: int) -> str:
    """The rule as it was: the longest prefix that fits, trying one cut after another."""
    out, rest = [], text
    for i in range(lines):
        if m.horizontalAdvance(rest) <= width or i == lines - 1:
            out.append(m.elidedText(rest, Qt.TextElideMode.ElideRight, width))
            break
        cut = len(rest)
        while cut > 1 and m.horizontalAdvance(rest[:cut]) > width:
            cut = rest.rfind(" ", 0, cut - 1) if " " in rest[: cut - 1] else cut - 1
        out.append(rest[:cut])
        rest = rest[cut:].lstrip()
    return "\n".join(out)


def test_wrapping_by_bisection_cuts_where_the_word_by_word_rule_did(qapp):
    m = QFontMetrics(QFont("DejaVu Sans", 9))
    rng = random.Random(0)
    words = ["window", "M=7", "·", "stage", "0", "tokens", "(56×56)", "selected", "окно", "—"]
    words += ["averyveryverylongwordwithoutanyspaceatall", "", "a"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
        width, lines = rng.randint(10, 400), rng.randint(1, 4)
        assert _wrap_elided(text, m, width, lines) == _reference_wrap(text, m, width, lines)


# ---- what a change recomputes ------------------------------------------------------------------
def test_a_token_change_does_not_rebuild_hidden_panels(
    qtbot, make_window, tiny_model, make_image, monkeypatch
):
    window = make_window(tiny_model, make_image())
    built = []
    real = Panel.make_figure
    monkeypatch.setattr(
        Panel, "make_figure", lambda self, t, s: built.append(self.view_name) or real(self, t, s)
    )
    window.session.select(token=(3, 4))
    assert "attention" in built and "grid" in built  # the shown ones follow the token
    assert not {"mask", "shift", "bias"} & set(built)  # tabbed away: drawn when shown
    window.docks["mask"].raise_()
    qtbot.waitUntil(lambda: "mask" in built)  # ...and it is


def test_stage_changes_do_not_recompute_channel_energy(
    make_panel, make_trace, tiny_model, monkeypatch
):
    calls = []
    real = render_pyramid.channel_energy
    monkeypatch.setattr(
        render_pyramid, "channel_energy", lambda f: calls.append(f.shape) or real(f)
    )
    trace = make_trace(tiny_model, 96, 96, seed=7)  # a trace no other test has cached
    panel = make_panel(PyramidPanel, trace, (1000, 420))
    session = panel.session
    assert len(calls) == 1  # the stage shown (no background runner on this bare session)
    for stage in (1, 0, 2, 1, 0, 3, 2, 3):
        session.select(stage=stage)
        session.select(token=(1, 1))
    assert sorted(calls) == sorted(st.out.shape for st in trace.stages)  # once per stage
    assert panel.top_combo.count() > 0 and "energy" in panel.top_combo.itemText(0)


def test_a_big_mosaic_is_built_and_coloured_by_the_background_work(
    make_panel, make_trace, tiny_model, monkeypatch
):
    monkeypatch.setattr(mask_panel, "MOSAIC_BACKGROUND_BYTES", 0)  # this block counts as big
    colored = []
    real = figure_plot._colored
    monkeypatch.setattr(
        figure_plot, "_colored", lambda d, *a: colored.append(d.shape) or real(d, *a)
    )
    trace = make_trace(tiny_model, 96, 96, seed=8)
    panel = make_panel(MaskPanel, trace)  # a bare session: block 0 drawn at once
    colored.clear()
    sel = Selection(stage=0, block=1, token=(3, 3))
    pending = panel.background_work(trace, sel)
    assert pending is not None and "computing the masks" in pending.text
    pending.work()  # what the worker thread runs
    block = trace.block(0, 1)
    mos = mosaic(trace, block, block.shift)
    assert colored == [mos.data.shape]  # the mosaic, coloured by the work
    assert panel.background_work(trace, sel) is None  # done: the panel draws at once
    colored.clear()
    panel.session.select(stage=0, block=1, token=(3, 3))
    assert panel.figure.plot("windows").layers[0].data is mos.data
    assert mos.data.shape not in colored  # drawing it only wrapped the picture


def test_costly_attention_goes_to_the_background_even_when_small(
    make_trace, tiny_model, monkeypatch
):
    trace = make_trace(tiny_model, 96, 96, seed=9)
    last = len(trace.stages) - 1
    sel = Selection(stage=last, block=0)
    background_work = AttentionPanel.background_work  # it reads nothing of the panel
    assert background_work(None, trace, sel) is None  # small and cheap: drawn at once
    monkeypatch.setattr(attention_panel, "BACKGROUND_MACS", 1)
    pending = background_work(None, trace, sel)
    assert pending is not None and f"stage {last}" in pending.text


# ---- caches let go --------------------------------------------------------------------------
class _Trace:
    """Stands in for a Trace: weak-referenceable, holds nothing."""


class _Value:
    pass


def test_cached_values_die_with_their_trace():
    cache = TraceCache(traces=2, entries=8)
    trace = _Trace()
    value = cache.get(trace, "k", _Value)
    assert cache.has(trace, "k") and cache.get(trace, "k", _Value) is value
    alive = weakref.ref(value)
    del value, trace
    gc.collect()
    assert alive() is None  # not kept until another trace comes in


def test_a_colouring_dies_with_its_array():
    cache = ArrayCache(size=4)
    data = np.zeros((4, 4), np.float32)
    value = cache.get(data, ("gray",), _Value)
    assert cache.peek(data, ("gray",)) is value
    alive = weakref.ref(value)
    del value, data
    gc.collect()
    assert alive() is None and len(cache) == 0


def test_a_few_boxes_map_to_the_same_pixels_as_many(qapp):
    """`PlotDrawer.corners` maps up to four boxes in plain Python (numpy's per-call cost
    was most of a token box), more with numpy: the same pixels either way."""
    from swin_gui.render import layout as L

    rng = np.random.default_rng(0)
    for y_up in (False, True):
        plot = F.Plot("p", (-1.0, 9.0), (0.0, 5.0), (120, 60), (), y_up=y_up)
        scene = FigureScene()
        scene.draw(F.Figure("t", (plot,)), 300, 300, 1.3)
        drawer = figure_plot.PlotDrawer(scene, L.layout(F.Figure("t", (plot,)), 300).placements[0])
        boxes = rng.uniform(-2, 8, (9, 4))
        many = drawer.corners(boxes)  # numpy
        few = np.concatenate([drawer.corners(boxes[i : i + 3]) for i in range(0, 9, 3)])
        np.testing.assert_allclose(few, many, rtol=1e-12)
        scene.deleteLater()


def test_a_redraw_sets_the_background_only_when_it_changes(qapp, monkeypatch):
    """`setBackgroundBrush` repaints every view of the scene whole: a token change would
    repaint all of each panel instead of what changed."""
    calls = []
    real = FigureScene.setBackgroundBrush
    monkeypatch.setattr(
        FigureScene, "setBackgroundBrush", lambda self, b: calls.append(b) or real(self, b)
    )
    scene = FigureScene()
    scene.draw(_figure((1, 1)), 300, 300, 1.0)
    scene.draw(_figure((2, 3)), 300, 300, 1.0)
    assert len(calls) == 1
    scene.draw(_figure((2, 3)), 300, 300, 1.0, theme="light")
    assert len(calls) == 2 and scene.backgroundBrush().color() != calls[0].color()
    scene.deleteLater()
