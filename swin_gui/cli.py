"""The `swin-gui` command line.

    swin-gui [IMAGE] [--model M] [--size S] [--screenshot FILE.png]    open the GUI
    swin-gui export IMAGE... --out DIR       trace.npz + feature-map PNGs per image
    swin-gui inspect MODEL                   format, architecture, parameters, MACs
    swin-gui snapshot IMAGE --view V --out FILE.png    one view as a PNG, headless
    swin-gui bench [--quick]                 timings (see `swin-gui bench --help`)

User errors (bad image, checkpoint, preset, unwritable output) print one line
`swin-gui: error: ...` and exit with status 2; `export` reports each failed image as
`error: NAME: REASON`, goes on with the rest and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .errors import debug_log, one_line
from .render.snapshot import VIEWS

COMMANDS = ("export", "inspect", "snapshot", "bench")
SHIFT_VIEWS = {"auto": None, "shifted": True, "regular": False}
DEVICES = ("cpu", "cuda", "auto")
DEFAULT_MODEL = "demo"


# (module, class) pairs whose exceptions are the user's fault: one line, exit 2
class CLIError(Exception):
    """A usage problem found by the CLI itself (one line, exit 2)."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: `swin-gui: error: ...` and exit 2."""

    def error(self, message: str):
        self.exit(2, f"swin-gui: error: {message} (see '{self.prog} --help')\n")


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


# ---- argument parsing ---------------------------------------------------------------
def _size(text: str):
    from .images import parse_size

    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _token(text: str) -> tuple[int, int]:
    try:
        row, col = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"token must be ROW,COL (e.g. 12,40), not {text!r}"
        ) from None
    return row, col


MODEL_HELP = "checkpoint file, Hugging Face folder, hf-hub:REPO, timm preset name or 'demo'"
SIZE_HELP = "'model' (the model's input size), 'native' (the image's own size) or N (N x N)"


def _threads_option(parser: argparse.ArgumentParser, default) -> None:
    help_ = f"CPU threads for torch (default: min(4, CPU count) = {default_threads()})"
    parser.add_argument("--threads", type=int, default=default, metavar="N", help=help_)


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="M", help=MODEL_HELP + " (default)")
    p.add_argument("--size", type=_size, default="model", metavar="S", help=SIZE_HELP)
    p.add_argument("--device", choices=DEVICES, default="cpu", help="default: cpu")


def gui_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="swin-gui",
        description="Swin Explorer: look inside Swin Transformers (v1/v2) on your own images. "
        "Without a command it opens the desktop app.",
        epilog="commands (run 'swin-gui COMMAND --help'): "
        "export (trace.npz + feature maps), inspect (model summary), "
        "snapshot (one view as PNG), bench (timings)",
    )
    p.add_argument("image", nargs="?", metavar="IMAGE", help="image to open")
    p.add_argument("--model", metavar="M", help=MODEL_HELP + " (default: last used, else demo)")
    p.add_argument("--size", type=_size, metavar="S", help=SIZE_HELP + " (default: last used)")
    p.add_argument("--device", choices=DEVICES, default="cpu", help="default: cpu")
    p.add_argument("--screenshot", metavar="FILE.png", type=Path, help="save the window, quit")
    _threads_option(p, default_threads())
    return p


def _snapshot_options(p: argparse.ArgumentParser) -> None:
    p.description = "Render one view of one image to a PNG, without a screen."
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--view", required=True, choices=VIEWS)
    p.add_argument("--stage", type=int, default=0, help="0-based stage (default 0)")
    p.add_argument("--block", type=int, default=0, help="0-based block in the stage")
    p.add_argument("--head", type=int, default=None, help="0-based head (default: mean)")
    p.add_argument("--token", type=_token, default=None, metavar="ROW,COL")
    p.add_argument("--shift-view", choices=SHIFT_VIEWS, default="auto", help="partition drawn")
    p.add_argument("--feature-mode", choices=("channel", "norm", "pca"), default="norm")
    p.add_argument("--channel", type=int, default=None, help="default: top channel by energy")
    p.add_argument("--cmap", default="viridis", help="colormap for heatmaps")
    p.add_argument("--no-title", action="store_true", help="leave out the caption strip")
    _model_options(p)
    p.add_argument("--out", required=True, type=Path, metavar="FILE.png")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")


