"""Predictions panel: top-5 from the trace, the random-weights warning in its caption and
heading, and no re-render on selection changes."""

from __future__ import annotations

from dataclasses import replace

from swin_gui.app.panels.predictions import PredictionsPanel


def test_shows_top5_and_ignores_selection(make_panel, trace224):
    p = make_panel(PredictionsPanel, trace224)
    session = p.session
    names = [name for _, name, _ in trace224.top_k(5)]
    caption = p.caption.text()
    assert all(n in caption for n in names)
    assert caption.index(names[0]) < caption.index(names[4])
    pic = p.picture
    session.select(stage=3, block=1, token=(1, 1))
    assert p.picture is pic


def test_random_weights_warning(make_panel, trace224):
    p = make_panel(PredictionsPanel, trace224)
    session = p.session
    session.set_trace(replace(trace224, meta={**trace224.meta, "random_weights": True}))
    assert "random weights" in p.caption.text()
    assert "RANDOM WEIGHTS" in p.heading.text()
    session.set_trace(replace(trace224, meta={**trace224.meta, "random_weights": False}))
    assert "random weights" not in p.caption.text()
