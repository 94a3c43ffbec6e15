"""What every `swin-gui` subcommand shares, in one place below them all: the one-line
usage error (`CLIError`, `Parser`), the model / size / token arguments and their help, and
`load` (the model with its name and device checked first). `cli.py` dispatches to
`cli_cost`, `cli_explain` and `cli_gui`; they import these from here, never from `cli`.
Help texts are functions (`model_help()` …): they are translated when a parser is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import i18n
from .i18n import ntr, tr

DEVICES = ("cpu", "cuda", "auto")
DEFAULT_MODEL = "demo"


class CLIError(Exception):
    """A usage problem found by the CLI itself (one line, exit 2)."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: `swin-gui: error: ...` and exit 2."""

    def error(self, message: str):
        line = tr(
            "CLI",
            "swin-gui: error: {message} (see '{prog} --help')",
            message=message,
            prog=self.prog,
        )
        self.exit(2, line + "\n")


def _size(text: str):
    from .preprocess import parse_size

    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _token(text: str) -> tuple[int, int]:
    try:
        row, col = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            tr("CLI", "token must be ROW,COL (e.g. 12,40), not {text!r}", text=text)
        ) from None
    return row, col


def model_help() -> str:
    return tr(
        "CLI", "checkpoint file, Hugging Face folder, hf-hub:REPO, timm preset name or 'demo'"
    )


def size_help() -> str:
    return tr(
        "CLI", "'model' (the model's input size), 'native' (the image's own size) or N (N x N)"
    )


def fit_help() -> str:
    return tr(
        "CLI",
        "how a non-square image meets a square --size: crop (shorter side, centre crop, as "
        "timm), pad (letterbox) or stretch (default: the checkpoint's convention; demo: stretch)",
    )


def load(model: str, device: str = "cpu", key: str | None = None):
    """The model, through `swin_gui.api.load_model`, with the device checked first; `key`
    chooses the state dict inside a checkpoint wrapper (`--key`)."""
    from . import api
    from .model import PRESETS

    api.resolve_device(device)  # the one rule for "auto" and a missing CUDA (one line)
    known = model == "demo" or model in PRESETS or model.startswith(api.HUB_PREFIX)
    if not known and not Path(model).expanduser().exists():
        raise CLIError(
            tr(
                "CLI",
                "model {model!r} is not a file, a folder, 'demo', 'hf-hub:<repo>' or a known "
                "preset ({presets})",
                model=model,
                presets=", ".join(PRESETS),
            )
        )
    return api.load_model(model, device=device, key=key)


def translate_argparse() -> None:
    """argparse's own words ("usage: ", "options", "show this help message and exit", its
    errors) through the catalogue, context "argparse": argparse looks `_` and `ngettext` up
    in its module at each call."""
    argparse._ = lambda text: tr("argparse", text)
    argparse.ngettext = lambda singular, plural, n: ntr("argparse", singular, plural, n)


def take_language(argv: list[str]) -> tuple[str | None, list[str]]:
    """`--lang ru|en` (anywhere on the line) and the rest: the language must be chosen
    before any parser is built, as the help texts are translated when they are added."""
    lang, rest, i = None, [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--lang" or arg.startswith("--lang="):
            value = (
                arg.partition("=")[2] if "=" in arg else (argv[i + 1] if i + 1 < len(argv) else "")
            )
            i += 1 if "=" in arg else 2
            if value not in i18n.LANGUAGES:
                raise CLIError(
                    tr(
                        "CLI",
                        "--lang: choose one of {choices}, not {value!r}",
                        choices=", ".join(i18n.LANGUAGES),
                        value=value,
                    )
                )
            lang = value
            continue
        rest.append(arg)
        i += 1
    return lang, rest


def _lang_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lang",
        choices=tuple(i18n.LANGUAGES),
        help=tr("CLI", "interface language (default: the remembered choice, else the system's)"),
    )
