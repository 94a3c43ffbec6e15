"""One figure for screen and file: every registered view has a panel and a snapshot that
draw the same figure; SVG keeps its labels as <text>, PDF as text (read back with pypdf),
PNG scales with --scale."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from swin_gui.app.figure_file import write_figure
from swin_gui.app.panels.base import Panel
from swin_gui.render import figure as F
from swin_gui.render.registry import VIEWS
from swin_gui.render.snapshot import render_snapshot


def _layers(fig: F.Figure) -> list:
    return [
        (p.key, type(layer).__name__, getattr(layer, "data", None))
        for p in fig.plots
        for layer in p.layers
    ]


@pytest.mark.parametrize("spec", VIEWS, ids=[v.name for v in VIEWS])
def test_panel_and_snapshot_draw_the_same_figure(make_panel, trace224, spec):
    panel = make_panel(spec.panel_class(), trace224, (700, 800))
    assert isinstance(panel, Panel) and panel.view_name == spec.name
    panel.session.select(stage=1, block=1, token=(5, 9), head=1)
    panel.refresh()
    shown = panel.figure
    snap = render_snapshot(trace224, spec.name, stage=1, block=1, token=(5, 9), head=1)
    assert shown.view == snap.view == spec.name
    assert shown.title == snap.title and shown.texts() == snap.texts()
    a, b = _layers(shown), _layers(snap)
    assert [x[:2] for x in a] == [x[:2] for x in b]
    for (_, _, da), (_, _, db) in zip(a, b, strict=True):
        if da is not None:
            np.testing.assert_array_equal(da, db)


@pytest.mark.parametrize("spec", VIEWS, ids=[v.name for v in VIEWS])
def test_svg_holds_the_labels_as_text(tmp_path, trace224, spec):
    fig = render_snapshot(trace224, spec.name, stage=0, block=1, token=(3, 4))
    path = write_figure(fig, tmp_path / "f.svg", width_pt=600)
    svg = path.read_text()
    texts = {t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)}
    assert fig.title in texts  # the heading comes with the file
    wanted = {t.strip() for t in fig.texts()}
    assert wanted and wanted <= texts, sorted(wanted - texts)[:5]


def test_pdf_holds_text_a_pdf_library_reads(tmp_path, trace224):
    pypdf = pytest.importorskip("pypdf")
    fig = render_snapshot(trace224, "attention", stage=0, block=1, token=(3, 4))
    path = write_figure(fig, tmp_path / "f.pdf", width_pt=600)
    text = " ".join(pypdf.PdfReader(str(path)).pages[0].extract_text().split())
    for label in ("probability", "head 0"):
        assert label in text


def test_png_scale_doubles_the_pixels_and_the_theme_changes_the_background(tmp_path, trace224):
    fig = render_snapshot(trace224, "grid", stage=0, block=1, token=(3, 4))
    one = Image.open(write_figure(fig, tmp_path / "a.png", width_pt=500))
    two = Image.open(write_figure(fig, tmp_path / "b.png", width_pt=500, scale=2))
    assert two.size[0] == pytest.approx(2 * one.size[0], abs=2)
    assert two.size[1] == pytest.approx(2 * one.size[1], abs=2)
    light = Image.open(write_figure(fig, tmp_path / "c.png", width_pt=500, theme="light"))
    assert one.getpixel((1, 1))[:3] == (32, 33, 36)
    assert light.getpixel((1, 1))[:3] == (255, 255, 255)
    # the image itself is the same in both scales: the centre pixel of the plot agrees
    a = np.asarray(one.convert("RGB"), np.int32)
    b = np.asarray(two.convert("RGB"), np.int32)[::2, ::2]
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    assert np.median(np.abs(a[:h, :w] - b[:h, :w])) < 8


def test_write_figure_refuses_existing_files_and_unknown_formats(tmp_path, trace224):
    from swin_gui.safe_write import ExportError

    fig = render_snapshot(trace224, "grid")
    path = write_figure(fig, tmp_path / "f.png")
    with pytest.raises(ExportError, match="already exists"):
        write_figure(fig, path)
    with pytest.raises(ValueError, match=r"png, \.svg or \.pdf"):
        write_figure(fig, tmp_path / "f.jpg")
    assert not (tmp_path / "f.jpg").exists()


def test_every_theme_defines_every_colour_role():
    """A figure names colours by role (`render.figure.ROLES`); each theme resolves them all,
    so the selected colour is written once per theme, never as a literal in a view."""
    from swin_gui.app.figure_label import THEMES
    from swin_gui.render.figure import ROLES

    for theme in THEMES.values():
        assert set(theme) == set(ROLES)
