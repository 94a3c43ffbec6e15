"""Regenerate the README screenshots (offscreen): `python docs/make_screenshots.py`.

The whole window at stage 0 (224 sample) and stage 3 (native 333x250 sample), plus single
panels, all on the bundled demo model.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["SWIN_GUI_SYNC"] = "1"  # inference applies before the next line runs

from PySide6.QtWidgets import QApplication

from swin_gui.api import load_model
from swin_gui.app.main import MainWindow
from swin_gui.app.settings import AppSettings

OUT = Path(__file__).resolve().parent / "screenshots"
SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "samples"


def shoot(window: MainWindow, app: QApplication, name: str, panels: tuple[str, ...] = ()) -> None:
    app.processEvents()
    window.grab().save(str(OUT / f"{name}.png"))
    for panel in panels:
        window.docks[panel].raise_() if panel in window.docks else None
        app.processEvents()
        window.panels[panel].grab().save(str(OUT / f"{name}_{panel}.png"))


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    model = load_model(sys.argv[1] if len(sys.argv) > 1 else "demo")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(
            model=model, start=False, quiet=True, settings=AppSettings(os.path.join(tmp, "s.ini"))
        )
        window.resize(1600, 1000)
        window.show()
        s = window.session
        star = SAMPLES / "star_224.png"
        window.run_inference(image=star, source=str(star), size="model")
        s.select(stage=0, block=1, step="block", token=(30, 26))
        shoot(window, app, "main", ("attention", "mask", "shift", "pyramid"))
        s.select(stage=1, block=1, token=(14, 14), head=None)
        shoot(window, app, "stage1", ("attention", "bias", "internals"))
        two = SAMPLES / "two_objects_333x250.png"
        window.run_inference(image=two, source=str(two), size="native")
        s.select(stage=3, block=1, step="block", token=(5, 7))
        shoot(window, app, "native_stage3", ("shift", "merging", "predictions"))
        window.close()
    print(f"screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
