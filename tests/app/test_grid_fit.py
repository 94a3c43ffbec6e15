"""The canvas shows what the fit did to a 4:3 photo (298×224) at 224: a centre crop marks
the cut edges and says how much was cut, a letterbox dims, hatches and labels its bands,
a stretch says the aspect changed; in the window the grid's caption follows the fit
control. Expected boxes are worked by hand from timm's eval transform (crop_pct 0.875)."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui.api import capture
from swin_gui.render import figure as F
from swin_gui.render.grid import cut_edges, figure_grid, fit_note, letterbox_rects
from swin_gui.render.selection import Selection


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from PIL import Image

    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("fit") / "wide.png"
    Image.fromarray(rng.integers(0, 256, (224, 298, 3), dtype=np.uint8)).save(path)
    return path


def layers(fig: F.Figure, kind) -> list:
    return [layer for layer in fig.plot("image").layers if isinstance(layer, kind)]


def test_centre_crop_marks_the_cut_edges(tiny_model, photo):
    trace = capture(tiny_model, photo, 224, fit="crop")
    # Resize(floor(224 / 0.875) = 256) -> 340×256, CenterCrop(224): left 58, top 16 resized
    # px = 58·298/340 = 50.8 and 16·224/256 = 14 original px on each side
    assert cut_edges(trace) == ["left", "right", "top", "bottom"]
    note = fit_note(trace)
    assert note.startswith("centre crop 224×224 of 298×224")
    assert "left 51, right 51, top 14, bottom 14" in note
    fig = figure_grid(trace, Selection())
    assert note in fig.notes
    (cut,) = [l for l in layers(fig, F.Lines) if l.dash]
    assert {tuple(map(tuple, s)) for s in cut.segments.tolist()} == {
        ((0, 0), (0, 224)),
        ((224, 0), (224, 224)),
        ((0, 0), (224, 0)),
        ((0, 224), (224, 224)),
    }
    assert [t.text for t in layers(fig, F.Text)].count("cut") == 4


def test_letterbox_bands_are_dimmed_hatched_and_labelled(tiny_model, photo):
    trace = capture(tiny_model, photo, 224, fit="pad")
    # the long side 298 -> 224, so 224 -> round(224·224/298) = 168 rows, 28 above and below
    bands = {tuple(b) for b in letterbox_rects(trace).tolist()}
    assert bands == {(0.0, 0.0, 224.0, 28.0), (0.0, 196.0, 224.0, 28.0)}
    fig = figure_grid(trace, Selection())
    (dim,) = [r for r in layers(fig, F.Rects) if r.fill is not None and r.edge is None]
    assert {tuple(b) for b in dim.rects.tolist()} == bands
    assert any({tuple(b) for b in h.rects.tolist()} == bands for h in layers(fig, F.Hatch))
    (label,) = [t for t in layers(fig, F.Text) if "letterbox" in t.text]
    assert 0 <= label.y <= 28 or 196 <= label.y <= 224  # inside a band
    assert fit_note(trace) == (
        "letterbox: 298×224 scaled to 224×168 in 224×224, the rest padded (dimmed)"
    )
    assert fit_note(trace) in fig.notes


def test_stretch_says_the_aspect_changed(tiny_model, photo):
    trace = capture(tiny_model, photo, 224, fit="stretch")
    fig = figure_grid(trace, Selection())
    assert fit_note(trace) == "stretched 298×224 to 224×224: the aspect ratio changed"
    assert not letterbox_rects(trace).size and not cut_edges(trace)
    assert not any(l.dash for l in layers(fig, F.Lines))


def test_native_and_tensor_inputs_have_no_fit_note(tiny_model, photo, trace224):
    assert fit_note(capture(tiny_model, photo, "native")) is None
    assert fit_note(trace224) is None


def test_the_grid_caption_follows_the_fit_control(make_window, tiny_model, photo):
    window = make_window(tiny_model, photo, size=224)
    grid = window.panels["grid"]
    index = window.fit_combo.findData("pad")
    window.fit_combo.setCurrentIndex(index)
    window.fit_combo.activated.emit(index)
    assert "letterbox: 298×224" in grid.caption.full
    index = window.fit_combo.findData("crop")
    window.fit_combo.activated.emit(index)
    assert "centre crop 224×224 of 298×224" in grid.caption.full
