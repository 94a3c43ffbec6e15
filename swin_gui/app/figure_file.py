"""Figures to files: the same `FigureScene` the panels show, rendered offscreen to PNG
(at 96 dpi × scale), SVG (QSvgGenerator: labels stay `<text>`) or PDF (QPdfWriter: labels
stay text), written atomically. Used by File › Export view, export-all and `swin-gui
snapshot` (which starts an offscreen QApplication when there is none).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, QSize, QSizeF
from PySide6.QtGui import QImage, QPainter

from ..i18n import tr
from ..render import figure as F
from .figure_label import THEMES
from .figure_scene import FigureScene

FORMATS = ("png", "svg", "pdf")
FILE_WIDTH_PT = 720.0  # a figure written without a panel is laid out this wide (10 in)


def scene_bytes(scene: FigureScene, fmt: str) -> bytes:
    """The scene painted into a PNG (its pixel size), an SVG or a PDF (1 px = 1 pt)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter
    from PySide6.QtSvg import QSvgGenerator

    rect = scene.sceneRect()
    target = QRectF(0, 0, rect.width(), rect.height())
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if fmt == "png":
        size = QSize(int(np.ceil(rect.width())), int(np.ceil(rect.height())))
        image = QImage(size, QImage.Format.Format_RGB32)
        image.fill(scene.backgroundBrush().color())
        with _painter(image) as p:
            scene.render(p, QRectF(image.rect()), rect)
        image.save(buf, "PNG")
    elif fmt == "svg":
        gen = QSvgGenerator()
        gen.setOutputDevice(buf)
        gen.setSize(QSize(int(rect.width()), int(rect.height())))
        gen.setViewBox(target)
        gen.setResolution(72)
        gen.setTitle(scene.info.figure.title)
        with _painter(gen) as p:
            p.fillRect(target, scene.backgroundBrush())
            scene.render(p, target, rect)
    elif fmt == "pdf":
        writer = QPdfWriter(buf)
        writer.setResolution(72)
        page = QPageSize(QSizeF(rect.width(), rect.height()), QPageSize.Unit.Point, "figure")
        writer.setPageLayout(QPageLayout(page, QPageLayout.Orientation.Portrait, QMarginsF()))
        writer.setTitle(scene.info.figure.title)
        with _painter(writer) as p:
            p.fillRect(target, scene.backgroundBrush())
            scene.render(p, target, rect)
        del writer
    else:
        raise ValueError(
            tr("Figure", "unknown figure format {fmt!r}; choose png, svg or pdf", fmt=fmt)
        )
    buf.close()
    return bytes(data.data())


class _painter:
    def __init__(self, device) -> None:
        self.p = QPainter()
        if not self.p.begin(device):
            raise OSError(
                tr("Figure", "could not start drawing the figure (is the folder writable?)")
            )
        self.p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)

    def __enter__(self) -> QPainter:
        return self.p

    def __exit__(self, *exc) -> None:
        self.p.end()


def figure_scene(
    figure: F.Figure,
    scale: float = 1.0,
    theme: str = "dark",
    width_pt: float = FILE_WIDTH_PT,
    height_pt: float | None = None,
    fmt: str = "png",
) -> FigureScene:
    """A scene for a file: PNG at `scale` × 96 dpi, vector formats at 1 px = 1 pt."""
    scene = FigureScene()
    px_per_pt = scale * 96 / 72 if fmt == "png" else 1.0
    scene.draw(figure, width_pt, height_pt, px_per_pt, theme, heading=True)
    for item in scene.items():  # vector files get real text and lines, not cached pixmaps
        item.setCacheMode(item.CacheMode.NoCache)
    return scene


def figure_format(path: str | Path) -> str:
    """png, svg or pdf from the file name; a one-line ValueError for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(
            tr(
                "Figure",
                "cannot write {name}: figures are .png, .svg or .pdf (not .{suffix})",
                name=Path(path).name,
                suffix=suffix or "?",
            )
        )
    return suffix


def write_figure(
    figure: F.Figure,
    path: str | Path,
    *,
    scale: float = 1.0,
    theme: str = "dark",
    width_pt: float = FILE_WIDTH_PT,
    height_pt: float | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a figure as PNG (at `scale` x 96 dpi), SVG or PDF, chosen by the suffix;
    atomically, refusing an existing file unless `overwrite`."""
    from ..safe_write import atomic_write

    fmt = figure_format(path)
    if not 0.25 <= scale <= 8:
        raise ValueError(
            tr("Figure", "scale {scale} out of range: use 1-4 (at most 8)", scale=scale)
        )
    if theme not in THEMES:
        raise ValueError(tr("Figure", "unknown theme {theme!r}; choose light or dark", theme=theme))
    ensure_app()
    data = scene_bytes(figure_scene(figure, scale, theme, width_pt, height_pt, fmt), fmt)
    return atomic_write(path, lambda f: f.write(data), overwrite)


def ensure_app():
    """A QApplication for drawing offscreen (the CLI has none): the offscreen platform
    unless a display was asked for."""
    import os

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        from .qt_notes import quiet_qt_notes

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        quiet_qt_notes()
        app = QApplication(["swin-gui"])
    return app
