"""Persistent user settings (QSettings "SwinExplorer" / "swin-gui", INI format).

What is remembered across runs: window geometry and dock state, the last folder of a file
dialog, the recent files (max 10, missing files pruned), the colormap, the last model,
the size mode and the interface language. `SWIN_GUI_SETTINGS=/path/file.ini` points the
app at another file (tests and screenshots use it so they never touch the user's settings).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "SwinExplorer"
APPLICATION = "swin-gui"
MAX_RECENT = 10
COLORMAPS = ("viridis", "magma", "inferno", "gray")


class AppSettings:
    """Typed access to the few values the app keeps between runs."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        path = path or os.environ.get("SWIN_GUI_SETTINGS")
        if path:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings(
                QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
            )

    def sync(self) -> None:
        self.qsettings.sync()

    # ---- recent files -----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Most recent first; files that no longer exist are pruned (and forgotten)."""
        stored = self.qsettings.value("recent", [], type=list) or []
        kept = [str(p) for p in stored if p and Path(str(p)).exists()]
        if kept != [str(p) for p in stored]:
            self.qsettings.setValue("recent", kept)
        return kept[:MAX_RECENT]

    def add_recent(self, path: str | os.PathLike) -> list[str]:
        path = str(Path(path).expanduser().resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT]
        self.qsettings.setValue("recent", files)
        return files

    def clear_recent(self) -> None:
        self.qsettings.setValue("recent", [])

    # ---- simple values ------------------------------------------------------------------------
    def last_folder(self) -> str:
        folder = str(self.qsettings.value("last_folder", "", type=str) or "")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def set_last_folder(self, path: str | os.PathLike) -> None:
        p = Path(path)
        self.qsettings.setValue("last_folder", str(p if p.is_dir() else p.parent))

    def colormap(self) -> str:
        name = str(self.qsettings.value("colormap", "viridis", type=str))
        return name if name in COLORMAPS else "viridis"

    def set_colormap(self, name: str) -> None:
        self.qsettings.setValue("colormap", name)

    def last_model(self) -> str | None:
        value = self.qsettings.value("last_model", "", type=str)
        return str(value) or None

    def set_last_model(self, spec: str) -> None:
        self.qsettings.setValue("last_model", spec)

    def size_mode(self) -> str:
        return str(self.qsettings.value("size_mode", "model", type=str) or "model")

    def set_size_mode(self, size: str | int) -> None:
        self.qsettings.setValue("size_mode", str(size))

    def language(self) -> str | None:
        """The remembered interface language ("en" / "ru"), None before any choice."""
        from ..i18n import normalize

        return normalize(str(self.qsettings.value("language", "", type=str) or ""))

    def set_language(self, code: str) -> None:
        self.qsettings.setValue("language", code)

    # ---- window ---------------------------------------------------------------------------
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
