"""pytest-qt setup for the app tests.

Before any Qt import: the offscreen platform (no display needed), one torch thread and
synchronous inference by default (`SWIN_GUI_SYNC=1`; the threaded path is tested with the
`threaded` fixture). Every test gets its own settings file, and no modal dialog can block a
test: QMessageBox is replaced by a recorder. The models and traces are in tests/conftest.py;
here are `make_panel` (a shown panel on its own session) and `picture_mouse` (real mouse
events at picture pixels).

`no_leaks` (autouse, as napari's and ndv's conftest do) fails a test that leaves anything
Qt behind: a top-level widget still open, a QThread still running, or a parentless QObject
(a worker, a session) still alive once the test's own references are gone.
"""

from __future__ import annotations

import gc
import os
import traceback
import weakref

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["SWIN_GUI_SYNC"] = "1"

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from PIL import Image
from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QPoint,
    QPointF,
    QSettings,
    Qt,
    QThread,
)
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from swin_gui.app.state import Session


def _qt_objects() -> list[QObject]:
    """Every live QObject wrapper Python holds (its C++ object not yet deleted)."""
    return [o for o in gc.get_objects() if issubclass(type(o), QObject) and shiboken6.isValid(o)]


def _flush_deletes() -> None:
    for _ in range(3):  # a deleteLater may post another one
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QApplication.processEvents()
    gc.collect()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed  # a failure's traceback keeps the test's objects
    return report


@pytest.fixture(autouse=True)
def no_leaks(qapp, request):
    """No widget, QObject or thread outlives a test (set up before, torn down after, every
    other fixture of the test, so qtbot has closed its widgets by then)."""
    _flush_deletes()
    before = weakref.WeakSet(_qt_objects())
    windows_before = set(QApplication.topLevelWidgets())
    started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    real_start = QThread.start

    def start(self, *args):
        started[self] = "".join(traceback.format_stack(limit=4)[:-1])
        real_start(self, *args)

    QThread.start = start
    try:
        yield
    finally:
        QThread.start = real_start
    request.node.funcargs.clear()  # the test's fixture values (pytest drops them just after)
    _flush_deletes()
    running = [where for thread, where in list(started.items()) if _running(thread)]
    assert not running, f"{len(running)} QThread(s) still running, started at:\n{running[0]}"
    windows = [
        w
        for w in QApplication.topLevelWidgets()
        if w not in windows_before and shiboken6.isValid(w) and w.isVisible()
    ]
    assert not windows, f"widgets left open: {[type(w).__name__ for w in windows]}"
    if getattr(request.node, "call_failed", False):
        return
    left = [
        o
        for o in _qt_objects()
        if o not in before and o is not qapp and o.parent() is None and not _app_owned(o)
    ]
    assert not left, f"QObjects that outlive the test: {sorted(type(o).__name__ for o in left)}"


def _running(thread: QThread) -> bool:
    return shiboken6.isValid(thread) and thread.isRunning()


def _app_owned(obj: QObject) -> bool:
    """Qt's own per-application singletons (a clipboard, a screen, a style, the global
    thread pool) that Python may first wrap during a test."""
    return type(obj).__name__ in {"QClipboard", "QScreen", "QStyle", "QThreadPool"} or (
        isinstance(obj, QWidget)
        and not obj.isVisible()
        and obj.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    )


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_model) -> Path:
    """The tiny model saved as a swin-gui safetensors checkpoint (loads via api.load_model)."""
    from swin_gui.model.checkpoints import save_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "tiny_swin.safetensors"
    save_checkpoint(tiny_model, path, tiny_model.info.class_names)
    return path


