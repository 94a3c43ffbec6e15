"""UI latency for `swin-gui bench`: the median time from a selection change to a painted
window, with every panel live, re-rendering from a cached Trace (no inference involved).

On a big image (`big` px square, native size) every block is visited once ("new block":
what the GUI thread spends). The selected window's attention is computed for its row of
windows only; where that is costly (Swin-T's stages 2 and 3 at 1536²) it goes to the
background behind a placeholder: "attention … background" is how long until the attention
panel draws it, "token while computing" a token change meanwhile. "token"/"head" on the
big image are on a block already shown.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

import torch

from ..display import SCREENSHOT_SCREEN as BENCH_SCREEN  # the laptop a screenshot shows


def _timed(app, change, repeats: int) -> float:
    """Median ms of `change(i)` followed by processing the resulting paint events; a
    change that left a panel on its placeholder is not counted (it fails the bench)."""
    samples = []
    for i in range(repeats + 2):
        t0 = time.perf_counter()
        change(i)
        app.processEvents()
        if i >= 2:  # the first two visits fill per-block caches
            samples.append((time.perf_counter() - t0) * 1e3)
        if _placeholders(app):
            raise RuntimeError(f"a panel waits for background work: {_placeholders(app)}")
    return statistics.median(samples)


def _placeholders(app) -> list[str]:
    """The view names of the panels on screen that show a placeholder."""
    from .panels.base import Panel

    return [
        w.view_name
        for w in app.allWidgets()
        if isinstance(w, Panel) and w.waiting and w.isVisible()
    ]


def _export_ms(window, folder: str, repeats: int) -> float:
    """Median ms to write the attention panel's figure as a PDF."""
    panel = window.panels["attention"]
    samples = []
    for i in range(repeats):
        t0 = time.perf_counter()
        panel.export(os.path.join(folder, f"attention_{i}.pdf"))
        samples.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(samples)


def _quiet_offscreen(mode, context, message: str) -> None:
    """Qt messages to stderr, less the offscreen plugin's note on every window resize."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def _wait_drawn(app, panel, limit_s: float = 600.0) -> None:
    """Process events until `panel` shows a figure instead of its placeholder, and that
    figure is painted (the next change is measured from a painted window)."""
    t_end = time.perf_counter() + limit_s
    while panel._waiting is not None and time.perf_counter() < t_end:
        app.processEvents()
        time.sleep(0.002)
    app.processEvents()


def _background(app, window, model, side: int, repeats: int) -> dict[str, float]:
    """The big-image rows (see the module docstring), medians over a few blocks."""
    import numpy as np

    from ..api import capture

    session, panel = window.session, window.panels["attention"]
    image = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    session.set_trace(capture(model, image, "native"))
    session.select(step="block", stage=0, block=0, token=(20, 20))
    app.processEvents()
    _wait_drawn(app, panel)
    H, W = session.trace.stages[0].resolution
    tokens = [((i * 7) % H, (i * 11) % W) for i in range(repeats + 2)]
    heads = session.trace.config.num_heads[0]
    out = {
        f"token ({side}²)": _timed(app, lambda i: session.select(token=tokens[i]), repeats),
        f"head ({side}²)": _timed(app, lambda i: session.select(head=i % heads), repeats),
    }
    new, meanwhile, drawn = [], [], []
    blocks = [(s, b) for s, st in enumerate(session.trace.stages) for b in range(len(st.blocks))]
    for stage, block in blocks[1:]:  # every block once, the first one was shown above
        t0 = time.perf_counter()
        session.select(stage=stage, block=block)
        app.processEvents()
        new.append((time.perf_counter() - t0) * 1e3)
        if panel._waiting is None:  # its window's attention was cheap: drawn at once
            continue
        t1 = time.perf_counter()
        session.move_token(0, 1)
        app.processEvents()
        meanwhile.append((time.perf_counter() - t1) * 1e3)
        _wait_drawn(app, panel)
        drawn.append((time.perf_counter() - t0) * 1e3)
    out[f"new block ({side}², {len(new)} blocks)"] = statistics.median(new)
    if drawn:
        out[f"token while computing ({len(drawn)} blocks)"] = statistics.median(meanwhile)
        out[f"attention ({side}², background)"] = statistics.median(drawn)
    return out


def measure_latency(
    preset_name: str, repeats: int = 21, size: int = 224, big: int | None = 1536
) -> tuple[tuple[int, int], dict[str, float]]:
    """The window's size and {'token': ms, 'head': ms, 'block': ms, ...} for a `size` x
    `size` input, then the big-image rows for a `big` x `big` one (None: skip them). Off
    a display the window is on an offscreen screen of `BENCH_SCREEN` (Qt's default
    offscreen screen is 800×800, which squeezed the window to 796 px wide)."""
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None and os.environ.get("QT_QPA_PLATFORM") in (None, "offscreen"):
        from ..display import offscreen_platform

        os.environ["QT_QPA_PLATFORM"] = offscreen_platform(*BENCH_SCREEN)

    from ..api import capture, load_model
    from .launch import freeze_startup_heap
    from .main import MainWindow
    from .settings import AppSettings

    app = QApplication.instance() or QApplication([])
    freeze_startup_heap()  # as `run_app` does, before the model and the window
    previous_handler = qInstallMessageHandler(_quiet_offscreen)
    model = load_model(preset_name)
    torch.manual_seed(0)
    trace = capture(model, torch.randn(1, 3, size, size))
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(
            model=model,
            start=False,
            quiet=True,
            settings=AppSettings(os.path.join(tmp, "bench.ini")),
        )
        window.resize(*BENCH_SCREEN)
        window.show()
        app.processEvents()
        shown = (window.width(), window.height())
        session = window.session
        session.set_trace(trace)
        session.select(stage=0, block=1, token=(20, 20))
        app.processEvents()
        _wait_drawn(app, window.panels["attention"])  # measured on drawn figures
        H, W = trace.stages[0].resolution
        heads = trace.config.num_heads[0]
        tokens = [((i * 7) % H, (i * 11) % W) for i in range(repeats + 2)]
        result = {
            "token": _timed(app, lambda i: session.select(token=tokens[i]), repeats),
            "head": _timed(app, lambda i: session.select(head=i % heads), repeats),
            "block": _timed(app, lambda i: session.step_by(1 if i % 2 else -1), repeats),
        }
        result["pdf export (attention)"] = _export_ms(window, tmp, repeats=5)
        if big:
            result.update(_background(app, window, model, big, repeats))
        window.close()
    qInstallMessageHandler(previous_handler)
    return shown, result
