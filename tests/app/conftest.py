"""pytest-qt setup for the app tests.

Before any Qt import: the offscreen platform (no display needed), one torch thread and
synchronous inference by default (`SWIN_GUI_SYNC=1`; the threaded path is tested with the
`threaded` fixture). Then the PySide6 6.12 refcount guard. Every test gets its own settings
file, and no modal dialog can block a test: QMessageBox is replaced by a recorder.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["SWIN_GUI_SYNC"] = "1"

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from swin_gui import api
from swin_gui.model import SwinConfig, SwinTransformer

TINY = SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), num_classes=8)
# Swin-T's depths and head growth, but narrow so it stays cheap
NARROW_T = SwinConfig(embed_dim=24, depths=(2, 2, 6, 2), num_heads=(1, 2, 3, 6), num_classes=8)
CLASS_NAMES = ("star", "ring", "cross", "arrow", "triangle", "hexagon", "square", "disc")


def build_model(cfg: SwinConfig, label: str) -> SwinTransformer:
    torch.manual_seed(0)
    model = SwinTransformer(cfg.with_(class_names=CLASS_NAMES)).eval()
    model.info = api.ModelInfo(label, "preset", label, True, CLASS_NAMES)
    return model


@pytest.fixture(scope="session")
def tiny_model() -> SwinTransformer:
    return build_model(TINY, "tiny (random)")


@pytest.fixture(scope="session")
def narrow_t_model() -> SwinTransformer:
    return build_model(NARROW_T, "narrow Swin-T (random)")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_model) -> Path:
    """The tiny model saved as a swin-gui safetensors checkpoint (loads via api.load_model)."""
    from swin_gui.model.checkpoints import save_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "tiny_swin.safetensors"
    save_checkpoint(tiny_model, path, CLASS_NAMES)
    return path


@pytest.fixture(scope="session")
def tiny_trace(tiny_model):
    return api.capture(tiny_model, torch.randn(1, 3, 224, 224))


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
