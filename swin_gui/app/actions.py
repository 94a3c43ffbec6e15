"""Opening things: the file dialogs for images, checkpoints and Hugging Face folders, drag
and drop, pasting an image from the clipboard, the samples and the default image.

The dialogs take a parent widget and the `Controller`, which runs what was chosen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from ..i18n import tr
from .controller import CHECKPOINT_SUFFIXES, Controller

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")
DIALOG_OPTIONS = QFileDialog.Option.DontUseNativeDialog


def image_filter() -> str:
    patterns = " ".join(f"*{s}" for s in IMAGE_SUFFIXES)
    return tr("Main", "Images ({patterns});;All files (*)", patterns=patterns)


def checkpoint_filter() -> str:
    patterns = " ".join(f"*{s}" for s in CHECKPOINT_SUFFIXES)
    return tr("Main", "Checkpoints ({patterns});;All files (*)", patterns=patterns)


def open_image_dialog(parent: QWidget, ctl: Controller) -> None:
    path, _ = QFileDialog.getOpenFileName(
        parent,
        tr("Main", "Open image"),
        ctl.settings.last_folder(),
        image_filter(),
        options=DIALOG_OPTIONS,
    )
    if path:
        ctl.open_path(path)


def open_checkpoint_dialog(parent: QWidget, ctl: Controller) -> bool:
    path, _ = QFileDialog.getOpenFileName(
        parent,
        tr("Main", "Open Swin checkpoint"),
        ctl.settings.last_folder(),
        checkpoint_filter(),
        options=DIALOG_OPTIONS,
    )
    if path:
        ctl.open_path(path)
    return bool(path)


def open_hf_dialog(parent: QWidget, ctl: Controller) -> bool:
    path = QFileDialog.getExistingDirectory(
        parent,
        tr("Main", "Open Hugging Face model folder"),
        ctl.settings.last_folder(),
        options=DIALOG_OPTIONS | QFileDialog.Option.ShowDirsOnly,
    )
    if path:
        ctl.open_path(path)
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


def paste_image(parent: QWidget, ctl: Controller) -> bool:
    """Edit › Paste: an image on the clipboard, or a copied image file."""
    mime = QApplication.clipboard().mimeData()
    paths = local_paths(mime) if mime is not None else []
    if paths:
        ctl.open_path(paths[0])
        return True
    image = QApplication.clipboard().image()
    if image.isNull():
        ctl.status.emit(tr("Main", "the clipboard holds no image"), True)
        return False
    ctl.open_image(qimage_to_array(image), "clipboard")
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
    return gradient_image(), tr("Main", "built-in gradient")
