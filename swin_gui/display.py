"""Can the GUI open a window here? Checked before Qt starts, so a missing system library is
one line naming it (Qt itself aborts with a message that blames `xcb-cursor0` whichever
library is missing). Qt-free: it loads Qt's X11 platform plugin with ctypes and reads the
loader's error.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
from pathlib import Path

# the Debian/Ubuntu package of each library Qt's xcb plugin needs beyond a bare desktop
PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libX11-xcb.so.1": "libx11-xcb1",
}


SCREENSHOT_SCREEN = (1366, 768)  # the offscreen screen of a --screenshot: a laptop


def offscreen_platform(width: int, height: int, dpi: int = 96) -> str:
    """QT_QPA_PLATFORM for Qt's offscreen platform with one screen of that size."""
    import json
    import tempfile

    cfg = {
        "screens": [
            {
                "name": "screen",
                "x": 0,
                "y": 0,
                "width": width,
                "height": height,
                "logicalDpi": dpi,
                "dpr": 1,
            }
        ]
    }
    fd, path = tempfile.mkstemp(prefix="swin-gui-screen-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(cfg, f)
    return f"offscreen:configfile={path}"


class DisplayError(RuntimeError):
    """The GUI cannot open a window here; the message is one line."""


def platform_plugin_dir() -> Path | None:
    """Where Qt will look for platform plugins (QT_QPA_PLATFORM_PLUGIN_PATH, else PySide6's)."""
    env = os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms"


def check_xcb() -> None:
    """Raise DisplayError naming the missing library when Qt's xcb plugin cannot load."""
    folder = platform_plugin_dir()
    if folder is None:
        return
    plugin = folder / "libqxcb.so"
    if not plugin.exists():
        raise DisplayError(f"Qt's X11 platform plugin libqxcb.so is not in {folder}")
    try:
        ctypes.CDLL(str(plugin), mode=getattr(os, "RTLD_LAZY", 1))
    except OSError as e:
        raise DisplayError(missing_library_message(str(e))) from None


def missing_library_message(loader_error: str) -> str:
    """'the X11 window cannot open: libxcb-icccm.so.4 is missing (apt-get install …)'."""
    found = re.search(r"([\w.+-]+\.so[\w.]*): cannot open shared object file", loader_error)
    if not found:
        return f"Qt's X11 platform plugin cannot load ({loader_error.splitlines()[0]})"
    lib = found.group(1)
    package = PACKAGES.get(lib)
    if lib.startswith("libQt6"):
        hint = "it is part of PySide6: reinstall PySide6-Essentials"
    elif package:
        hint = f"install it with: apt-get install {package}"
    else:
        hint = "install the package that provides it"
    return (
        f"the X11 window cannot open: {lib} is missing ({hint}; the README lists every "
        "system package a bare Debian/Ubuntu desktop needs)"
    )
