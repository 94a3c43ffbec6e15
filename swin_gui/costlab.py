"""The cost lab: Swin against a ViT, measured at several image sizes on this machine.

For each model and square size s x s (batch 1, fp32, `torch.no_grad`) a sweep gives:

- params: the parameters of the module;
- macs: the analytic count (`model.cost.macs` for Swin, `analysis.costs.vit_cost` for ViT),
  and `counted_macs` from `torch.utils.flop_counter.FlopCounterMode` (MACs = FLOPs / 2).
  The counter sees matmuls, convolutions and attention kernels only, so it is compared with
  the analytic count less its LayerNorms. ViT is counted on the meta device (shapes only, no
  arithmetic); Swin on the CPU during its warm-up run (its index ops do not run on meta),
  with torch's CPU flash-attention kernel given the counter's own SDPA formula;
- ms: the median wall time of timed runs, interleaved between the models at each size, in
  this process;
- peak_mb: the peak activation memory, see `MEMORY_METHOD`;
- the paper's per-block attention formulas, Ω(W-MSA) = 4hwC² + 2M²hwC summed over Swin's
  blocks and Ω(MSA) = 4hwC² + 2(hw)²C summed over ViT's, beside the attention MACs the
  counter found in those modules.

From the rows: the log-log slope of time against tokens per model (least squares), and the
size where Swin becomes cheaper than ViT, if there is one in range. Torch's fused
`TransformerEncoderLayer` fast path is switched off during the sweep, so ViT runs the same
`MultiheadAttention` -> `scaled_dot_product_attention` path that Swin's windows use (and that
the counter can see), and Swin's Linear layers take `F.linear` as the ViT's do, not oneDNN
(`model/linear.py`): the times compare the architectures, not two GEMM libraries.
Qt-free: the GUI runs `sweep` on a worker thread.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from .analysis.costs import vit_cost
from .cost_meters import LiveTensorMemory, counted, flop_counter, measuring
from .model import SwinConfig, SwinTransformer
from .model.cost import count_params, macs, macs_by_group, msa_vs_wmsa, token_grids
from .model.linear import aten_kernels
from .model.vit import VisionTransformer, ViTConfig, build_vit, vit_preset

DEFAULT_SIZES = (224, 384, 512, 768, 1024)
DEFAULT_VIT = "vit_small_patch16_224"
JSON_KEYS = ("model", "size", "params", "macs", "ms", "peak_mb")
LONG_RUN_S = 2.0  # a ViT warm-up this long counts as a timing sample (tracker overhead < 1 %)
MEMORY_METHOD = (
    "peak of live tensor storage allocated by aten ops during one forward (a TorchDispatchMode "
    "adds each new output storage and drops it when Python frees it); weights, the input and "
    "kernel-internal scratch are not counted. Chosen over RSS deltas (allocator caching and "
    "other processes on a shared box make them noisy) and over torch.profiler memory events "
    "(a profiler session cost seconds of fixed overhead per run here)"
)
MACS_METHOD = (
    "FlopCounterMode FLOPs / 2 (matmul, conv and attention kernels; ViT on the meta device, "
    "Swin on the CPU during its warm-up run) against the analytic count less LayerNorms"
)
TIME_METHOD = (
    "median wall time (time.perf_counter) of forward passes at batch 1, the models "
    "interleaved at each size, after a warm-up run (a ViT warm-up, which runs only the "
    f"memory tracker, counts as a sample when it takes >= {LONG_RUN_S:g} s)"
)


class SweepCancelled(Exception):
    """`should_cancel()` turned true between two measurements."""


@dataclass(frozen=True)
class CostRow:
    """One model at one size. `macs` is analytic (norms included, as `inspect`),
    `counted_macs` FlopCounterMode's; `formula_attn` the paper's Ω summed over blocks and
    `counted_attn` the counter's MACs inside the attention modules."""

    model: str
    family: str  # swin | vit
    size: int
    params: int
    tokens: int  # Swin: stage-0 tokens; ViT: patch tokens + the class token
    macs: int
    matmul_macs: int  # the analytic count less LayerNorms: what the counter can see
    counted_macs: int
    formula_attn: int
    counted_attn: int
    ms: float
    runs: int
    peak_mb: float

    @property
    def mac_error(self) -> float:
        """counted / analytic (matmul part) - 1."""
        return self.counted_macs / self.matmul_macs - 1 if self.matmul_macs else 0.0

    def json(self) -> dict:
        return {k: asdict(self)[k] for k in JSON_KEYS}


