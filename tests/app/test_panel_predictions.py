"""Predictions panel: top-5 from the trace, the random-weights warning in its caption and
heading, and no re-render on selection changes."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace

import pytest

from swin_gui.app.panels.predictions import PredictionsPanel
from swin_gui.app.state import Session


@pytest.fixture
def session(tiny_trace) -> Session:
    s = Session()
    s.set_trace(tiny_trace)
    return s


def test_shows_top5_and_ignores_selection(qtbot, session, tiny_trace):
    p = PredictionsPanel(session)
    qtbot.addWidget(p)
    p.refresh()
    names = [name for _, name, _ in tiny_trace.top_k(5)]
    caption = p.caption.text()
    assert all(n in caption for n in names)
    assert caption.index(names[0]) < caption.index(names[4])
    pic = p.picture
    session.select(stage=3, block=1, token=(1, 1))
    assert p.picture is pic


def test_random_weights_warning(qtbot, session, tiny_trace):
    p = PredictionsPanel(session)
    qtbot.addWidget(p)
    session.set_trace(replace(tiny_trace, meta={**tiny_trace.meta, "random_weights": True}))
    assert "random weights" in p.caption.text()
    assert "RANDOM WEIGHTS" in p.heading.text()
    session.set_trace(replace(tiny_trace, meta={**tiny_trace.meta, "random_weights": False}))
    assert "random weights" not in p.caption.text()
