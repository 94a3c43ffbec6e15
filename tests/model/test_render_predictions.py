"""Predictions figure: top-5 order, bar lengths and percentages, the random-weights banner,
the no-head statement (with the checkpoint's reason when the trace carries one) and
non-finite logits."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from swin_gui.render import figure as F
from swin_gui.render.predictions import figure_predictions, random_warning
from swin_gui.render.selection import Selection


@pytest.fixture(scope="module")
def trace(make_model, make_trace):
    names = ("star", "ring", "cross", "arrow", "triangle", "hexagon", "sq", "disc")
    t = make_trace(make_model())
    logits = np.log(np.array([0.05, 0.4, 0.02, 0.25, 0.1, 0.08, 0.06, 0.04]))
    return replace(t, class_names=names, logits=logits.astype(np.float32))


def rects(plot: F.Plot) -> list[F.Rects]:
    return [lay for lay in plot.layers if isinstance(lay, F.Rects)]


def test_top5_order_names_and_percentages(trace):
    fig = figure_predictions(trace, Selection())
    bars = fig.plot("bars")
    # hand-worked: 0.4 ring [1], 0.25 arrow [3], 0.1 triangle [4], 0.08 hexagon [5], 0.06 sq [6]
    assert [t for _, t in bars.yticks] == [
        "ring [1]",
        "arrow [3]",
        "triangle [4]",
        "hexagon [5]",
        "sq [6]",
    ]
    pct = [lay.text for lay in bars.layers if isinstance(lay, F.Text)]
    assert pct == ["40.0 %", "25.0 %", "10.0 %", "8.0 %", "6.0 %"]
    assert list(fig.notes[:5]) == [
        "ring: 40.0 %",
        "arrow: 25.0 %",
        "triangle: 10.0 %",
        "hexagon: 8.0 %",
        "sq: 6.0 %",
    ]
    np.testing.assert_allclose(fig.data, [0.05, 0.4, 0.02, 0.25, 0.1, 0.08, 0.06, 0.04], rtol=1e-5)
    assert "non-finite" not in " ".join(fig.notes) and "random" not in " ".join(fig.notes)


def test_bar_length_is_the_probability(trace):
    bars = figure_predictions(trace).plot("bars")
    assert bars.xlim == (0.0, 100.0)
    track, best, rest = rects(bars)
    assert len(track.rects) == 5 and (track.rects[:, 2] == 100).all()
    np.testing.assert_allclose(best.rects, [[0, 0.15, 40.0, 0.7]], rtol=1e-5)
    np.testing.assert_allclose(rest.rects[:, 2], [25.0, 10.0, 8.0, 6.0], rtol=1e-5)
    np.testing.assert_allclose(rest.rects[:, 1], [1.15, 2.15, 3.15, 4.15], rtol=1e-5)
    assert best.fill != rest.fill


def test_hover_reads_the_probability(trace):
    fig = figure_predictions(trace)
    hit = fig.hit("bars", 10.0, 1.5)  # second row: arrow
    assert hit.value == pytest.approx(0.25) and hit.value_text() == "probability 0.25"


def test_random_weights_banner(trace):
    plain = figure_predictions(trace)
    assert [p.key for p in plain.plots] == ["bars"]
    flagged = figure_predictions(replace(trace, meta={**trace.meta, "random_weights": True}))
    assert flagged.notes[0] == random_warning() and "RANDOM WEIGHTS" in flagged.title
    banner = flagged.plots[0]
    assert banner.key == "banner" and banner.group != flagged.plot("bars").group
    assert rects(banner)[0].fill == "#d32f2f"
    assert "RANDOM WEIGHTS" in " ".join(flagged.texts())


def test_no_classification_head(make_model, make_trace):
    headless = make_trace(make_model(num_classes=0))
    assert headless.logits is None
    fig = figure_predictions(headless)
    assert fig.data.size == 0 and "bars" not in [p.key for p in fig.plots]
    assert fig.notes[0].startswith("no classification head: ")
    reason = "a detection backbone (UperNet checkpoint)"
    fig = figure_predictions(replace(headless, meta={**headless.meta, "no_head_reason": reason}))
    assert fig.notes[0] == f"no classification head: {reason}"
    assert " ".join(fig.texts()) == f"no classification head: {reason}"  # wrapped, all drawn


def test_non_finite_logits(trace):
    logits = trace.logits.copy()
    logits[[2, 5]] = [np.nan, np.inf]
    fig = figure_predictions(replace(trace, logits=logits))
    assert fig.notes == ("non-finite logits: 2 of 8 are NaN or ±∞",)
    assert not any("nan" in t.lower() and "%" in t for t in fig.texts())


def test_svg_holds_the_names_as_text(trace, tmp_path):
    from swin_gui.app.figure_file import write_figure

    svg = write_figure(figure_predictions(trace), tmp_path / "p.svg", width_pt=300).read_text()
    found = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for label in ("ring [1]", "40.0 %", "sq [6]", "probability (%)"):
        assert label in found
