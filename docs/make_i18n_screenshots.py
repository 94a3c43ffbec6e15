"""Screenshots of every view in English and in Russian, in the real main window:
`DISPLAY=:N QT_QPA_PLATFORM=xcb python docs/make_i18n_screenshots.py [IMAGE]` (an X server
of 1366×768, e.g. `Xvfb :N -screen 0 1366x768x24`) writes
docs/screenshots/i18n/<view>_<en|ru>.png: the window at stage 1, block 1 (SW-MSA), token
(14, 14), with that view's dock raised. One process per language (`--lang` in a child)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots" / "i18n"


def shoot(lang: str, image: Path) -> None:
    """In this process: open the window in `lang`, grab it once per raised dock."""
    from PIL import Image
    from PySide6.QtWidgets import QApplication

    from swin_gui import i18n
    from swin_gui.app.language import install_qt_translations
    from swin_gui.app.main import MainWindow
    from swin_gui.app.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    i18n.set_language(lang)
    install_qt_translations(app)
    with tempfile.TemporaryDirectory() as tmp:
        settings = AppSettings(Path(tmp) / "s.ini")
        window = MainWindow(model="demo", image=image, quiet=True, start=False, settings=settings)
        window.fill_screen()
        window.show()
        window.run_inference()
        app.processEvents()
        window.session.select(stage=1, block=1, token=(14, 14))
        OUT.mkdir(parents=True, exist_ok=True)
        for name, dock in window.docks.items():
            if name not in window.panels:
                continue
            dock.show()
            dock.raise_()
            for _ in range(30):
                app.processEvents()
            path = OUT / f"{name}_{lang}.png"
            window.grab().save(str(path))
            picture = Image.open(path).convert("RGB").quantize(256, dither=Image.Dither.NONE)
            picture.save(path, optimize=True)  # 256 colours: a third of the size
            print(path.relative_to(ROOT))
        window.close()


def main() -> int:
    image = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "assets/samples/star_224.png"
    if os.environ.get("SWIN_I18N_SHOT"):
        shoot(os.environ["SWIN_I18N_SHOT"], image)
        return 0
    env = {**os.environ, "SWIN_GUI_SYNC": "1"}
    for lang in ("en", "ru"):
        code = subprocess.call(
            [sys.executable, __file__, str(image)], env={**env, "SWIN_I18N_SHOT": lang}
        )
        if code:
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
