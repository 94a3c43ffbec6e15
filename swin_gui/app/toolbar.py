"""The main window's toolbar: model ▾ · device ▾ · size ▾ · fit ▾ · breadcrumb. A choice
asks the `Controller` to capture; the toolbar follows what is loaded (`requestChanged`),
also back after a failed capture. Every text is re-applied by `retranslate()`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QSizePolicy, QToolBar

from ..i18n import tr
from ..model import PRESETS
from . import actions
from .controller import Controller
from .panels.base import ElidedLabel
from .state import CaptureRequest

SIZES: list[tuple[Callable[[], str], object]] = [
    (lambda: tr("Main", "model size"), "model"),
    (lambda: tr("Main", "native"), "native"),
    *((lambda n=n: str(n), n) for n in (224, 256, 384, 512)),
]
FITS: list[tuple[Callable[[], str], object]] = [
    (lambda: tr("Main", "auto"), None),
    (lambda: tr("Main", "crop"), "crop"),
    (lambda: tr("Main", "pad"), "pad"),
    (lambda: tr("Main", "stretch"), "stretch"),
]
OPEN_CHECKPOINT, OPEN_HF = "__open_checkpoint__", "__open_hf__"


class Toolbar(QToolBar):
    """model ▾ · device ▾ · size ▾ · fit ▾ · breadcrumb; a choice asks the controller."""

    def __init__(self, window: QMainWindow, ctl: Controller) -> None:
        super().__init__(window)
        self.window_, self.ctl = window, ctl
        self.setObjectName("toolbar_main")
        self.setMovable(False)
        self.model_combo = QComboBox(self)
        self.model_combo.setMinimumContentsLength(14)
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.device_combo = QComboBox(self)
        self.device_combo.addItem("CPU", "cpu")
        import torch

        if torch.cuda.is_available():
            self.device_combo.addItem("CUDA", "cuda")
        self.size_combo = QComboBox(self)
        for _label, value in SIZES:
            self.size_combo.addItem("", value)
        self.fit_combo = QComboBox(self)
        for _label, value in FITS:
            self.fit_combo.addItem("", value)
        self.breadcrumb = ElidedLabel(1, parent=self)
        self.breadcrumb.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.labels = {}
        for name, widget in (
            ("model", self.model_combo),
            ("device", self.device_combo),
            ("size", self.size_combo),
            ("fit", self.fit_combo),
        ):
            self.labels[name] = QLabel(self)
            self.addWidget(self.labels[name])
            self.addWidget(widget)
        self.addWidget(QLabel("  ", self))
        self.addWidget(self.breadcrumb)
        self._fill_model_combo()
        self.retranslate()
        self.model_combo.activated.connect(self._on_model)
        self.size_combo.activated.connect(lambda i: ctl.capture(size=self.size_combo.itemData(i)))
        self.fit_combo.activated.connect(lambda i: ctl.capture(fit=self.fit_combo.itemData(i)))
        self.device_combo.activated.connect(
            lambda i: ctl.capture(device=self.device_combo.itemData(i))
        )
        ctl.requestChanged.connect(self.sync)

    def retranslate(self) -> None:
        self.setWindowTitle(tr("Main", "Model and input"))
        names = {
            "model": tr("Main", "model"),
            "device": tr("Main", "device"),
            "size": tr("Main", "size"),
            "fit": tr("Main", "fit"),
        }
        for name, label in self.labels.items():
            label.setText(f"  {names[name]} ")
        for combo, items in ((self.size_combo, SIZES), (self.fit_combo, FITS)):
            for i, (label, _value) in enumerate(items):
                combo.setItemText(i, label())
        for i in range(self.model_combo.count()):
            data = self.model_combo.itemData(i)
            if data == OPEN_CHECKPOINT:
                self.model_combo.setItemText(i, tr("Main", "Open checkpoint…"))
            elif data == OPEN_HF:
                self.model_combo.setItemText(i, tr("Main", "Open HF folder…"))
            elif isinstance(data, str) and data in PRESETS:
                self.model_combo.setItemText(i, tr("Main", "{name} (random)", name=data))
        self.model_combo.setToolTip(
            tr("Main", "Model: the demo, a preset with random weights, or your own")
        )
        self.device_combo.setToolTip(
            tr("Main", "Where the model runs (changing it re-runs the model)")
        )
        self.size_combo.setToolTip(
            tr(
                "Main",
                "Input size: the model's own, the image's native size (padded to windows), or N×N",
            )
        )
        self.fit_combo.setToolTip(
            tr(
                "Main",
                "How a non-square image meets a square size: crop (timm's eval transform), pad "
                "(letterbox) or stretch; auto = the checkpoint's convention",
            )
        )
        self.breadcrumb.setToolTip(
            tr("Main", "Stages, blocks and heads count from 0 (stage 0 is the paper's Stage 1)")
        )

    def _fill_model_combo(self) -> None:
        combo = self.model_combo
        combo.addItem("swin-demo", "demo")
        for name in PRESETS:
            combo.addItem(name, name)
        combo.insertSeparator(combo.count())
        combo.addItem("", OPEN_CHECKPOINT)
        combo.addItem("", OPEN_HF)

    def ensure_model_item(self, spec: Any, label: str | None = None) -> int:
        """The model combo's index for `spec`, adding an item (at the top) when new."""
        combo = self.model_combo
        for i in range(combo.count()):
            data = combo.itemData(i)
            if data is spec or (isinstance(spec, str) and data == spec):
                return i
        if label is None:
            info = getattr(spec, "info", None)
            label = Path(spec).name if isinstance(spec, str) else getattr(info, "label", None)
        combo.insertItem(0, label or type(spec).__name__, spec)
        return 0

    def sync(self, request: CaptureRequest) -> None:
        """Show the request's model, size, device and fit."""
        self.model_combo.setCurrentIndex(self.ensure_model_item(request.model))
        pairs = (
            (self.size_combo, request.size),
            (self.device_combo, request.device),
            (self.fit_combo, request.fit),
        )
        for combo, value in pairs:
            for i in range(combo.count()):
                if str(combo.itemData(i)) == str(value):
                    combo.setCurrentIndex(i)
                    break

    def _on_model(self, index: int) -> None:
        """A model picked; the two "Open…" entries open a dialog first."""
        data = self.model_combo.itemData(index)
        if data == OPEN_CHECKPOINT:
            opened = actions.open_checkpoint_dialog(self.window_, self.ctl)
        elif data == OPEN_HF:
            opened = actions.open_hf_dialog(self.window_, self.ctl)
        else:
            opened = self.ctl.set_model(data) is not None
        if not opened:
            self.sync(self.ctl.request)
