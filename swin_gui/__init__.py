"""Swin Explorer: an instrumented Swin v1/v2 and a desktop app to look inside it.

`import swin_gui` never imports Qt; the GUI loads lazily from `swin_gui.app`.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["capture", "explain", "load_model", "load_npz", "save_npz"]


def __getattr__(name: str):
    if name == "explain":  # a callable module: swin_gui.explain(model, image, method=...)
        from importlib import import_module

        return import_module(".explain", __name__)
    if name in ("capture", "load_model", "load_npz", "save_npz"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
