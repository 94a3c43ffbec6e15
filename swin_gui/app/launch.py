"""`run_app`: create the QApplication, open the main window, run it (or save a screenshot)."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from .. import i18n
from .language import install_qt_translations
from .main import MainWindow
from .qt_notes import quiet_qt_notes
from .screenshot import save_screenshot
from .settings import AppSettings


def freeze_startup_heap() -> None:
    """Leave what the imports made out of every later garbage collection: the ~330,000
    objects made one full collection ~300 ms on the GUI thread, at random, and every token
    change a few ms slower. Modules that load on first use (numpy.ma: ~20 ms the first time
    a block was visited) are imported first. Nothing loaded later (window, models, traces)
    is frozen, so what they leave is still collected."""
    import numpy.ma  # noqa: F401  (np.unique, np.isin … import it on first call)

    gc.collect()
    gc.freeze()


def run_app(
    image=None,
    model=None,
    screenshot=None,
    size=None,
    device: str = "cpu",
    place: dict | None = None,
    lang: str | None = None,
    fit: str | None = None,
) -> int:
    """Open the explorer (returns the exit code). `place` (view, stage, block, token, head)
    is where it opens once the first trace is in. With `screenshot=FILE.png`: open at the
    screen's size, wait for that, save the whole window and exit (0; 1 with one line if
    inference or writing failed). `lang` ("en" / "ru", `--lang`) is chosen for this run and
    remembered (not by a screenshot); without it the remembered choice, else the system's."""
    import pyqtgraph as pg

    quiet_qt_notes()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Swin Explorer")
    app.setOrganizationName("SwinExplorer")
    pg.setConfigOptions(imageAxisOrder="row-major")
    settings = AppSettings()
    start_language(settings, lang, remember=screenshot is None)
    install_qt_translations(app)
    freeze_startup_heap()
    if model is None:
        last = settings.last_model()
        model = last if last and _model_available(last) else "demo"
    window = MainWindow(
        model=model,
        image=image,
        size=size,
        fit=fit,
        device=device,
        settings=settings,
        quiet=screenshot is not None,
        place=place,
    )
    if screenshot is None:
        window.show()
        return app.exec()
    window.fill_screen()
    window.show()
    return save_screenshot(app, window, Path(screenshot))


def start_language(settings: AppSettings, lang: str | None, remember: bool = True) -> str:
    """Choose the interface language: `lang` (--lang), else the remembered choice, else
    the system's; an explicit choice is remembered unless `remember` is False (a
    screenshot run leaves the user's choice alone). Returns the code."""
    code = i18n.choose(lang, settings.language())
    i18n.set_language(code)
    if lang is not None and remember:
        settings.set_language(code)
    return code


def _model_available(spec: str) -> bool:
    from ..model import PRESETS

    return spec == "demo" or spec in PRESETS or Path(spec).exists()
