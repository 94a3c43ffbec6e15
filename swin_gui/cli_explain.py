"""`swin-gui explain`: one explain method on one image, or on several same-size images run
as one batch (`swin_gui.explain`).

    swin-gui explain IMAGE [IMAGE ...] --method M [--stage S] [--block B] [--token Y,X]
                     [--target K|NAME|top[,...]] [--shift on|off] [--model M] [--size S]
                     [--batch N] --out FILE.npy

One image: writes FILE.npy (float32 (H, W) at the model input's resolution; bool for
reach) and FILE.png beside it (the map over the image with that stage's window grid), and
prints one line of figures. N images: FILE.npy holds the N maps stacked, (N, H, W), in the
order given; FILE-0.png … FILE-(N−1).png are their overlays; one line per image.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .explain import METHODS
from .i18n import tr


def _one_target(text: str):
    return int(text) if text.lstrip("-").isdigit() else text


def _target(text: str):
    """K, NAME or top; or one per image, comma-separated."""
    parts = [_one_target(t.strip()) for t in text.split(",")]
    return parts[0] if len(parts) == 1 else parts


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .cli_common import DEVICES, _size, _token, model_help, size_help

    p.description = tr(
        "CLI",
        "Explain images: Grad-CAM, Score-CAM, rollout, erf or reach (several same-size "
        "images run as one batch).",
    )
    p.add_argument("image", metavar="IMAGE", nargs="+")
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
        help=tr(
            "CLI",
            "class (CAMs default: top; rollout with a target: Chefer et al.); "
            "several images: one for all, or one per image, comma-separated",
        ),
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
    p.add_argument("--device", choices=DEVICES, default="cpu")
    p.add_argument("--batch", type=int, default=16, metavar="N", help=tr("CLI", "Score-CAM batch"))
    p.add_argument("--out", required=True, type=Path, metavar="FILE.npy")
    p.add_argument("--overwrite", action="store_true", help=tr("CLI", "replace existing files"))


def cmd_explain(args: argparse.Namespace) -> int:
    import numpy as np

    from .cli_common import CLIError, load
    from .explain import explain
    from .render.overlay import overlay
    from .safe_write import atomic_write, save_npy

    images = list(args.image)
    out = args.out if args.out.suffix == ".npy" else args.out.with_suffix(".npy")
    if len(images) == 1:
        pngs = [out.with_suffix(".png")]
    else:
        pngs = [out.with_name(f"{out.stem}-{i}.png") for i in range(len(images))]
    for path in (out, *pngs):
        if path.exists() and not args.overwrite:
            raise CLIError(tr("CLI", "{path} exists (use --overwrite to replace it)", path=path))
    if args.batch < 1:
        raise CLIError(tr("CLI", "--batch must be at least 1, not {n}", n=args.batch))
    if isinstance(args.target, list) and len(args.target) != len(images):
        raise CLIError(
            tr(
                "CLI",
                "--target lists {k} classes for {n} images",
                k=len(args.target),
                n=len(images),
            )
        )
    model = load(args.model, args.device, getattr(args, "key", None))
    try:
        results = explain(
            model,
            images if len(images) > 1 else images[0],
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
    results = results if isinstance(results, list) else [results]
    maps = [r.map if r.map.dtype == bool else r.map.astype("float32") for r in results]
    save_npy(maps[0] if len(maps) == 1 else np.stack(maps), out, args.overwrite)
    for r, png in zip(results, pngs, strict=True):
        pic = overlay(r)
        atomic_write(png, lambda f, pic=pic: pic.save(f, format="PNG"), args.overwrite)
    for image, r in zip(images, results, strict=True):
        print(r.summary() if len(images) == 1 else f"{image}: {r.summary()}")
    return 0
