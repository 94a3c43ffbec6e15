"""How big is the text on screen? Opens the main window at a screen's size, raises every
view in turn and measures, in device pixels, the smallest text each figure draws, the
size of one attention key per stage, and whether the window fits the screen.

    QT_QPA_PLATFORM=offscreen:configfile=screen.json python -m swin_gui.app.legibility
    python -m swin_gui.app.legibility --screen 1366x768     # writes that config itself

Used by the tests (a subprocess per screen size) and for the closing notes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from ..i18n import tr


def screen_config(width: int, height: int, dpi: int = 96) -> str:
    """An offscreen-platform config file for one screen of that size; returns its path."""
    from ..display import offscreen_platform

    return offscreen_platform(width, height, dpi).split("configfile=", 1)[1]


def measure(window, app) -> dict:
    """{'window': [w, h], 'screen': [w, h], 'views': {name: {...}}, 'keys': {...}}."""
    screen = window.screen().availableGeometry()
    dpr = window.devicePixelRatioF()
    out = {
        "window": [window.frameGeometry().width(), window.frameGeometry().height()],
        "screen": [screen.width(), screen.height()],
        "views": {},
    }
    for name, panel in window.panels.items():
        dock = window.docks.get(name)
        if dock is not None:
            dock.raise_()
        app.processEvents()
        panel.refresh()
        app.processEvents()
        labels = panel.view.figure_scene.labels
        vp = panel.view.viewport()
        out["views"][name] = {
            "min_text_px": min((lb.pixel_size * dpr for lb in labels), default=None),
            "labels": len(labels),
            "viewport": [vp.width(), vp.height()],
        }
    out["keys"] = attention_key_px(window, app)
    return out


def attention_key_px(window, app) -> dict[str, float]:
    """Screen pixels of one key in the attention tiles, per stage (block 0)."""
    panel = window.panels.get("attention")
    if panel is None:
        return {}
    window.docks["attention"].raise_()
    result = {}
    trace = window.session.trace
    for stage in range(len(trace.stages)):
        window.session.select(step="block", stage=stage, block=0)
        app.processEvents()
        panel.refresh()
        info = panel.view.figure_scene.info
        sizes = []
        for pl in info.layout.placements:
            for region in pl.plot.hits:
                if region.payload.get("head", None) is not None or "tokens" in region.payload:
                    x0, _, x1, _ = region.extent
                    (a, _), (b, _) = pl.to_fig(x0, 0), pl.to_fig(x1, 0)
                    sizes.append(abs(b - a) * info.px_per_pt / region.shape[1])
        result[str(stage)] = min(sizes) if sizes else None
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m swin_gui.app.legibility")
    p.add_argument(
        "--screen", default=None, help=tr("CLI", "WxH: run on an offscreen screen that size")
    )
    p.add_argument("--model", default="demo")
    p.add_argument("--image", default=None)
    args = p.parse_args(argv)
    if args.screen:
        w, h = (int(v) for v in args.screen.lower().split("x"))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={screen_config(w, h)}"
    os.environ.setdefault("SWIN_GUI_SYNC", "1")
    from PySide6.QtWidgets import QApplication

    from .main import MainWindow
    from .settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(
            model=args.model,
            image=args.image,
            quiet=True,
            start=False,
            settings=AppSettings(Path(tmp) / "s.ini"),
        )
        window.fill_screen()
        window.show()
        window.run_inference()
        app.processEvents()
        result = measure(window, app)
        window.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
