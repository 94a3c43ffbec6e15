"""Text you can read, in the real default layout: the window opens within the screen, every
figure draws its text at 9 pt or more (12 device px at 96 dpi), and one attention key is at
least 8 screen px at every stage — at 1366×768 and 1920×1080, for the demo model and Swin-T.
Each case runs the app in a subprocess on an offscreen screen of that size."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from swin_gui.render.registry import NAMES

CASES = [("1366x768", "demo"), ("1920x1080", "demo"), ("1366x768", "swin_tiny_patch4_window7_224")]


@pytest.mark.slow
@pytest.mark.parametrize(("screen", "model"), CASES, ids=[f"{s}-{m[:9]}" for s, m in CASES])
def test_text_and_keys_are_big_enough(tmp_path, screen, model):
    env = {**os.environ, "SWIN_GUI_SETTINGS": str(tmp_path / "s.ini"), "OMP_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-m", "swin_gui.app.legibility", "--screen", screen, "--model", model],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    w, h = (int(v) for v in screen.split("x"))
    assert result["window"][0] <= w and result["window"][1] <= h
    assert set(result["views"]) >= set(NAMES)
    for name, view in result["views"].items():
        assert view["labels"] > 0, name
        assert view["min_text_px"] >= 12, (name, view)
    keys = result["keys"]
    assert len(keys) == 4 and all(k is not None and k >= 8 for k in keys.values()), keys
