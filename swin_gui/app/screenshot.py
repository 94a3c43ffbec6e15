"""`swin-gui --screenshot FILE.png`: wait for the first trace to be applied (panels render
synchronously on it), grab the whole window, save it and quit. Exit code 0; 1 with a one-line
message on stderr when inference fails; 2 after the safety timeout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from .main import MainWindow


def save_screenshot(app: QApplication, window: MainWindow, path: Path, timeout_s: int = 120) -> int:
    """Run the event loop until the window is saved to `path`; returns the exit code."""
    result = {"code": 2, "error": f"no trace after {timeout_s} s", "done": False}

    def save() -> None:
        if result["done"]:
            return
        result["done"] = True
        app.processEvents()
        path.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(path))
        result.update(code=0 if ok else 1, error=None if ok else f"cannot write {path}")
        window.close()
        app.exit(result["code"])

    def failed(message: str, code: int = 1) -> None:
        if result["done"]:
            return
        result.update(code=code, error=message, done=True)
        window.close()
        app.exit(code)

    window.traceApplied.connect(lambda _t: QTimer.singleShot(250, save))
    window.inferenceFailed.connect(failed)
    QTimer.singleShot(timeout_s * 1000, lambda: failed(str(result["error"]), 2))
    if window.session.trace is not None:  # synchronous mode: already applied
        QTimer.singleShot(250, save)
    elif window.last_error:  # synchronous mode: already failed
        QTimer.singleShot(0, lambda: failed(window.last_error))
    app.exec()
    if result["error"]:
        print(f"swin-gui: {result['error']}", file=sys.stderr)
    return int(result["code"])
