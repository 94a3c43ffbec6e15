"""`python -m swin_gui.demo train|evaluate|samples`: reproduce the bundled demo model."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# On a shared CPU, spinning OpenMP threads stall each other; sleeping ones do not.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m swin_gui.demo", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the demo Swin on procedural scenes (CPU)")
    t.add_argument("--out", type=Path, default=Path("assets/demo/swin_demo.safetensors"))
    t.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="stop after this much wall time (checkpoint kept; use --resume)",
    )
    t.add_argument("--resume", action="store_true", help="continue from runs/demo/last.pt")
    t.add_argument("--checkpoint", type=Path, default=Path("runs/demo/last.pt"))
    t.add_argument("--threads", type=int, default=2)
    t.add_argument(
        "--extra-steps",
        type=int,
        default=None,
        help="steps of the final warm restart at 224 px (default: the recipe's 1000); "
        "with --resume, a larger value extends a finished run",
    )
    e = sub.add_parser("evaluate", help="accuracy and attention-on-object on held-out scenes")
    e.add_argument("--weights", type=Path, default=Path("assets/demo/swin_demo.safetensors"))
    e.add_argument("--n", type=int, default=1000)
    e.add_argument("--attention-n", type=int, default=200)
    e.add_argument("--threads", type=int, default=2)
    e.add_argument(
        "--explain", action="store_true", help="instead: how well the explain maps find the objects"
    )
    e.add_argument(
        "--explain-n",
        type=int,
        nargs=2,
        default=(40, 20),
        metavar=("ONE", "TWO"),
        help="single- and two-object scenes for --explain (default 40 20)",
    )
    e.add_argument(
        "--scorecam-scenes",
        type=int,
        nargs=2,
        default=(20, 10),
        metavar=("ONE", "TWO"),
        help="of those, the first ONE and TWO that Score-CAM runs on (default 20 10: "
        "256 masked forward passes a scene)",
    )
    s = sub.add_parser("samples", help="write the generated sample images to assets/samples")
    s.add_argument("--out", type=Path, default=Path("assets/samples"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import torch

    if args.command == "train":
        from .train import CheckpointMismatch, Recipe, train

        torch.set_num_threads(args.threads)
        recipe = Recipe() if args.extra_steps is None else Recipe(extra_steps=args.extra_steps)
        try:
            train(args.out, args.minutes, args.resume, args.checkpoint, recipe)
        except CheckpointMismatch as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    elif args.command == "evaluate":
        from .evaluate import DemoError, evaluate

        torch.set_num_threads(args.threads)
        try:
            if args.explain:
                from .explain_eval import evaluate_explain

                n_score = tuple(args.scorecam_scenes)
                evaluate_explain(args.weights, *args.explain_n, n_score=n_score)
                return 0
            evaluate(args.weights, n=args.n, attention_n=args.attention_n)
        except DemoError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    else:
        from .samples import write_samples

        write_samples(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
