"""Qt's own messages: to stderr as usual, less the notes that say nothing to a user (the
offscreen plugin's "does not support propagateSizeHints()" on every window resize)."""

from __future__ import annotations

import sys

QT_NOTES = ("propagateSizeHints",)


def quiet_qt_notes() -> None:
    """Install the filtering message handler (once per process is enough)."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(mode, context, message: str) -> None:
        if not any(note in message for note in QT_NOTES):
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)
