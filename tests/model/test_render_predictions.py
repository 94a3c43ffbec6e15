"""Predictions view: top-5 order and probabilities, the random-weights warning, and the
no-head statement."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from swin_gui.render.chart import ACCENT, WARNING
from swin_gui.render.predictions import RANDOM_WARNING, render_predictions
from swin_gui.render.selection import Selection


@pytest.fixture(scope="module")
def trace(make_model, make_trace):
    names = ("star", "ring", "cross", "arrow", "triangle", "hexagon", "sq", "disc")
    return replace(make_trace(make_model()), class_names=names)


def test_top5_order_and_probabilities(trace):
    pic = render_predictions(trace, Selection())
    top = trace.top_k(5)
    assert len(top) == 5 and [p for *_, p in top] == sorted([p for *_, p in top], reverse=True)
    assert list(pic.notes) == [f"{name}: {100 * p:.1f} %" for _, name, p in top]
    np.testing.assert_allclose(pic.data, trace.probabilities())
    assert pic.data.sum() == pytest.approx(1.0, abs=1e-5)
    assert pic.units == "probability"


def test_bar_length_is_the_probability(trace):
    pic = render_predictions(trace)
    first = next(p for *_, p in trace.top_k(5))
    rows = np.argwhere((pic.rgb == ACCENT).all(axis=2))  # only the best bar is yellow
    length = rows[:, 1].max() - rows[:, 1].min() + 1
    bar_width = 560 - 70 - (200 + 12)
    assert length == pytest.approx(first * bar_width, abs=2)


def test_random_weights_warning(trace):
    plain = render_predictions(trace)
    assert not any("random" in n for n in plain.notes)
    assert not (plain.rgb == WARNING).all(axis=2).any()
    flagged = replace(trace, meta={**trace.meta, "random_weights": True})
    pic = render_predictions(flagged)
    assert pic.notes[0] == RANDOM_WARNING
    assert "RANDOM WEIGHTS" in pic.title
    assert (pic.rgb == WARNING).all(axis=2).sum() > 1000  # a prominent red banner


def test_no_classifier_head(make_model, make_trace):
    pic = render_predictions(make_trace(make_model(num_classes=0)))
    assert pic.data.size == 0
    assert any("no classifier head" in n for n in pic.notes)
    assert pic.rgb.dtype == np.uint8 and pic.rgb.size > 0
