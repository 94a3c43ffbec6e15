"""Work-arounds for bugs in the Qt binding.

PySide6 6.12.0 on CPython 3.11: every `SignalInstance.emit()` returns `True` without taking
a reference to it, so each emitted signal drops one reference to the `True` singleton. After
a few thousand signals (hovering the canvas emits one per mouse move) CPython aborts with
"Fatal Python error: bool_dealloc: deallocating True or False". PySide6 6.11.3 is fine, and
CPython 3.12+ is immune (True is immortal there).

`protect_bool_refcounts()` detects the bug with one probe signal and, when present, gives
True and False a huge reference count, which is what CPython 3.12 does by design. Call it
once before the GUI starts emitting signals; it is idempotent and cheap.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_GUARD = 1 << 40  # references added: ~10^12 emissions before it could matter again
_protected = False


class _Probe(QObject):
    ping = Signal()


def emit_drops_true_reference() -> bool:
    """Whether emitting a signal loses a reference to `True` (the PySide6 6.12.0 bug)."""
    if sys.version_info >= (3, 12):
        return False
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    return sys.getrefcount(True) < before


def protect_bool_refcounts() -> bool:
    """Make True/False effectively immortal when the bug is present; True if applied."""
    global _protected
    if _protected or not emit_drops_true_reference():
        return False
    for singleton in (True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _GUARD  # ob_refcnt
    _protected = True
    return True
