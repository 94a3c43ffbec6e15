"""The shared text and drawing pieces every view uses: DejaVu draws the symbols as they are,
the ASCII fallback replaces only what a font lacks, sprite blitting matches Pillow's own
text, and the canvas / stacking / pasting / upscaling primitives and the per-trace cache."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from PIL import Image, ImageDraw

from swin_gui.render import text
from swin_gui.render.cache import TraceCache
from swin_gui.render.draw import BACKGROUND, canvas, hstack, paste, upscale, vstack

SYMBOLS = "56×56 · Δrow ≤ M → ‖x‖₂ 16·σ τ"
DEJAVU = text.font(12).getname()[0] == "DejaVu Sans"


def _clear_text_caches() -> None:
    for fn in (text.font, text.has_glyph, text.sprite, text.text_strip):
        fn.cache_clear()


@pytest.fixture
def without_dejavu(monkeypatch):
    """The text module as on a system without DejaVu Sans: Pillow's bundled font."""
    monkeypatch.setattr(text, "FONT_FILES", ())
    _clear_text_caches()
    yield
    monkeypatch.undo()
    _clear_text_caches()


@pytest.mark.skipif(not DEJAVU, reason="DejaVu Sans is not installed")
def test_dejavu_draws_every_symbol_as_it_is():
    assert text.font(12).getname()[0] == "DejaVu Sans"
    assert all(text.has_glyph(ch) for ch in SYMBOLS if not ch.isascii())
    assert text.safe(SYMBOLS) == SYMBOLS


def test_fallback_spells_only_missing_glyphs_in_ascii(without_dejavu):
    out = text.safe(SYMBOLS)
    missing = [ch for ch in SYMBOLS if not ch.isascii() and not text.has_glyph(ch)]
    assert missing, "Pillow's bundled font has every symbol: nothing to fall back from"
    for ch in missing:
        assert ch not in out
    assert all(ch.isascii() or text.has_glyph(ch) for ch in out)
    if not text.has_glyph("×"):
        assert out.startswith("56x56")
    strip = text.text_strip(SYMBOLS, 12)  # draws without a tofu-only failure
    assert strip.shape[1] >= text.measure(SYMBOLS, 12)[0] and (strip != BACKGROUND).any()


def test_sprite_blit_matches_pillow_text():
    rgb = canvas(40, 320)
    xy, colour, size = (5, 7), (250, 200, 10), 13
    text.draw_labels(rgb, [(xy, SYMBOLS, colour, size, None)])
    img = Image.fromarray(canvas(40, 320))
    ImageDraw.Draw(img).text(xy, text.safe(SYMBOLS, size), fill=colour, font=text.font(size))
    diff = np.abs(rgb.astype(int) - np.asarray(img, int))
    assert (rgb != BACKGROUND).any(axis=2).sum() > 100  # something was drawn
    assert diff.max() <= 2


def test_labels_are_clipped_and_boxed():
    rgb = canvas(20, 30)
    text.draw_labels(rgb, [((-10, -5), "clipped on every side", (255, 255, 255), 14, (0, 90, 0))])
    assert rgb.shape == (20, 30, 3)
    assert ((rgb == (0, 90, 0)).all(axis=2)).any()  # the box behind the text


def test_text_strip_fits_its_text_and_is_read_only():
    strip = text.text_strip("head 3", 12)
    w, h = text.measure("head 3", 12)
    assert strip.shape[0] >= h and strip.shape[1] >= w
    assert not strip.flags.writeable
    assert text.text_strip("head 3", 12) is strip  # cached


def test_titled_puts_a_caption_strip_above():
    rgb = np.full((10, 400, 3), 7, np.uint8)
    out = text.titled(rgb, "Window grid · stage 0", size=13)
    h = out.shape[0] - rgb.shape[0]
    assert h > 13 and out.shape[1] == 400
    np.testing.assert_array_equal(out[h:], rgb)
    assert (out[:h] != BACKGROUND).any()


def test_canvas_stack_and_paste():
    np.testing.assert_array_equal(canvas(3, 4, (1, 2, 3)), np.full((3, 4, 3), (1, 2, 3), np.uint8))
    assert canvas(0, 5).shape == (0, 5, 3)
    a, b = np.full((2, 3, 3), 10, np.uint8), np.full((4, 1, 3), 20, np.uint8)
    row = hstack([a, b], gap=2, color=(9, 9, 9))
    assert row.shape == (4, 6, 3)
    assert (row[:2, :3] == 10).all() and (row[:, 5] == 20).all()
    assert (row[2:, :3] == 9).all() and (row[:, 3:5] == 9).all()  # padding and gap colour
    col = vstack([a, b], gap=1)
    assert col.shape == (7, 3, 3) and (col[3:, :1] == 20).all() and (col[2] == BACKGROUND).all()
    dst = canvas(4, 4)
    paste(dst, np.full((3, 3, 3), 50, np.uint8), -1, 2)  # clipped left and bottom
    assert (dst[2:, :2] == 50).all() and (dst[:2] == BACKGROUND).all() and (dst[:, 2:] != 50).all()


def test_upscale_is_nearest_neighbour_and_checks_its_factor():
    a = np.arange(6).reshape(2, 3)
    up = upscale(a, 3)
    assert up.shape == (6, 9) and (up[::3, ::3] == a).all() and (up[2::3, 2::3] == a).all()
    assert upscale(a, 1) is a
    with pytest.raises(ValueError, match="scale must be >= 1"):
        upscale(a, 0)


class _Trace:
    """Stands in for a Trace: any object that takes a weak reference."""


def test_trace_cache_entries_die_with_their_trace():
    cache, built = TraceCache(traces=2, entries=2), []
    t1 = _Trace()
    assert cache.get(t1, "k", lambda: built.append(1) or "v1") == "v1"
    assert cache.get(t1, "k", lambda: built.append(2) or "again") == "v1" and built == [1]
    del t1
    gc.collect()
    t2 = _Trace()  # may reuse t1's id(): must not see its entry
    assert cache.get(t2, "k", lambda: "v2") == "v2"
    for key in ("a", "b"):  # at most 2 entries per trace: "k" goes first
        cache.get(t2, key, lambda k=key: k)
    assert cache.get(t2, "k", lambda: "rebuilt") == "rebuilt"