def command_parser(command: str) -> argparse.ArgumentParser:
    p = Parser(prog=f"swin-gui {command}")
    _threads_option(p, None)
    if command == "export":
        p.description = "Write DIR/<stem>/trace.npz and feature-map PNGs for each image."
        p.add_argument("images", nargs="+", metavar="IMAGE")
        p.add_argument("--out", required=True, type=Path, metavar="DIR")
        _model_options(p)
        p.add_argument("--cmap", default="viridis", help="colormap for channel/norm maps")
        p.add_argument("--overwrite", action="store_true", help="replace existing files")
    elif command == "inspect":
        p.description = "Print a model's format, architecture, parameter count and MACs."
        p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    elif command == "snapshot":
        _snapshot_options(p)
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
        raise CLIError(f"--threads must be at least 1, not {n}")
    torch.set_num_threads(n)


def load(model: str, device: str = "cpu"):
    """The model, through `swin_gui.api.load_model`, with the device checked first."""
    import torch

    from . import api
    from .model import PRESETS

    if device == "cuda" and not torch.cuda.is_available():
        raise CLIError("--device cuda: no CUDA device is available (use --device cpu)")
    known = model == "demo" or model in PRESETS or model.startswith(api.HUB_PREFIX)
    if not known and not Path(model).expanduser().exists():
        raise CLIError(
            f"model {model!r} is not a file, a folder, 'demo', 'hf-hub:<repo>' or a known "
            f"preset ({', '.join(PRESETS)})"
        )
    return api.load_model(model, device=device)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- commands -------------------------------------------------------------------------
def _unique_dirs(images: list[str], out: Path) -> list[Path]:
    """DIR/<stem> per image; a stem seen before gets -2, -3, ... so none collide."""
    seen: dict[str, int] = {}
    dirs = []
    for image in images:
        stem = Path(image).stem or "image"
        seen[stem] = seen.get(stem, 0) + 1
        dirs.append(out / (stem if seen[stem] == 1 else f"{stem}-{seen[stem]}"))
    return dirs


def _error_line(name: str, e: BaseException) -> str:
    message = one_line(e)
    return f"error: {message}" if message.startswith(f"{name}:") else f"error: {name}: {message}"


def cmd_export(args: argparse.Namespace) -> int:
    from .api import capture
    from .export import ExportError, ensure_folder, export_image
    from .images import ImageLoadError
    from .render.colormap import colormap_lut

    colormap_lut(args.cmap)  # unknown colormap: KeyError before any work
    model = load(args.model, args.device)
    ensure_folder(args.out)  # an unusable output folder stops everything (exit 2)
    failed, total = 0, len(args.images)
    folders = _unique_dirs(args.images, args.out)
    for i, (image, folder) in enumerate(zip(args.images, folders, strict=True), 1):
        name, start = Path(image).name, time.perf_counter()
        try:
            trace = capture(model, image, size=args.size)
            export_image(trace, folder, overwrite=args.overwrite, cmap=args.cmap)
        except (ImageLoadError, ExportError) as e:
            failed += 1
            _say(_error_line(name, e))
            continue
        _say(f"[{i}/{total}] {name} ... ok ({time.perf_counter() - start:.1f} s) -> {folder}")
    _say(f"exported {total - failed} of {total} image(s) to {args.out}")
    return 1 if failed else 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from .api import describe_model

    rows = describe_model(load(args.model))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _check_selection(trace, args: argparse.Namespace) -> None:
    cfg = trace.config
    if not 0 <= args.stage < cfg.num_stages:
        raise CLIError(f"--stage {args.stage}: the model has stages 0..{cfg.num_stages - 1}")
    if not 0 <= args.block < cfg.depths[args.stage]:
        raise CLIError(
            f"--block {args.block}: stage {args.stage} has blocks 0..{cfg.depths[args.stage] - 1}"
        )
    heads = cfg.num_heads[args.stage]
    if args.head is not None and not 0 <= args.head < heads:
        raise CLIError(f"--head {args.head}: stage {args.stage} has heads 0..{heads - 1}")
    if args.token is not None:
        H, W = trace.stages[args.stage].resolution
        r, c = args.token
        if not (0 <= r < H and 0 <= c < W):
            raise CLIError(f"--token {r},{c}: stage {args.stage} has a {H}×{W} token grid")