@dataclass(frozen=True)
class Crossover:
    """Where Swin becomes cheaper than ViT in `quantity`: `status` is "crossover" (at
    `size`, interpolated in log-log between the sizes around it), "always" (cheaper at every
    size swept) or "never" (not in range)."""

    quantity: str
    status: str
    size: float | None = None

    def text(self) -> str:
        """The verdict in the interface language (one sentence per quantity: Russian
        declines the quantity's name)."""
        from .i18n import num, tr

        size = "" if self.size is None else num(self.size, ".0f")
        if self.quantity == "MACs":
            texts = {
                "crossover": tr("Cost", "Swin becomes cheaper in MACs above ≈ {size} px"),
                "always": tr("Cost", "Swin is cheaper in MACs at every size swept"),
                "never": tr("Cost", "no crossover in MACs in the sizes swept (ViT stays cheaper)"),
            }
        elif self.quantity == "memory":
            texts = {
                "crossover": tr("Cost", "Swin becomes cheaper in memory above ≈ {size} px"),
                "always": tr("Cost", "Swin is cheaper in memory at every size swept"),
                "never": tr(
                    "Cost", "no crossover in memory in the sizes swept (ViT stays cheaper)"
                ),
            }
        else:
            texts = {
                "crossover": tr("Cost", "Swin becomes cheaper in time above ≈ {size} px"),
                "always": tr("Cost", "Swin is cheaper in time at every size swept"),
                "never": tr("Cost", "no crossover in time in the sizes swept (ViT stays cheaper)"),
            }
        return texts.get(self.status, texts["never"]).format(size=size)


@dataclass(frozen=True)
class SweepResult:
    rows: tuple[CostRow, ...]
    sizes: tuple[int, ...]
    models: tuple[str, str]  # (swin label, vit label)
    slopes: dict[str, float]
    crossovers: tuple[Crossover, ...]
    wall_s: float
    threads: int
    methods: dict[str, str] = field(default_factory=dict)
    load: tuple[float, float] | None = None  # 1-minute load average at the start and end
    cores: int = 0

    def of(self, model: str) -> list[CostRow]:
        return [r for r in self.rows if r.model == model]

    def json_rows(self) -> list[dict]:
        return [r.json() for r in self.rows]


def fit_slope(tokens: Sequence[float], values: Sequence[float]) -> float:
    """Least-squares slope of log(value) against log(tokens): t ∝ n^slope."""
    x, y = np.log(np.asarray(tokens, float)), np.log(np.asarray(values, float))
    if len(x) < 2 or np.ptp(x) == 0:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def crossover(quantity: str, sizes, swin, vit) -> Crossover:
    """Where swin < vit starts (see `Crossover`); interpolated on log size vs log ratio."""
    ratio = np.log(np.asarray(vit, float) / np.asarray(swin, float))  # > 0: Swin cheaper
    if ratio[0] > 0:
        return Crossover(quantity, "always")
    for i in range(1, len(ratio)):
        if ratio[i - 1] <= 0 < ratio[i]:
            a, b = math.log(sizes[i - 1]), math.log(sizes[i])
            t = -ratio[i - 1] / (ratio[i] - ratio[i - 1])
            return Crossover(quantity, "crossover", math.exp(a + t * (b - a)))
    return Crossover(quantity, "never")


def wmsa_formula(cfg: SwinConfig, size: int) -> int:
    """The paper's Ω(W-MSA) = 4hwC² + 2M²hwC summed over every block (unpadded hw)."""
    total = 0
    for s, (h, w) in enumerate(token_grids(cfg, size, size)):
        total += cfg.depths[s] * msa_vs_wmsa(h, w, cfg.stage_dim(s), cfg.window_size)["wmsa"]
    return total


# ---- the two contestants ----------------------------------------------------------------
@dataclass
class _Contestant:
    label: str
    family: str
    module: nn.Module
    cost: Callable[[int], dict]  # size -> analytic numbers
    samples: dict[int, list[float]] = field(default_factory=dict)

    def warm_up(self, x: torch.Tensor, size: int) -> tuple[int, int, float, float]:
        """One forward: (counted MACs, counted attention MACs, peak MiB, seconds)."""
        memory = LiveTensorMemory()
        if self.family == "vit":
            macs_, attn = _count_vit_on_meta(self.module.cfg, size)
            counter = contextlib.nullcontext()
        else:
            counter = flop_counter()
        with counter, memory:
            start = time.perf_counter()
            self.module(x)
            seconds = time.perf_counter() - start
        if self.family == "swin":
            macs_, attn = counted(counter, ".attn")
        return macs_, attn, memory.peak / 2**20, seconds

    def time(self, x: torch.Tensor) -> float:
        start = time.perf_counter()
        self.module(x)
        return time.perf_counter() - start


def _count_vit_on_meta(cfg: ViTConfig, size: int) -> tuple[int, int]:
    with torch.device("meta"):
        model, x = VisionTransformer(cfg).eval(), torch.empty(1, 3, size, size)
    with flop_counter() as counter:
        model(x)
    return counted(counter, ".self_attn")


