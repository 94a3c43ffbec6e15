"""The `swin-gui` command line's parsers: the GUI's, and one per command (`command_parser`),
with the options they share; `split_command` finds the command in argv."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .cli_common import (
    DEFAULT_MODEL,
    DEVICES,
    Parser,
    _lang_option,
    _size,
    _token,
    fit_help,
    model_help,
    size_help,
)
from .i18n import tr
from .render.registry import NAMES as VIEWS
from .render.snapshot import FEATURE_MODES

COMMANDS = ("export", "inspect", "snapshot", "bench", "cost", "explain")
SHIFT_VIEWS = {"auto": None, "shifted": True, "regular": False}


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _threads_option(parser: argparse.ArgumentParser, default) -> None:
    help_ = tr(
        "CLI", "CPU threads for torch (default: min(4, CPU count) = {n})", n=default_threads()
    )
    parser.add_argument("--threads", type=int, default=default, metavar="N", help=help_)


def _device_help() -> str:
    return tr("CLI", "default: cpu")


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="M",
        help=tr("CLI", "{help} (default)", help=model_help()),
    )
    p.add_argument("--size", type=_size, default="model", metavar="S", help=size_help())
    p.add_argument("--fit", choices=("crop", "pad", "stretch"), default=None, help=fit_help())
    p.add_argument("--device", choices=DEVICES, default="cpu", help=_device_help())
    _key_option(p)


def _key_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--key",
        default=None,
        metavar="NAME",
        help=tr(
            "CLI",
            "the state dict to use inside a checkpoint wrapper, e.g. state_dict "
            "(default: the EMA weights when present, else model / state_dict)",
        ),
    )


def gui_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="swin-gui",
        description=tr(
            "CLI",
            "Swin Explorer: look inside Swin Transformers (v1/v2) on your own images. "
            "Without a command it opens the desktop app.",
        ),
        epilog=tr(
            "CLI",
            "commands (run 'swin-gui COMMAND --help'): "
            "export (trace.npz + feature maps), inspect (model summary), "
            "snapshot (one view as PNG/SVG/PDF), bench (timings), cost (Swin vs ViT), "
            "explain (Grad-CAM, rollout, ...)",
        ),
    )
    p.add_argument("image", nargs="?", metavar="IMAGE", help=tr("CLI", "image to open"))
    p.add_argument(
        "--model",
        metavar="M",
        help=tr("CLI", "{help} (default: last used, else demo)", help=model_help()),
    )
    p.add_argument(
        "--size",
        type=_size,
        metavar="S",
        help=tr("CLI", "{help} (default: last used)", help=size_help()),
    )
    p.add_argument("--fit", choices=("crop", "pad", "stretch"), default=None, help=fit_help())
    p.add_argument("--device", choices=DEVICES, default="cpu", help=_device_help())
    p.add_argument(
        "--screenshot",
        metavar="FILE.png",
        type=Path,
        help=tr("CLI", "open the window at the screen's size, wait for the model, save, quit"),
    )
    _place_options(p, required_view=False)
    _threads_option(p, default_threads())
    _lang_option(p)
    return p


def _place_options(p: argparse.ArgumentParser, required_view: bool) -> None:
    """--view/--stage/--block/--head/--token: where the GUI opens or what snapshot draws."""
    p.add_argument(
        "--view", choices=VIEWS, required=required_view, help=tr("CLI", "the view to show")
    )
    p.add_argument("--stage", type=int, default=0, help=tr("CLI", "0-based stage (default 0)"))
    p.add_argument("--block", type=int, default=0, help=tr("CLI", "0-based block in the stage"))
    p.add_argument("--head", type=int, default=None, help=tr("CLI", "0-based head (default: mean)"))
    p.add_argument("--token", type=_token, default=None, metavar="ROW,COL")


def _snapshot_options(p: argparse.ArgumentParser) -> None:
    p.description = tr(
        "CLI", "Write one view of one image as a PNG, SVG or PDF figure, without a screen."
    )
    p.add_argument("image", metavar="IMAGE")
    _place_options(p, required_view=True)
    p.add_argument(
        "--shift-view", choices=SHIFT_VIEWS, default="auto", help=tr("CLI", "partition drawn")
    )
    p.add_argument("--feature-mode", choices=FEATURE_MODES, default="norm")
    p.add_argument(
        "--channel", type=int, default=None, help=tr("CLI", "default: top channel by energy")
    )
    p.add_argument("--cmap", default="viridis", help=tr("CLI", "colormap for heatmaps"))
    _model_options(p)
    p.add_argument("--out", required=True, type=Path, metavar="FILE.{png,svg,pdf}")
    p.add_argument(
        "--scale", type=float, default=1.0, help=tr("CLI", "PNG pixels per 96-dpi pixel, 1-4")
    )
    p.add_argument("--theme", choices=("dark", "light"), default="dark")
    p.add_argument(
        "--width",
        type=float,
        default=720.0,
        metavar="PT",
        help=tr("CLI", "layout width in points (default 720 = 10 in)"),
    )
    p.add_argument("--overwrite", action="store_true", help=tr("CLI", "replace an existing file"))


def _attention(text: str):
    from .export_stream import parse_attention

    try:
        return parse_attention(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _export_options(p: argparse.ArgumentParser) -> None:
    p.description = tr(
        "CLI",
        "Write DIR/<name>/trace.npz and feature-map PNGs for each image; IMAGE may be a "
        "file, a folder (its images) or a quoted glob like 'shots/*.jpg'.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    _model_options(p)
    p.add_argument("--cmap", default="viridis", help=tr("CLI", "colormap for channel/norm maps"))
    p.add_argument("--overwrite", action="store_true", help=tr("CLI", "replace existing files"))
    p.add_argument(
        "--attention",
        type=_attention,
        default="all",
        metavar="all|none|S.B,...",
        help=tr("CLI", "which blocks' attention trace.npz keeps (default all)"),
    )
    p.add_argument(
        "--dtype",
        choices=("float32", "float16"),
        default="float32",
        help=tr("CLI", "float type of the stored maps and attention (default float32)"),
    )
    p.add_argument("--compress", action="store_true", help=tr("CLI", "deflate trace.npz (slower)"))


def command_parser(command: str) -> argparse.ArgumentParser:
    p = Parser(prog=f"swin-gui {command}")
    _threads_option(p, None)
    _lang_option(p)
    if command == "export":
        _export_options(p)
    elif command == "inspect":
        p.description = tr("CLI", "Print a model's format, architecture, parameter count and MACs.")
        p.add_argument("model", metavar="MODEL", help=model_help())
        _key_option(p)
    elif command == "snapshot":
        _snapshot_options(p)
    elif command == "cost":
        from .cli_cost import add_arguments

        add_arguments(p)
    elif command == "explain":
        from .cli_explain import add_arguments as add_explain_arguments

        add_explain_arguments(p)
    return p


def split_command(argv: list[str]) -> tuple[list[str], str | None, list[str]]:
    """(leading global options, command or None, the command's arguments)."""
    i = 0
    while i < len(argv):
        if argv[i] == "--threads":
            i += 2
        elif argv[i].startswith("--threads="):
            i += 1
        else:
            break
    if i < len(argv) and argv[i] in COMMANDS:
        return argv[:i], argv[i], argv[i + 1 :]
    return argv, None, []


def _pop_threads(rest: list[str]) -> tuple[int | None, list[str]]:
    """Take --threads out of a bench command line (bench has its own parser)."""
    p = Parser(add_help=False)
    _threads_option(p, None)
    known, others = p.parse_known_args(rest)
    return known.threads, others
