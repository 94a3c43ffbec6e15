"""`swin-gui [IMAGE] [--model M] [--screenshot FILE.png] [--view … --stage …]`: the checks
made before any window opens (a missing image or model, a screenshot that would replace a
file or cannot be written, no display, a missing X11 library: one line each), then the app.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .cli_common import CLIError, model_help
from .errors import one_line
from .i18n import tr


def _check_display(screenshot: Path | None) -> None:
    """On Linux without a display: screenshots render offscreen; a window is an error
    (Qt would abort the process with a multi-line message)."""
    env = os.environ
    if screenshot is not None and env.get("QT_QPA_PLATFORM") == "offscreen":
        from .display import SCREENSHOT_SCREEN, offscreen_platform

        env["QT_QPA_PLATFORM"] = offscreen_platform(*SCREENSHOT_SCREEN)  # a laptop's screen
    platform = env.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or (platform and platform != "xcb"):
        return
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        if env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            from .display import DisplayError, check_xcb

            try:
                check_xcb()
            except DisplayError as e:
                raise CLIError(str(e)) from None
        return
    if screenshot is not None:
        from .display import SCREENSHOT_SCREEN, offscreen_platform

        env["QT_QPA_PLATFORM"] = offscreen_platform(*SCREENSHOT_SCREEN)
        return
    raise CLIError(
        tr(
            "CLI",
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset); use --screenshot "
            "FILE.png, set QT_QPA_PLATFORM, or the headless commands export, inspect, snapshot",
        )
    )


def _check_gui_inputs(args: argparse.Namespace) -> None:
    """Before any window opens: a missing image or model, or a screenshot that would
    replace a file or cannot be written, is one line."""
    from .images import check_image_path

    if args.image is not None:
        check_image_path(args.image)
    if args.model is not None and not _model_exists(args.model):
        raise CLIError(
            tr("CLI", "no such model: {model} ({help})", model=args.model, help=model_help())
        )
    shot = args.screenshot
    if shot is not None:
        if shot.suffix.lower() != ".png":
            raise CLIError(
                tr("CLI", "--screenshot writes a PNG: name it FILE.png, not {name}", name=shot.name)
            )
        if shot.exists():
            raise CLIError(
                tr(
                    "CLI",
                    "{path} already exists; choose another name (nothing was replaced)",
                    path=shot,
                )
            )
        parent = next((p for p in shot.absolute().parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise CLIError(
                tr(
                    "CLI",
                    "cannot write {path}: {parent} is a file, not a folder",
                    path=shot,
                    parent=parent,
                )
            )


def _model_exists(spec: str) -> bool:
    from .model import PRESETS

    return spec == "demo" or spec in PRESETS or spec.startswith("hf-hub:") or Path(spec).exists()


def cmd_gui(args: argparse.Namespace) -> int:
    _check_gui_inputs(args)
    _check_display(args.screenshot)
    try:
        from .app.launch import run_app
    except ImportError as e:
        raise CLIError(
            tr(
                "CLI",
                "the GUI cannot start ({why}); the headless commands "
                "export, inspect, snapshot and bench still work",
                why=one_line(e),
            )
        ) from None
    result = run_app(
        image=args.image,
        model=args.model,
        screenshot=args.screenshot,
        size=args.size,
        fit=args.fit,
        device=args.device,
        place={
            "view": args.view,
            "stage": args.stage,
            "block": args.block,
            "token": args.token,
            "head": args.head,
        },
        lang=getattr(args, "lang", None),
    )
    return int(result or 0)
