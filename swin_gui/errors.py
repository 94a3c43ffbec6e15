"""How failures reach a user: one readable line, never a traceback.

Shared by the CLI and the GUI worker. `SWIN_GUI_DEBUG=1` prints the full traceback to
stderr for bug reports.
"""

from __future__ import annotations

import os
import sys
import traceback


def user_error_types() -> tuple[type[BaseException], ...]:
    """Errors whose message is written for the user (bad input, not a bug)."""
    from .export import ExportError
    from .images import ImageLoadError
    from .model.checkpoints import CheckpointError

    return (ImageLoadError, CheckpointError, ExportError, ValueError, KeyError, OSError)


def one_line(error: BaseException, limit: int = 300) -> str:
    """The first line of the message (KeyError without its repr quotes); unexpected errors
    keep their type name so the line still says what went wrong."""
    arg = error.args[0] if isinstance(error, KeyError) and error.args else error
    lines = [ln.strip() for ln in str(arg).strip().splitlines() if ln.strip()]
    text = lines[0] if lines else ""
    if isinstance(error, MemoryError) or "out of memory" in text.lower():
        text = f"out of memory: {text or 'try a smaller size or the CPU'}"
    elif not text or not isinstance(error, user_error_types()):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def debug_log(error: BaseException) -> None:
    """The traceback on stderr, only when SWIN_GUI_DEBUG=1."""
    if os.environ.get("SWIN_GUI_DEBUG") == "1":
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
