"""`swin-gui cost`: Swin against a ViT on this machine (`swin_gui.costlab.sweep`).

    swin-gui cost [--model M] [--vs VIT] [--sizes 224,384,512,768,1024] [--json FILE]
                  [--repeats N] [--budget S]

Prints one table row per model and size (params, analytic and counted MACs, the paper's
attention formula beside the counted attention MACs, median ms, peak activation MiB), then
the time-vs-tokens exponents, the crossover sizes and how each number was measured.
Progress goes to stderr, one line per measurement. `--json FILE` writes the rows as a list
of {"model", "size", "params", "macs", "ms", "peak_mb"}. Without `--threads`, on a box whose
load average exceeds its core count, it measures with one torch thread and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .costlab import DEFAULT_SIZES, DEFAULT_VIT, SweepResult, load_average, sweep
from .model.vit import VIT_PRESETS

DEFAULT_REPEATS = 3
DEFAULT_BUDGET_S = 25.0  # timed runs beyond the first stop once a size's share is spent


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes must be N,N,... (e.g. 224,384), not {text!r}"
        ) from None
    if not sizes or min(sizes) < 16:
        raise argparse.ArgumentTypeError(f"sizes must be at least 16 px, not {text!r}")
    return sizes


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .cli_common import DEFAULT_MODEL, MODEL_HELP

    p.description = "Measure Swin against a ViT: params, MACs, time and memory per size."
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="M", help=MODEL_HELP + " (default)")
    p.add_argument(
        "--vs",
        default=DEFAULT_VIT,
        choices=tuple(VIT_PRESETS),
        metavar="VIT",
        help=f"ViT preset: {', '.join(VIT_PRESETS)} (default {DEFAULT_VIT})",
    )
    p.add_argument(
        "--sizes",
        type=_sizes,
        default=DEFAULT_SIZES,
        metavar="N,N,...",
        help="square input sizes in px (default 224,384,512,768,1024)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=DEFAULT_REPEATS,
        metavar="N",
        help=f"timed runs per model and size at most (default {DEFAULT_REPEATS})",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET_S,
        metavar="S",
        help="seconds of timed runs after which sizes stop adding repeats (at least "
        f"one run each; 0 = no limit; default {DEFAULT_BUDGET_S:g})",
    )
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the rows")


# ---- text --------------------------------------------------------------------------------
HEADER = (
    "model",
    "size",
    "params",
    "GMACs",
    "counted",
    "Δ",
    "Ω attn",
    "counted attn",
    "ms",
    "runs",
    "peak MiB",
)


def table_rows(result: SweepResult) -> list[tuple[str, ...]]:
    return [
        (
            r.model,
            str(r.size),
            f"{r.params / 1e6:.2f} M",
            f"{r.macs / 1e9:.2f}",
            f"{r.counted_macs / 1e9:.2f}",
            f"{100 * r.mac_error:+.2f} %",
            f"{r.formula_attn / 1e9:.2f}",
            f"{r.counted_attn / 1e9:.2f}",
            f"{r.ms:.1f}",
            str(r.runs),
            f"{r.peak_mb:.1f}",
        )
        for r in result.rows
    ]


def format_table(result: SweepResult) -> str:
    """The rows as an aligned text table, then slopes, crossovers and methods."""
    rows = [HEADER, *table_rows(result)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.append("")
    lines += summary_lines(result)
    return "\n".join(lines)


def summary_lines(result: SweepResult) -> list[str]:
    worst = max(abs(r.mac_error) for r in result.rows)
    out = [
        f"time ∝ tokens^{s:.2f} for {m} (least-squares log-log slope)"
        for m, s in result.slopes.items()
    ]
    out += [c.text() for c in result.crossovers]
    out += [
        f"MACs: FlopCounterMode within {100 * worst:.2f} % of the analytic count "
        "(LayerNorms left out of both; GMACs column includes them)",
        "Ω attn: the paper's Ω(W-MSA) (Swin) / Ω(MSA) (ViT) summed over blocks, unpadded hw; "
        "counted attn: the counter's MACs inside the attention modules",
        f"time: {result.methods['time']}; {result.threads} torch thread(s)",
        f"memory: {result.methods['memory']}",
        f"sweep wall time {result.wall_s:.1f} s",
    ]
    if result.load is not None:
        busy = max(result.load) > max(result.cores, 1) + 0.5  # more runnable threads than cores
        note = ": other processes share the CPUs, the times are noisy" if busy else ""
        out.append(
            f"load average {result.load[0]:.1f} → {result.load[1]:.1f} "
            f"on {result.cores} core(s){note}"
        )
    return out


def _progress(done: int, total: int, what: str) -> None:
    print(f"[{done}/{total}] {what}", file=sys.stderr, flush=True)


def _threads_for_a_busy_box(chosen: bool) -> None:
    """Without --threads, on a box whose load average exceeds its cores, measure with one
    torch thread: OpenMP threads on contended cores wait for each other at every barrier
    (a DeiT-S forward took 3.4–4.8 s with 2 threads against 0.73–0.93 s with 1 here)."""
    import torch

    load, cores = load_average(), os.cpu_count() or 1
    if chosen or load is None or load <= cores or torch.get_num_threads() == 1:
        return
    torch.set_num_threads(1)
    print(
        f"load average {load:.1f} on {cores} core(s): measuring with 1 torch thread "
        "(--threads N chooses)",
        file=sys.stderr,
        flush=True,
    )


def cmd_cost(args: argparse.Namespace, threads_chosen: bool = True) -> int:
    from .cli_common import CLIError, load

    if args.repeats < 1:
        raise CLIError(f"--repeats must be at least 1, not {args.repeats}")
    if args.json is not None and not args.json.resolve().parent.is_dir():
        raise CLIError(f"--json {args.json}: the folder {args.json.parent} does not exist")
    model = load(args.model)
    _threads_for_a_busy_box(threads_chosen)
    result = sweep(
        model,
        args.vs,
        args.sizes,
        repeats=args.repeats,
        budget_s=args.budget or None,
        progress=_progress,
    )
    print(format_table(result))
    if args.json is not None:
        try:
            args.json.write_text(json.dumps(result.json_rows(), indent=1) + "\n")
        except OSError as e:
            raise CLIError(f"--json {args.json}: {e.strerror or e}") from None
        print(f"wrote {len(result.rows)} rows to {args.json}", file=sys.stderr)
    return 0
