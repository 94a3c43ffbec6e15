"""The `swin-gui` command line.

    swin-gui [IMAGE] [--model M] [--size S] [--screenshot FILE.png]    open the GUI
    swin-gui export IMAGE... --out DIR       trace.npz + feature-map PNGs per image
    swin-gui inspect MODEL                   format, architecture, parameters, MACs
    swin-gui snapshot IMAGE --view V --out FILE.{png,svg,pdf}   one view's figure, headless
    swin-gui bench [--quick]                 timings (see `swin-gui bench --help`)
    swin-gui cost [--model M] [--vs VIT] [--sizes ...] [--json FILE]   Swin vs ViT cost lab
    swin-gui explain IMAGE --method M [--stage S] [--token Y,X] --out FILE.npy   explain lab

User errors (bad image, checkpoint, preset, unwritable output) print one line
`swin-gui: error: ...` and exit with status 2; `export` reports each failed image as
`error: NAME: REASON`, goes on with the rest and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from . import i18n
from .cli_common import (
    DEFAULT_MODEL,
    DEVICES,
    CLIError,
    Parser,
    _lang_option,
    _size,
    _token,
    fit_help,
    load,
    model_help,
    size_help,
    take_language,
    translate_argparse,
)
from .errors import debug_log, one_line
from .i18n import tr
from .render.registry import NAMES as VIEWS
from .render.snapshot import FEATURE_MODES

COMMANDS = ("export", "inspect", "snapshot", "bench", "cost", "explain")
SHIFT_VIEWS = {"auto": None, "shifted": True, "regular": False}


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


# ---- argument parsing ---------------------------------------------------------------
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


# ---- shared steps -------------------------------------------------------------------
def set_threads(n: int | None) -> None:
    import torch

    n = default_threads() if n is None else n
    if n < 1:
        raise CLIError(tr("CLI", "--threads must be at least 1, not {n}", n=n))
    torch.set_num_threads(n)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- commands -------------------------------------------------------------------------
def _error_line(name: str, e: BaseException | str) -> str:
    """`error: NAME: REASON` for one failed image (no exception class names)."""
    message = e if isinstance(e, str) else one_line(e, user=True)
    if message.startswith(f"{name}:"):
        return tr("CLI", "error: {message}", message=message)
    return tr("CLI", "error: {name}: {message}", name=name, message=message)


def cmd_export(args: argparse.Namespace) -> int:
    """Files, folders and globs -> DIR/<safe name>/ each (see `swin_gui.export_batch`)."""
    from .export_batch import run_export

    return run_export(args, load, _error_line, _say)


def cmd_inspect(args: argparse.Namespace) -> int:
    from .api import describe_model

    model = load(args.model, key=args.key)
    rows = describe_model(model)
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    for warning in getattr(model.info, "warnings", ()):
        _say(tr("CLI", "warning: {warning}", warning=warning))
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    from .api import capture
    from .render.snapshot import render_snapshot

    try:  # refuse a bad file name before the model runs
        _figure_writer().figure_format(args.out)
    except ValueError as e:
        raise CLIError(one_line(e)) from None
    model = load(args.model, args.device, args.key)
    trace = capture(model, args.image, size=args.size, fit=getattr(args, "fit", None))
    try:
        figure = render_snapshot(
            trace,
            args.view,
            stage=args.stage,
            block=args.block,
            head=args.head,
            token=args.token,
            shift_view=SHIFT_VIEWS[args.shift_view],
            feature_mode=args.feature_mode,
            channel=args.channel,
            colormap=args.cmap,
        )
        path = _figure_writer().write_figure(
            figure,
            args.out,
            scale=args.scale,
            theme=args.theme,
            width_pt=args.width,
            overwrite=args.overwrite,
        )
    except (ValueError, IndexError) as e:  # one-line selection / option errors
        raise CLIError(one_line(e)) from None
    _say(tr("CLI", "wrote {path} ({kb} KB)", path=path, kb=path.stat().st_size // 1024))
    return 0


def _figure_writer():
    """The figure backend (Qt, offscreen): imported only by the commands that draw."""
    try:
        from .app import figure_file
    except ImportError as e:
        raise CLIError(
            tr("CLI", "figures need Qt, which cannot load here ({why})", why=one_line(e))
        ) from None
    return figure_file


def cmd_bench(rest: list[str]) -> int:
    try:
        from .bench import main as bench_main
    except ImportError as e:
        raise CLIError(
            tr("CLI", "the benchmark is not available ({why})", why=one_line(e))
        ) from None

    return int(bench_main(rest) or 0)


def cmd_gui(args: argparse.Namespace) -> int:
    from .cli_gui import cmd_gui as run_gui

    return run_gui(args)


# ---- entry point ----------------------------------------------------------------------
def is_user_error(e: BaseException) -> bool:
    from .errors import user_error_types

    return isinstance(e, (CLIError, *user_error_types()))


def _pop_threads(rest: list[str]) -> tuple[int | None, list[str]]:
    """Take --threads out of a bench command line (bench has its own parser)."""
    p = Parser(add_help=False)
    _threads_option(p, None)
    known, others = p.parse_known_args(rest)
    return known.threads, others


def run(argv: list[str]) -> int:
    lang, argv = take_language(argv)
    i18n.set_language(i18n.choose(lang))
    translate_argparse()
    head, command, rest = split_command(argv)
    if command is None:
        args = gui_parser().parse_args(head)
        args.lang = lang
        set_threads(args.threads)
        return cmd_gui(args)
    global_threads = gui_parser().parse_args(head).threads if head else None
    if command == "bench":
        threads, rest = _pop_threads(rest)
        set_threads(threads if threads is not None else global_threads)
        return cmd_bench(rest)
    args = command_parser(command).parse_args(rest)
    set_threads(args.threads if args.threads is not None else global_threads)
    if command == "explain":
        from .cli_explain import cmd_explain

        return cmd_explain(args)
    if command == "cost":
        from .cli_cost import cmd_cost

        return cmd_cost(args, args.threads is not None or global_threads is not None)
    return {"export": cmd_export, "inspect": cmd_inspect, "snapshot": cmd_snapshot}[command](args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `swin-gui` and `python -m swin_gui`; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(argv)
    except KeyboardInterrupt as e:  # Ctrl+C; SIGTERM/SIGHUP too during an export
        signum = int(getattr(e, "signum", 2))
        name = signal.Signals(signum).name
        _say(tr("CLI", "swin-gui: interrupted ({signal}); unfinished files removed", signal=name))
        return 128 + signum
    except Exception as e:
        if is_user_error(e):
            _say(tr("CLI", "swin-gui: error: {message}", message=one_line(e, user=True)))
            return 2
        debug_log(e)
        _say(
            tr(
                "CLI",
                "swin-gui: internal error: {message} (SWIN_GUI_DEBUG=1 shows the traceback)",
                message=one_line(e),
            )
        )
        return 1
