"""`python -m swin_gui`: the same as the `swin-gui` command (see `swin_gui.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