def _scene(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack(
        [
            x * 255 // max(1, width - 1),
            y * 255 // max(1, height - 1),
            np.full_like(x, seed * 37 % 256),
        ],
        axis=-1,
    )
    rgb = rgb + rng.integers(0, 30, size=rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


@pytest.fixture
def make_image(tmp_path) -> Callable[..., Path]:
    """make_image(name, height=64, width=64, seed=0) -> path of a real PNG file."""

    def make(name: str = "img.png", height: int = 64, width: int = 64, seed: int = 0) -> Path:
        path = tmp_path / name
        Image.fromarray(_scene(height, width, seed)).save(path)
        return path

    return make


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch) -> Path:
    """A fresh settings file per test; the user's own settings are never touched."""
    path = tmp_path / "settings" / "swin-gui.ini"
    path.parent.mkdir()
    monkeypatch.setenv("SWIN_GUI_SETTINGS", str(path))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(path.parent))
    return path


class DialogRecorder:
    """Stands in for QMessageBox's static functions; `answer` is what question() returns."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.answer = QMessageBox.StandardButton.No

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.calls]

    def record(self, kind: str) -> Callable:
        def fake(parent, title, text, *args, **kwargs):
            self.calls.append((kind, title, text))
            return self.answer if kind == "question" else QMessageBox.StandardButton.Ok

        return fake


@pytest.fixture(autouse=True)
def dialogs(monkeypatch) -> DialogRecorder:
    rec = DialogRecorder()
    for kind in ("warning", "critical", "information", "question", "about"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(rec.record(kind)))
    return rec


@pytest.fixture
def make_panel(qtbot) -> Callable:
    """make_panel(cls, trace, size=(900, 1000)) -> a shown `cls` panel on a new Session,
    the trace set after the panel exists (as the app does)."""

    def make(cls, trace, size: tuple[int, int] = (900, 1000)):
        session = Session()
        panel = cls(session)
        qtbot.addWidget(panel)
        panel.resize(*size)
        panel.show()
        qtbot.waitExposed(panel)
        session.set_trace(trace)
        return panel

    return make


class FigureMouse:
    """Real mouse events on a panel's `FigureView` at data point (x, y) of one plot."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot

    def point(self, panel, plot: str, x: float, y: float) -> QPoint:
        """Viewport position of data point (x, y) of `plot`, after pending re-layouts."""
        QApplication.processEvents()
        view = panel.view
        view._relayout.stop()
        view._draw()
        info = view.figure_scene.info
        fx, fy = info.layout.of(plot).to_fig(x, y)
        pos = view.mapFromScene(QPointF(fx * info.px_per_pt, fy * info.px_per_pt))
        assert view.viewport().rect().contains(pos), f"{plot} ({x}, {y}) is not on screen"
        return pos

    def click(self, panel, plot: str, x: float, y: float) -> None:
        pos = self.point(panel, plot, x, y)
        self.qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)

    def move(self, panel, plot: str, x: float, y: float) -> None:
        self.qtbot.mouseMove(panel.view.viewport(), self.point(panel, plot, x, y))


@pytest.fixture
def figure_mouse(qtbot) -> FigureMouse:
    return FigureMouse(qtbot)


@pytest.fixture
def threaded(monkeypatch) -> None:
    """Run the worker on its QThread (the real app's path) in this test."""
    monkeypatch.setenv("SWIN_GUI_SYNC", "0")


@pytest.fixture
def make_window(qtbot, isolated_settings) -> Iterator[Callable]:
    """make_window(model, image, **kw) -> a shown MainWindow, its first trace applied.
    At teardown every window is closed and its worker thread must have stopped (leak check)."""
    from swin_gui.app.main import MainWindow
    from swin_gui.app.settings import AppSettings

    windows = []

    def make(model, image, wait: bool = True, **kwargs):
        settings = kwargs.pop("settings", None) or AppSettings(isolated_settings)
        window = MainWindow(model=model, image=image, settings=settings, start=False, **kwargs)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        if wait:
            with qtbot.waitSignal(window.traceApplied, timeout=30_000):
                window.run_inference()
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.worker.is_running(), "worker thread left running after close"
