"""`run_app`: create the QApplication, open the main window, run it (or save a screenshot)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from .main import MainWindow
from .screenshot import save_screenshot
from .settings import AppSettings


def run_app(image=None, model=None, screenshot=None, size=None, device: str = "cpu") -> int:
    """Open the explorer (returns the exit code). With `screenshot=FILE.png`: wait for the
    first trace, save the whole window and exit (0; 1 with one line if inference failed)."""
    import pyqtgraph as pg

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Swin Explorer")
    app.setOrganizationName("SwinExplorer")
    pg.setConfigOptions(imageAxisOrder="row-major")
    settings = AppSettings()
    if model is None:
        last = settings.last_model()
        model = last if last and _model_available(last) else "demo"
    window = MainWindow(
        model=model,
        image=image,
        size=size,
        device=device,
        settings=settings,
        quiet=screenshot is not None,
    )
    window.show()
    if screenshot is None:
        return app.exec()
    return save_screenshot(app, window, Path(screenshot))


def _model_available(spec: str) -> bool:
    from ..model import PRESETS

    return spec == "demo" or spec in PRESETS or Path(spec).exists()
