"""Memory comes back: after a large capture (and its first panel), switching back to a 224
image or to another model returns the RSS to near where it was. Measured in a child
process that reads its own RSS (`swin_gui.bench.measure_big`)."""

from __future__ import annotations

import sys

import pytest

from swin_gui.bench import measure_in_child

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

SLACK_MB = 120  # generous; before the fix the 224 switch stayed about 270 MB up


def test_rss_returns_after_switching_back_from_a_large_image():
    r = measure_in_child("demo", 1536, 1536, "capture", threads=1)
    assert "error" not in r, r
    grew = r["peak_rss_mb"] - r["rss_before_mb"]
    assert grew > 2 * SLACK_MB, r  # the large capture really used memory
    assert r["rss_after_224_mb"] <= r["rss_before_mb"] + SLACK_MB, r
    assert r["rss_other_model_mb"] <= r["rss_before_mb"] + SLACK_MB, r


def test_export_children_run_the_real_export_and_report_their_own_peak():
    """The bench's export rows run `swin-gui export`'s per-image work (NPZ, PNGs) in a
    child: attention kept makes a bigger trace.npz than --attention none."""
    full = measure_in_child("demo", 512, 384, "export", threads=1)
    none = measure_in_child("demo", 512, 384, "export-none", threads=1)
    assert "error" not in full and "error" not in none, (full, none)
    assert full["npz_mb"] > none["npz_mb"] > 0, (full, none)
    for r in (full, none):
        assert r["export_peak_rss_mb"] >= r["rss_before_mb"] and r["export_s"] > 0, r
