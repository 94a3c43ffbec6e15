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
from .i18n import ntr, num, tr
from .model.vit import VIT_PRESETS

DEFAULT_REPEATS = 3
DEFAULT_BUDGET_S = 25.0  # timed runs beyond the first stop once a size's share is spent


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            tr("CLI", "sizes must be N,N,... (e.g. 224,384), not {text!r}", text=text)
        ) from None
    if not sizes or min(sizes) < 16:
        raise argparse.ArgumentTypeError(
            tr("CLI", "sizes must be at least 16 px, not {text!r}", text=text)
        )
    return sizes


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .cli_common import DEFAULT_MODEL, model_help

    p.description = tr("CLI", "Measure Swin against a ViT: params, MACs, time and memory per size.")
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="M",
        help=tr("CLI", "{help} (default)", help=model_help()),
    )
    p.add_argument(
        "--vs",
        default=DEFAULT_VIT,
        choices=tuple(VIT_PRESETS),
        metavar="VIT",
        help=tr(
            "CLI",
            "ViT preset: {presets} (default {default})",
            presets=", ".join(VIT_PRESETS),
            default=DEFAULT_VIT,
        ),
    )
    p.add_argument(
        "--sizes",
        type=_sizes,
        default=DEFAULT_SIZES,
        metavar="N,N,...",
        help=tr("CLI", "square input sizes in px (default 224,384,512,768,1024)"),
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=DEFAULT_REPEATS,
        metavar="N",
        help=tr("CLI", "timed runs per model and size at most (default {n})", n=DEFAULT_REPEATS),
    )
    p.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET_S,
        metavar="S",
        help=tr(
            "CLI",
            "seconds of timed runs after which sizes stop adding repeats (at least one run "
            "each; 0 = no limit; default {s})",
            s=num(DEFAULT_BUDGET_S, "g"),
        ),
    )
    p.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help=tr("CLI", "write the rows")
    )


# ---- text --------------------------------------------------------------------------------
def header() -> tuple[str, ...]:
    """The table's column names."""
    return (
        tr("Cost", "model"),
        tr("Cost", "size"),
        tr("Cost", "params"),
        "GMACs",
        tr("Cost", "counted"),
        "Δ",
        tr("Cost", "Ω attn"),
        tr("Cost", "counted attn"),
        tr("Cost", "ms"),
        tr("Cost", "runs"),
        tr("Cost", "peak MiB"),
    )


def table_rows(result: SweepResult) -> list[tuple[str, ...]]:
    return [
        (
            r.model,
            str(r.size),
            f"{num(r.params / 1e6, '.2f')} M",
            num(r.macs / 1e9, ".2f"),
            num(r.counted_macs / 1e9, ".2f"),
            f"{num(100 * r.mac_error, '+.2f')} %",
            num(r.formula_attn / 1e9, ".2f"),
            num(r.counted_attn / 1e9, ".2f"),
            num(r.ms, ".1f"),
            str(r.runs),
            num(r.peak_mb, ".1f"),
        )
        for r in result.rows
    ]


def format_table(result: SweepResult) -> str:
    """The rows as an aligned text table, then slopes, crossovers and methods."""
    head = header()
    rows = [head, *table_rows(result)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
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
        tr(
            "Cost",
            "time ∝ tokens^{slope} for {model} (least-squares log-log slope)",
            slope=num(s, ".2f"),
            model=m,
        )
        for m, s in result.slopes.items()
    ]
    out += [c.text() for c in result.crossovers]
    out += [
        tr(
            "Cost",
            "MACs: FlopCounterMode within {error} % of the analytic count "
            "(LayerNorms left out of both; GMACs column includes them)",
            error=num(100 * worst, ".2f"),
        ),
        tr(
            "Cost",
            "Ω attn: the paper's Ω(W-MSA) (Swin) / Ω(MSA) (ViT) summed over blocks, unpadded "
            "hw; counted attn: the counter's MACs inside the attention modules",
        ),
        ntr(
            "Cost",
            "time: {method}; {n} torch thread",
            "time: {method}; {n} torch threads",
            result.threads,
            method=result.methods["time"],
        ),
        tr("Cost", "memory: {method}", method=result.methods["memory"]),
        tr("Cost", "sweep wall time {s} s", s=num(result.wall_s, ".1f")),
    ]
    if result.load is not None:
        busy = max(result.load) > max(result.cores, 1) + 0.5  # more runnable threads than cores
        fmt = {"a": num(result.load[0], ".1f"), "b": num(result.load[1], ".1f")}
        if busy:
            line = ntr(
                "Cost",
                "load average {a} → {b} on {n} core: other processes share the CPUs, the "
                "times are noisy",
                "load average {a} → {b} on {n} cores: other processes share the CPUs, the "
                "times are noisy",
                result.cores,
                **fmt,
            )
        else:
            line = ntr(
                "Cost",
                "load average {a} → {b} on {n} core",
                "load average {a} → {b} on {n} cores",
                result.cores,
                **fmt,
            )
        out.append(line)
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
        ntr(
            "Cost",
            "load average {load} on {n} core: measuring with 1 torch thread (--threads N chooses)",
            "load average {load} on {n} cores: measuring with 1 torch thread (--threads N chooses)",
            cores,
            load=num(load, ".1f"),
        ),
        file=sys.stderr,
        flush=True,
    )


def cmd_cost(args: argparse.Namespace, threads_chosen: bool = True) -> int:
    from .cli_common import CLIError, load

    if args.repeats < 1:
        raise CLIError(tr("CLI", "--repeats must be at least 1, not {n}", n=args.repeats))
    if args.json is not None and not args.json.resolve().parent.is_dir():
        raise CLIError(
            tr(
                "CLI",
                "--json {path}: the folder {folder} does not exist",
                path=args.json,
                folder=args.json.parent,
            )
        )
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
            raise CLIError(
                tr("CLI", "--json {path}: {why}", path=args.json, why=e.strerror or e)
            ) from None
        rows = ntr(
            "CLI",
            "wrote {n} row to {path}",
            "wrote {n} rows to {path}",
            len(result.rows),
            path=args.json,
        )
        print(rows, file=sys.stderr)
    return 0
