"""Small dialogs: errors (one line, never a traceback), overwrite questions, the keyboard
shortcuts help and the architecture summary."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..i18n import num, tr


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """A warning box with one line of text."""
    QMessageBox.warning(parent, title, message)


def ask_overwrite(parent: QWidget | None, existing: Sequence[Path | str]) -> bool:
    """Ask before replacing files; False (keep them) is the default answer."""
    names = ", ".join(Path(p).name for p in list(existing)[:3])
    if len(existing) == 1:
        text = tr("Main", "{names} already exists. Replace?", names=names)
    elif len(existing) <= 3:
        text = tr("Main", "{names} already exist. Replace?", names=names)
    else:
        text = tr(
            "Main", "{names} and {n} more already exist. Replace?", names=names, n=len(existing) - 3
        )
    answer = QMessageBox.question(
        parent,
        tr("Main", "Replace files?"),
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class ShortcutsDialog(QDialog):
    """Help › Shortcuts: a two-column table of keys and what they do."""

    def __init__(self, rows: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Main", "Keyboard shortcuts"))
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels([tr("Main", "Key"), tr("Main", "Action")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for i, (keys, action) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(keys))
            self.table.setItem(i, 1, QTableWidgetItem(action))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 30 * len(rows) + 90)

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.table.item(i, 0).text(), self.table.item(i, 1).text())
            for i in range(self.table.rowCount())
        ]


def architecture_rows(model, cfg, image_hw: tuple[int, int] | None) -> list[tuple[str, str]]:
    """The rows `swin-gui inspect` prints (`api.describe_model`), with the MACs counted at
    the current image size instead of the model's input size."""
    from ..api import describe_model
    from ..model.cost import format_macs, macs

    rows = [(k, v) for k, v in describe_model(model) if k != "MACs" and not k.startswith(" ")]
    h, w = image_hw or (cfg.img_size, cfg.img_size)
    rows.append((tr("Main", "MACs at {w}×{h}", w=w, h=h), format_macs(macs(cfg, h, w)["total"])))
    return rows


class ArchitectureDialog(QDialog):
    """Model › Architecture summary."""

    def __init__(self, rows: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Main", "Architecture summary"))
        self.browser = QTextBrowser(self)
        body = "".join(
            f"<tr><td><b>{html.escape(k)}</b></td><td>&nbsp;&nbsp;{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        self.browser.setHtml(f"<table cellpadding='3'>{body}</table>")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(460, 420)

    def text(self) -> str:
        return self.browser.toPlainText()


def confirm_memory(parent: QWidget | None, request, model=None):
    """Before a capture that would need more than half of the free memory: continue, use
    2048 px instead, or cancel (None). `model` is the one loaded now (its width and input
    size make the estimate; Swin-T's when None)."""
    from dataclasses import replace

    from . import memory_check as mc

    cfg = getattr(model, "cfg", None)
    embed, img_size = (cfg.embed_dim, cfg.img_size) if cfg is not None else (96, 224)
    pixels = mc.input_pixels(request.image, request.size, img_size)
    free = mc.available_bytes()
    if not mc.too_big(pixels, embed, free):
        return request
    need = mc.capture_bytes(pixels, embed) / 2**30
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(tr("Main", "A big capture"))
    box.setText(
        tr(
            "Main",
            "This image at this size is {mp} megapixels: the capture needs about {need} GB, "
            "more than half of the {free} GB free.",
            mp=num(pixels / 1e6, ".1f"),
            need=num(need, ".1f"),
            free=num(free / 2**30, ".1f"),
        )
    )
    go = box.addButton(tr("Main", "Continue"), QMessageBox.ButtonRole.AcceptRole)
    smaller = box.addButton(tr("Main", "Use 2048 px"), QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    if box.clickedButton() is go:
        return request
    if box.clickedButton() is smaller:
        return replace(request, size=2048)
    return None
