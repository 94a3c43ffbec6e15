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


def _target(text: str):
    return int(text) if text.lstrip("-").isdigit() else text


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .cli_common import DEVICES, MODEL_HELP, SIZE_HELP, _size, _token

    p.description = "Explain one image: Grad-CAM, Score-CAM, rollout, erf or reach."
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--stage", type=int, default=None, help="0-based stage (default: last)")
    p.add_argument("--block", type=int, default=None, help="block in the stage (default: last)")
    p.add_argument(
        "--token",
        type=_token,
        default=None,
        metavar="Y,X",
        help="token on the stage grid (erf/reach default: the centre one)",
    )
    p.add_argument(
        "--target",
        type=_target,
        default=None,
        metavar="K|NAME|top",
        help="class (CAMs default: top; rollout with a target: Chefer et al.)",
    )
    p.add_argument(
        "--shift",
        choices=("on", "off"),
        default="on",
        help="off: every block's shift forced to 0 (W-MSA only)",
    )
    p.add_argument("--model", default="demo", metavar="M", help=MODEL_HELP + " (default demo)")
    p.add_argument("--size", type=_size, default="model", metavar="S", help=SIZE_HELP)
    p.add_argument("--device", choices=DEVICES, default="cpu")
    p.add_argument("--batch", type=int, default=16, metavar="N", help="Score-CAM batch")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.npy")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")


def cmd_explain(args: argparse.Namespace) -> int:
    from .cli_common import CLIError, load
    from .explain import explain
    from .render.overlay import overlay
    from .safe_write import atomic_write, save_npy

    out = args.out if args.out.suffix == ".npy" else args.out.with_suffix(".npy")
    png = out.with_suffix(".png")
    for path in (out, png):
        if path.exists() and not args.overwrite:
            raise CLIError(f"{path} exists (use --overwrite to replace it)")
    if args.batch < 1:
        raise CLIError(f"--batch must be at least 1, not {args.batch}")
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
