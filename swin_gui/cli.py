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
import signal
import sys

from . import i18n
from .cli_common import CLIError, load, take_language, translate_argparse
from .cli_parsers import (  # noqa: F401  (COMMANDS, split_command: the CLI's public names)
    COMMANDS,
    SHIFT_VIEWS,
    _pop_threads,
    command_parser,
    default_threads,
    gui_parser,
    split_command,
)
from .errors import debug_log, one_line
from .i18n import tr


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
    from .api import ablate_shift, capture
    from .render.snapshot import needs_ablation, render_snapshot

    try:  # refuse a bad file name before the model runs
        _figure_writer().figure_format(args.out)
    except ValueError as e:
        raise CLIError(one_line(e)) from None
    model = load(args.model, args.device, args.key)
    trace = capture(model, args.image, size=args.size, fit=getattr(args, "fit", None))
    selection = dict(
        stage=args.stage,
        block=args.block,
        head=args.head,
        token=args.token,
        shift_view=SHIFT_VIEWS[args.shift_view],
        feature_mode=args.feature_mode,
        channel=args.channel,
        colormap=args.cmap,
    )
    try:
        ablation = None
        if needs_ablation(trace, args.view, **selection):  # the Shift view, shift off
            ablation = ablate_shift(model, trace, args.stage, args.block)
        figure = render_snapshot(trace, args.view, ablation=ablation, **selection)
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
