"""Predictions panel: top-5 from the trace, the random-weights warning in its caption and
heading, hover on a bar, and no re-render on selection changes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from swin_gui.app.panels.predictions import PredictionsPanel


def test_shows_top5_and_ignores_selection(make_panel, trace224):
    p = make_panel(PredictionsPanel, trace224)
    session = p.session
    names = [name for _, name, _ in trace224.top_k(5)]
    caption = p.caption.full
    assert all(n in caption for n in names)
    assert caption.index(names[0]) < caption.index(names[4])
    fig = p.figure
    session.select(stage=3, block=1, token=(1, 1))
    assert p.figure is fig


def test_random_weights_warning(make_panel, trace224):
    p = make_panel(PredictionsPanel, trace224)
    session = p.session
    session.set_trace(replace(trace224, meta={**trace224.meta, "random_weights": True}))
    assert "random weights" in p.caption.full
    assert "RANDOM WEIGHTS" in p.heading.full
    assert p.figure.plots[0].key == "banner"
    session.set_trace(replace(trace224, meta={**trace224.meta, "random_weights": False}))
    assert "random weights" not in p.caption.full


def test_hover_a_bar(make_panel, trace224, figure_mouse):
    p = make_panel(PredictionsPanel, trace224, (500, 300))
    messages = []
    p.session.message.connect(messages.append)
    _, name, prob = trace224.top_k(5)[1]
    figure_mouse.move(p, "bars", 1.0, 1.5)  # the second row
    assert messages[-1].startswith("probability ") and name in messages[-1]
    assert float(messages[-1].split()[1]) == pytest.approx(prob, rel=1e-3)


def test_no_head(make_panel, make_model, make_trace):
    headless = make_trace(make_model(num_classes=0))
    p = make_panel(PredictionsPanel, headless)
    assert "no classification head" in p.caption.full
