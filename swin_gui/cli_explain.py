"""`swin-gui explain`: one explain method on one image (`swin_gui.explain`).

    swin-gui explain IMAGE --method M [--stage S] [--block B] [--token Y,X]
                     [--target K|NAME|top] [--shift on|off] [--model M] [--size S]
                     [--batch N] --out FILE.npy

Writes FILE.npy (float32 (H, W) at the model input's resolution; bool for reach) and
FILE.png beside it (the map over the image with that stage's window grid), and prints one
line of figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .explain import METHODS
from .i18n import tr


def _target(text: str):
    return int(text) if text.lstrip("-").isdigit() else text


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .cli import _size, _token, model_help, size_help

    p.description = tr("CLI", "Explain one image: Grad-CAM, Score-CAM, rollout, erf or reach.")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument(
        "--stage", type=int, default=None, help=tr("CLI", "0-based stage (default: last)")
    )
    p.add_argument(
        "--block", type=int, default=None, help=tr("CLI", "block in the stage (default: last)")
    )
    p.add_argument(
        "--token",
        type=_token,
        default=None,
        metavar="Y,X",
        help=tr("CLI", "token on the stage grid (erf/reach default: the centre one)"),
    )
    p.add_argument(
        "--target",
        type=_target,
        default=None,
        metavar="K|NAME|top",
        help=tr("CLI", "class (CAMs default: top; rollout with a target: Chefer et al.)"),
    )
    p.add_argument(
        "--shift",
        choices=("on", "off"),
        default="on",
        help=tr("CLI", "off: every block's shift forced to 0 (W-MSA only)"),
    )
    p.add_argument(
        "--model",
        default="demo",
        metavar="M",
        help=tr("CLI", "{help} (default demo)", help=model_help()),
    )
    p.add_argument("--size", type=_size, default="model", metavar="S", help=size_help())
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    p.add_argument("--batch", type=int, default=16, metavar="N", help=tr("CLI", "Score-CAM batch"))
    p.add_argument("--out", required=True, type=Path, metavar="FILE.npy")
    p.add_argument("--overwrite", action="store_true", help=tr("CLI", "replace existing files"))


def cmd_explain(args: argparse.Namespace) -> int:
    from .cli import CLIError, load
    from .explain import explain
    from .explain.overlay import overlay
    from .export import save_npy
    from .safe_write import atomic_write

    out = args.out if args.out.suffix == ".npy" else args.out.with_suffix(".npy")
    png = out.with_suffix(".png")
    for path in (out, png):
        if path.exists() and not args.overwrite:
            raise CLIError(tr("CLI", "{path} exists (use --overwrite to replace it)", path=path))
    if args.batch < 1:
        raise CLIError(tr("CLI", "--batch must be at least 1, not {n}", n=args.batch))
    model = load(args.model, args.device, getattr(args, "key", None))
    try:
        result = explain(
            model,
            args.image,
            args.method,
            args.stage,
            args.block,
            args.token,
            args.target,
            args.shift,
            size=args.size,
            batch=args.batch,
        )
    except ValueError as e:
        raise CLIError(str(e)) from None
    m = result.map if result.map.dtype == bool else result.map.astype("float32")
    save_npy(m, out, args.overwrite)
    pic = overlay(result)
    atomic_write(png, lambda f: pic.save(f, format="PNG"), args.overwrite)
    print(result.summary())
    return 0
