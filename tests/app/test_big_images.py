"""Large images in the window: a capture that would need more than half of the free
memory asks first (continue, 2048 px, cancel); the progress says how long is left; the fit
control re-runs the model with crop / pad / stretch."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from swin_gui.app import memory_check


def test_the_estimate_follows_pixels_and_width(tmp_path):
    from PIL import Image

    path = tmp_path / "wide.png"
    Image.new("RGB", (400, 300)).save(path)
    assert memory_check.input_pixels(path, "native", 224) == 120_000
    assert memory_check.input_pixels(np.zeros((30, 40, 3), np.uint8), "native", 224) == 1200
    assert memory_check.input_pixels(path, "model", 224) == 224 * 224
    assert memory_check.input_pixels(path, 512, 224) == 512 * 512
    # 12 MP through Swin-T (C = 96): about 3 GB, as measured
    assert memory_check.capture_bytes(12_000_000, 96) == pytest.approx(3.0e9, rel=0.05)
    assert memory_check.too_big(12_000_000, 96, 4 * 2**30)
    assert not memory_check.too_big(12_000_000, 96, 16 * 2**30)
    assert not memory_check.too_big(None, 96, 1)  # unknown: no warning
    assert memory_check.available_bytes() is None or memory_check.available_bytes() > 0


def tight_memory(monkeypatch) -> None:
    monkeypatch.setattr(memory_check, "available_bytes", lambda: 1 << 20)  # 1 MB free


def answer(monkeypatch, label: str | None) -> list[str]:
    """Click the button with that label in the next message box (None: cancel)."""
    shown = []

    def fake_exec(box):
        shown.append(box.text())
        for b in box.buttons():
            if label is not None and b.text() == label:
                box._clicked = b
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    monkeypatch.setattr(QMessageBox, "clickedButton", lambda box: getattr(box, "_clicked", None))
    return shown


def test_a_too_big_capture_asks_and_cancel_keeps_the_image(
    make_window, tiny_model, make_image, monkeypatch
):
    window = make_window(tiny_model, make_image("big.png", 512, 512))
    window.quiet = False
    tight_memory(monkeypatch)
    before = window.session.trace
    shown = answer(monkeypatch, None)
    assert window.set_size("native") == -1
    assert shown and "more than half of the" in shown[0]
    assert window.session.trace is before
    assert "cancelled" in window.statusBar().currentMessage()


def test_use_2048_captures_at_2048(make_window, tiny_model, make_image, monkeypatch):
    window = make_window(tiny_model, make_image("big.png", 512, 512))
    window.quiet = False
    tight_memory(monkeypatch)
    answer(monkeypatch, "Use 2048 px")
    seen = []
    # on the class: a patched bound method on the instance would hold the worker in a cycle
    # through its wrapper that outlives the test
    monkeypatch.setattr(type(window.worker), "capture", lambda _, r: seen.append(r) or 7)
    assert window.set_size("native") == 7
    assert seen[0].size == 2048


def test_progress_says_how_long_is_left(make_window, tiny_model, make_image):
    window = make_window(tiny_model, make_image())
    window.controller._capture_started = time.perf_counter() - 6.0  # two of four stages took 6 s
    window.worker.progress.emit(1, 2, 4)  # what the worker sends between stages
    assert window.progress.format() == "inferring… 2/4 stages · about 6 s left"
    window.worker.progress.emit(1, 4, 4)
    assert window.progress.format() == "inferring… 4/4 stages"


def test_the_fit_control_reruns_with_that_fit(make_window, tiny_model, make_image):
    window = make_window(tiny_model, make_image("wide.png", 150, 200), size=224)
    index = window.fit_combo.findData("pad")
    window.fit_combo.setCurrentIndex(index)
    window.fit_combo.activated.emit(index)
    assert window.session.trace.meta["fit"] == "pad"
    assert window.accepted.fit == "pad" and window.fit_combo.currentData() == "pad"