def _swin(spec: SwinConfig | nn.Module) -> _Contestant:
    if isinstance(spec, SwinConfig):
        torch.manual_seed(0)
        spec = SwinTransformer(spec)
    cfg = spec.cfg
    info = getattr(spec, "info", None)
    label = getattr(info, "label", "") or cfg.name

    def cost(size: int) -> dict:
        groups = macs_by_group(macs(cfg, size, size))
        h, w = token_grids(cfg, size, size)[0]
        return {
            "total": groups["total"],
            "matmul": groups["total"] - groups["norm"],
            "tokens": h * w,
            "formula": wmsa_formula(cfg, size),
        }

    return _Contestant(label, "swin", spec.eval(), cost)


def _vit(spec: str | ViTConfig | nn.Module) -> _Contestant:
    module = spec if isinstance(spec, nn.Module) else build_vit(spec)
    cfg = module.cfg

    def cost(size: int) -> dict:
        c = vit_cost(cfg, size, size)
        return {
            "total": c["total"],
            "matmul": c["matmul"],
            "tokens": c["tokens"],
            "formula": c["msa"],
        }

    return _Contestant(cfg.name, "vit", module.eval(), cost)


# ---- the sweep ----------------------------------------------------------------------------
def sweep(
    swin: SwinConfig | nn.Module,
    vit: str | ViTConfig | nn.Module = DEFAULT_VIT,
    sizes: Sequence[int] = DEFAULT_SIZES,
    repeats: int = 3,
    budget_s: float | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> SweepResult:
    """Measure both models at every size (see the module docstring). `repeats` timed runs
    per model and size at most; with `budget_s`, a size stops adding runs once its share of
    the budget is spent (at least one run each). `progress(done, total, what)` is called
    after every measurement and `should_cancel()` checked before each (SweepCancelled)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    sizes = tuple(sorted({int(s) for s in sizes}))
    if not sizes or sizes[0] < 16:
        raise ValueError(f"sizes must be at least 16 px, not {sizes}")
    start, load0 = time.perf_counter(), load_average()
    models = (_swin(swin), _vit(vit if not isinstance(vit, str) else vit_preset(vit)))
    share = None if budget_s is None else budget_s / (len(sizes) * len(models))
    total, done = len(sizes) * len(models) * (1 + repeats), 0
    rows: list[CostRow] = []

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, what)

    def check() -> None:
        if should_cancel is not None and should_cancel():
            raise SweepCancelled("cost sweep cancelled")

    with measuring(), aten_kernels():  # Swin's Linear layers on F.linear, as the ViT's
        for size in sizes:
            torch.manual_seed(size)
            x = torch.randn(1, 3, size, size)
            warm = {}
            for m in models:
                check()
                warm[m.label] = m.warm_up(x, size)
                seconds = warm[m.label][3]
                long = m.family == "vit" and seconds >= LONG_RUN_S  # no counter in this run
                m.samples[size] = [seconds] if long else []
                step(f"{m.label} at {size} px: counted and warmed up")
            for r in range(repeats):
                for m in models:
                    runs = m.samples[size]
                    spent = sum(runs) or warm[m.label][3]
                    if len(runs) >= repeats or (runs and share and spent + runs[-1] > share):
                        step(f"{m.label} at {size} px: enough runs")
                        continue
                    check()
                    runs.append(m.time(x))
                    step(f"{m.label} at {size} px: run {r + 1}")
            rows += [_row(m, size, warm[m.label]) for m in models]
    return _result(rows, sizes, models, time.perf_counter() - start, load0)


def _row(m: _Contestant, size: int, warm: tuple) -> CostRow:
    cost = m.cost(size)
    counted_macs, counted_attn, peak_mb, _ = warm
    runs = m.samples[size]
    return CostRow(
        m.label,
        m.family,
        size,
        count_params(m.module),
        cost["tokens"],
        cost["total"],
        cost["matmul"],
        counted_macs,
        cost["formula"],
        counted_attn,
        1000 * statistics.median(runs),
        len(runs),
        peak_mb,
    )


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _result(rows: list[CostRow], sizes, models, wall_s: float, load0) -> SweepResult:
    swin, vit = (m.label for m in models)
    by = {m: [r for r in rows if r.model == m] for m in (swin, vit)}
    slopes = {m: fit_slope([r.tokens for r in rs], [r.ms for r in rs]) for m, rs in by.items()}
    crossovers = tuple(
        crossover(q, sizes, [getattr(r, key) for r in by[swin]], [getattr(r, key) for r in by[vit]])
        for q, key in (("time", "ms"), ("MACs", "macs"), ("memory", "peak_mb"))
    )
    methods = {"time": TIME_METHOD, "memory": MEMORY_METHOD, "macs": MACS_METHOD}
    return SweepResult(
        tuple(rows),
        tuple(sizes),
        (swin, vit),
        slopes,
        crossovers,
        wall_s,
        torch.get_num_threads(),
        methods,
        load=None if load0 is None else (load0, load_average() or 0.0),
        cores=os.cpu_count() or 0,
    )
