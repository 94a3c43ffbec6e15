"""`swin-gui --screenshot FILE.png`: wait for the first trace (and the place asked for with
--view/--stage/--block/--token/--head, and what the panels on screen compute in the
background for it: a big block's attention, its masks), grab the whole window, write it
atomically (never over an existing file) and quit. Exit code 0; 1 with a one-line message
on stderr when inference or writing fails; 2 after the safety timeout: `timeout_s` with no
progress (a 12 MP capture reports each stage, so a long one is not cut off while it
moves)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QTimer
from PySide6.QtWidgets import QApplication

from ..errors import one_line
from ..i18n import tr

if TYPE_CHECKING:
    from .main import MainWindow


def window_png(window: MainWindow) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    window.grab().save(buf, "PNG")
    buf.close()
    return bytes(data.data())


def save_screenshot(app: QApplication, window: MainWindow, path: Path, timeout_s: int = 120) -> int:
    """Run the event loop until the window is saved to `path`; returns the exit code."""
    from ..safe_write import atomic_write

    result = {"code": 2, "error": tr("CLI", "no trace after {s} s", s=timeout_s), "done": False}
    watchdog = QTimer(window, singleShot=True, interval=timeout_s * 1000)
    watchdog.timeout.connect(lambda: finish(2, str(result["error"])))

    def finish(code: int, error: str | None) -> None:
        if result["done"]:
            return
        result.update(code=code, error=error, done=True)
        window.close()
        app.exit(code)

    def save() -> None:
        if result["done"]:
            return
        app.processEvents()
        if any(p.waiting and p.isVisible() for p in window.panels.values()):
            QTimer.singleShot(100, save)  # a shown panel's background work is not in yet
            return
        try:
            data = window_png(window)
            atomic_write(path, lambda f: f.write(data), overwrite=False)
        except Exception as e:
            finish(1, one_line(e))
            return
        finish(0, None)

    window.placed.connect(lambda: QTimer.singleShot(300, save))
    window.inferenceFailed.connect(lambda message: finish(1, message))
    window.controller.progressed.connect(lambda *_: watchdog.start())  # progress: wait on
    window.session.computed.connect(lambda *_: watchdog.start())
    watchdog.start()
    if window.session.trace is not None and window.place_done:  # synchronous mode
        QTimer.singleShot(300, save)
    elif window.last_error:  # synchronous mode: already failed
        QTimer.singleShot(0, lambda: finish(1, window.last_error))
    app.exec()
    if result["error"]:
        print(tr("CLI", "swin-gui: error: {message}", message=result["error"]), file=sys.stderr)
    return int(result["code"])
