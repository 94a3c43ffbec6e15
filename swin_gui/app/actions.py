"""Opening things: image files, checkpoints and Hugging Face folders (dialogs, drag and
drop, recent files, samples), pasting an image from the clipboard, and the default image.

Every function takes the `MainWindow`; the window decides what runs the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog

if TYPE_CHECKING:
    from .main import MainWindow

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")
CHECKPOINT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"
CHECKPOINT_FILTER = (
    "Checkpoints (" + " ".join(f"*{s}" for s in CHECKPOINT_SUFFIXES) + ");;All files (*)"
)
DIALOG_OPTIONS = QFileDialog.Option.DontUseNativeDialog


def classify_path(path: str | Path) -> str:
    """'hf' for a folder, 'checkpoint' for weight files, 'image' for anything else."""
    p = Path(path)
    if p.is_dir():
        return "hf"
    return "checkpoint" if p.suffix.lower() in CHECKPOINT_SUFFIXES else "image"


def open_path(window: MainWindow, path: str | Path) -> None:
    """Open a file or folder as an image or a model, by what it is."""
    p = Path(path).expanduser()
    kind = classify_path(p)
    window.settings.set_last_folder(p)
    if kind == "image":
        window.open_image(p, str(p))
    else:
        window.set_model(str(p), p.name)


def open_image_dialog(window: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(
        window, "Open image", window.settings.last_folder(), IMAGE_FILTER, options=DIALOG_OPTIONS
    )
    if path:
        open_path(window, path)


def open_checkpoint_dialog(window: MainWindow) -> bool:
    path, _ = QFileDialog.getOpenFileName(
        window,
        "Open Swin checkpoint",
        window.settings.last_folder(),
        CHECKPOINT_FILTER,
        options=DIALOG_OPTIONS,
    )
    if path:
        window.settings.set_last_folder(path)
        window.set_model(path, Path(path).name)
    return bool(path)


def open_hf_dialog(window: MainWindow) -> bool:
    path = QFileDialog.getExistingDirectory(
        window,
        "Open Hugging Face model folder",
        window.settings.last_folder(),
        options=DIALOG_OPTIONS | QFileDialog.Option.ShowDirsOnly,
    )
    if path:
        window.settings.set_last_folder(path)
        window.set_model(path, Path(path).name)
    return bool(path)


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files/folders a drag (or the clipboard) carries."""
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def qimage_to_array(image: QImage) -> np.ndarray:
    """A QImage -> (H, W, 3) uint8 RGB (alpha composited on white)."""
    if image.hasAlphaChannel():
        flat = QImage(image.size(), QImage.Format.Format_RGB32)
        flat.fill(0xFFFFFFFF)
        from PySide6.QtGui import QPainter

        painter = QPainter(flat)
        painter.drawImage(0, 0, image)
        painter.end()
        image = flat
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    buf = np.frombuffer(rgb.constBits(), np.uint8, count=stride * h)  # h*stride bytes
    return buf.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()  # H, W, 3


def paste_image(window: MainWindow) -> bool:
    """Edit › Paste: an image on the clipboard, or a copied image file."""
    mime = QApplication.clipboard().mimeData()
    paths = local_paths(mime) if mime is not None else []
    if paths:
        open_path(window, paths[0])
        return True
    image = QApplication.clipboard().image()
    if image.isNull():
        window.show_status("the clipboard holds no image", error=True)
        return False
    window.open_image(qimage_to_array(image), "clipboard")
    return True


def sample_images(folder: Path = SAMPLES) -> list[Path]:
    """assets/samples/* image files, sorted by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def gradient_image(height: int = 224, width: int = 224) -> np.ndarray:
    """A built-in test picture: colour gradients with a bright disc (H, W, 3 uint8)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = x / max(1, width - 1)
    g = y / max(1, height - 1)
    b = 1.0 - (r + g) / 2
    disc = ((x - 0.62 * width) ** 2 + (y - 0.4 * height) ** 2) < (0.18 * min(height, width)) ** 2
    rgb = np.stack([r, g, b], axis=-1)  # H, W, 3
    rgb[disc] = (1.0, 0.95, 0.3)
    return (rgb * 255).round().astype(np.uint8)


def default_image() -> tuple[object, str]:
    """(image, source label): the first sample, else the built-in gradient."""
    samples = sample_images()
    if samples:
        return samples[0], str(samples[0])
    return gradient_image(), "built-in gradient"
