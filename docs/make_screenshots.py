"""Regenerate the README screenshots: `python docs/make_screenshots.py [--offscreen]`.

Each shot is the real window, opened by `swin-gui IMAGE --screenshot FILE.png --view …` on
the bundled demo model, at 1366×768 (a laptop) and 1920×1080. With Xvfb installed
(`apt-get install xvfb`) every shot runs on a real X server of that size; otherwise, or
with --offscreen, on Qt's offscreen platform with a screen of that size.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SAMPLES = ROOT / "assets" / "samples"
STAR, ARROW, TWO = (
    SAMPLES / n for n in ("star_224.png", "arrow_333x250.png", "two_objects_333x250.png")
)

# name, screen, image, swin-gui arguments
SHOTS = [
    ("main_1366", "1366x768", STAR, "--view attention --stage 0 --block 1 --token 30,26"),
    ("mask_1366", "1366x768", STAR, "--view mask --stage 0 --block 1 --token 30,26"),
    ("shift_1366", "1366x768", STAR, "--view shift --stage 1 --block 1 --token 14,14"),
    ("bias_1366", "1366x768", STAR, "--view bias --stage 1 --block 1 --head 1"),
    ("internals_1366", "1366x768", STAR, "--view internals --stage 2 --block 1"),
    (
        "stage3_native_1366",
        "1366x768",
        ARROW,
        "--size native --view attention --stage 3 --block 1 --token 5,7",
    ),
    ("merging_native_1366", "1366x768", TWO, "--size native --view merging --stage 2 --block 0"),
    ("explain_1366", "1366x768", TWO, "--size native --view explain --stage 3 --block 1"),
    ("cost_1366", "1366x768", STAR, "--view cost --stage 0 --block 0"),
    ("main_1920", "1920x1080", STAR, "--view attention --stage 0 --block 1 --token 30,26"),
    (
        "stage3_native_1920",
        "1920x1080",
        TWO,
        "--size native --view attention --stage 3 --block 1 --token 5,7",
    ),
]


def xvfb(screen: str, display: str):
    w, h = screen.split("x")
    proc = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{w}x{h}x24", "-dpi", "96", "-nolisten", "tcp"],
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    return proc


def shoot(name: str, screen: str, image: Path, args: str, offscreen: bool, n: int) -> Path:
    from swin_gui.app.legibility import screen_config

    env = dict(os.environ, SWIN_GUI_SETTINGS=str(Path(tempfile.mkdtemp()) / "s.ini"))
    server = None
    if offscreen:
        w, h = (int(v) for v in screen.split("x"))
        env["QT_QPA_PLATFORM"] = f"offscreen:configfile={screen_config(w, h)}"
    else:
        env.pop("QT_QPA_PLATFORM", None)
        env["DISPLAY"] = f":{90 + n}"
        server = xvfb(screen, env["DISPLAY"])
    target = OUT / f"{name}.png"
    tmp = Path(tempfile.mkdtemp()) / f"{name}.png"
    cmd = [
        sys.executable,
        "-m",
        "swin_gui",
        str(image),
        "--model",
        "demo",
        "--screenshot",
        str(tmp),
        *args.split(),
    ]
    try:
        subprocess.run(cmd, env=env, check=True, timeout=300)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    shutil.move(tmp, target)
    return target


def main() -> int:
    offscreen = "--offscreen" in sys.argv or shutil.which("Xvfb") is None
    OUT.mkdir(parents=True, exist_ok=True)
    for n, (name, screen, image, args) in enumerate(SHOTS):
        print(shoot(name, screen, image, args, offscreen, n), flush=True)
    print(f"screenshots in {OUT} ({'offscreen' if offscreen else 'Xvfb'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
