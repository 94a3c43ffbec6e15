"""How failures reach a user: one readable line, never a traceback.

Shared by the CLI and the GUI worker. `SWIN_GUI_DEBUG=1` prints the full traceback to
stderr for bug reports.
"""

from __future__ import annotations

import math
import os
import sys
import traceback

from .i18n import tr


def user_error_types() -> tuple[type[BaseException], ...]:
    """Errors whose message is written for the user (bad input, not a bug)."""
    from .images import ImageLoadError
    from .model.checkpoints import CheckpointError
    from .safe_write import ExportError

    return (ImageLoadError, CheckpointError, ExportError, ValueError, KeyError, OSError)


def one_line(error: BaseException, limit: int = 300, user: bool | None = None) -> str:
    """The first line of the message (KeyError without its repr quotes). Unexpected errors
    keep their type name so the line still says what went wrong; user errors (`user=True`,
    or by default the `user_error_types`) never show a class name."""
    arg = error.args[0] if isinstance(error, KeyError) and error.args else error
    lines = [ln.strip() for ln in str(arg).strip().splitlines() if ln.strip()]
    text = lines[0] if lines else ""
    if user is None:
        user = isinstance(error, user_error_types())
    if is_out_of_memory(error):
        if not text.lower().startswith("out of memory"):
            text = tr("Errors", "out of memory: {text}", text=text)
        text = text.rstrip(": ") or tr("Errors", "out of memory: try a smaller size or the CPU")
    elif not text or not user:
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


_OOM_MARKERS = (
    "out of memory",
    "not enough memory",
    "can't allocate memory",
    "cannot allocate memory",
)


def is_out_of_memory(error: BaseException) -> bool:
    """MemoryError, or torch's CPU/CUDA allocator failures (RuntimeError subclasses)."""
    if isinstance(error, MemoryError):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(m in text for m in _OOM_MARKERS)


def out_of_memory_line(size: tuple[int, int] | None) -> str:
    """'out of memory at 4000×3000; try --size 2048': the largest power of two below the
    longer side, so the retry needs about a quarter of the memory or less."""
    if not size:
        return tr("Errors", "out of memory; try a smaller --size")
    w, h = size
    suggestion = 2 ** max(5, math.ceil(math.log2(max(w, h))) - 1)
    return tr("Errors", "out of memory at {w}×{h}; try --size {size}", w=w, h=h, size=suggestion)


def debug_log(error: BaseException) -> None:
    """The traceback on stderr, only when SWIN_GUI_DEBUG=1."""
    if os.environ.get("SWIN_GUI_DEBUG") == "1":
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