def cmd_snapshot(args: argparse.Namespace) -> int:
    from .api import capture
    from .export import save_png

    model = load(args.model, args.device)
    trace = capture(model, args.image, size=args.size)
    _check_selection(trace, args)
    from .render.snapshot import render_snapshot

    try:
        picture = render_snapshot(
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
            title=not args.no_title,
        )
    except (ValueError, IndexError) as e:  # render_snapshot's one-line selection errors
        raise CLIError(one_line(e)) from None
    rgb = getattr(picture, "rgb", picture)
    path = save_png(rgb, args.out, overwrite=args.overwrite)
    _say(f"wrote {path} ({rgb.shape[1]}×{rgb.shape[0]})")
    return 0


def cmd_bench(rest: list[str]) -> int:
    try:
        from .bench import main as bench_main
    except ImportError as e:
        raise CLIError(f"the benchmark is not available ({one_line(e)})") from None

    return int(bench_main(rest) or 0)


def _check_display(screenshot: Path | None) -> None:
    """On Linux without a display: screenshots render offscreen; a window is an error
    (Qt would abort the process with a multi-line message)."""
    env = os.environ
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return
    if screenshot is not None:
        env["QT_QPA_PLATFORM"] = "offscreen"
        return
    raise CLIError(
        "no display found (DISPLAY and WAYLAND_DISPLAY are unset); use --screenshot FILE.png, "
        "set QT_QPA_PLATFORM, or the headless commands export, inspect, snapshot"
    )


def cmd_gui(args: argparse.Namespace) -> int:
    _check_display(args.screenshot)
    try:
        from .app.launch import run_app
    except ImportError as e:
        raise CLIError(
            f"the GUI cannot start ({one_line(e)}); the headless commands "
            "export, inspect, snapshot and bench still work"
        ) from None
    result = run_app(
        image=args.image,
        model=args.model,
        screenshot=args.screenshot,
        size=args.size,
        device=args.device,
    )
    return int(result or 0)


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
    head, command, rest = split_command(argv)
    if command is None:
        args = gui_parser().parse_args(head)
        set_threads(args.threads)
        return cmd_gui(args)
    global_threads = gui_parser().parse_args(head).threads if head else None
    if command == "bench":
        threads, rest = _pop_threads(rest)
        set_threads(threads if threads is not None else global_threads)
        return cmd_bench(rest)
    args = command_parser(command).parse_args(rest)
    set_threads(args.threads if args.threads is not None else global_threads)
    return {"export": cmd_export, "inspect": cmd_inspect, "snapshot": cmd_snapshot}[command](args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `swin-gui` and `python -m swin_gui`; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(argv)
    except KeyboardInterrupt:
        _say("swin-gui: interrupted")
        return 130
    except Exception as e:
        if is_user_error(e):
            _say(f"swin-gui: error: {one_line(e)}")
            return 2
        debug_log(e)
        _say(f"swin-gui: internal error: {one_line(e)} (SWIN_GUI_DEBUG=1 shows the traceback)")
        return 1
