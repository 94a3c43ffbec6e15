"""The numbers the Concepts text quotes, computed from the trace (numpy only, no text).

Every figure here is read off the loaded model and this image: the block's geometry as the
forward pass ran it (`BlockTrace`: window, shift, resolution, padding), the shift regions
and the mask they imply (`analysis.regions`), the residual-stream norms
(`analysis.internals`), the stage shapes around a patch merging, the analytic costs
(`analysis.costs`). Attention and bias are quoted only when already computed
(`BlockTrace.computed`): explaining a view never starts a capture.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...analysis.costs import swin_total_macs, vit_cost, vit_preset
from ...analysis.internals import block_list, block_norms, flat_block_index, norm_placement
from ...analysis.regions import MASK_VALUE, window_labels
from ..selection import Selection, view_shift

COMPARE_VIT = "vit_small_patch16_224"  # DeiT-S, the cost lab's default comparison


@dataclass(frozen=True)
class WindowFacts:
    """One window of a block under the viewed shift."""

    index: int
    regions: tuple[tuple[int, int], ...]  # (region label, tokens of it in the window)
    pairs: int  # N²
    masked: int  # query-key pairs from different regions: the mask adds −100 to them
    padding: int  # padding tokens in the window (zeros, cropped after attention)
    region_tokens: dict[int, tuple[int, int]]  # label -> a real token of it in the window


@dataclass(frozen=True)
class BlockFacts:
    """A block as it ran: geometry, windows, mask and cost of its attention."""

    stage: int
    block: int
    kind: str  # "W-MSA" | "SW-MSA" (by position: odd blocks are SW-MSA by design)
    shift: int  # what the block used
    nominal_shift: int  # M // 2 on odd blocks
    view_shift: int  # what the views draw (the S toggle may force it)
    config_window: int  # M of the model
    window: int  # M the block used (the grid when that is smaller)
    resolution: tuple[int, int]
    padded: tuple[int, int]
    window_grid: tuple[int, int]
    tokens_per_window: int
    heads: int
    channels: int
    token: tuple[int, int]
    position: int  # the token's place in its window, 0..N-1
    window_facts: WindowFacts
    mixed_windows: int  # windows holding more than one region (they need the mask)
    mixed_list: tuple[int, ...]  # their indices
    masked_pairs_total: int  # over every window

    @property
    def windows(self) -> int:
        return self.window_grid[0] * self.window_grid[1]

    @property
    def shift_off(self) -> bool:
        """An odd (SW-MSA) block whose shift the rule switched off: grid ≤ M."""
        return self.nominal_shift > 0 and self.shift == 0

    @property
    def tokens(self) -> int:
        return self.resolution[0] * self.resolution[1]

    @property
    def padding_tokens(self) -> int:
        return self.padded[0] * self.padded[1] - self.tokens

    @property
    def windowed_scores(self) -> int:
        """q·k scores per head: nW windows of N² (padding included)."""
        return self.windows * self.tokens_per_window**2

    @property
    def global_scores(self) -> int:
        """q·k scores per head of global attention over the real tokens: (hw)²."""
        return self.tokens**2

    def omega(self) -> tuple[int, int]:
        """The paper's Ω(MSA) = 4hwC² + 2(hw)²C and Ω(W-MSA) = 4hwC² + 2M²hwC of this
        block (hw the real tokens, M the window it used)."""
        hw, C, M = self.tokens, self.channels, self.window
        return 4 * hw * C * C + 2 * hw * hw * C, 4 * hw * C * C + 2 * M * M * hw * C


def block_facts(trace, sel: Selection) -> BlockFacts:
    """The selected block and window (the selected token's, as the views draw it)."""
    bt = trace.block(sel.stage, sel.block)
    shift = view_shift(bt, sel)
    H, W = bt.resolution
    token = sel.token if sel.token is not None else (H // 2, W // 2)
    token = (min(token[0], H - 1), min(token[1], W - 1))
    window, position = bt.locate(*token, shift=shift)
    labels, mixed, masked_total = _grid_regions(*bt.padded, bt.window, shift)
    win = labels[window]
    counts = np.bincount(win, minlength=9)
    regions = tuple((int(k), int(n)) for k, n in enumerate(counts) if n)
    N = bt.tokens_per_window
    masked = N * N - int((counts.astype(np.int64) ** 2).sum())
    keys = bt.window_tokens(window, shift)  # N, 2
    real = (keys[:, 0] < H) & (keys[:, 1] < W)
    region_tokens: dict[int, tuple[int, int]] = {}
    for i in np.flatnonzero(real):
        region_tokens.setdefault(int(win[i]), (int(keys[i, 0]), int(keys[i, 1])))
    return BlockFacts(
        stage=sel.stage,
        block=sel.block,
        kind=bt.kind,
        shift=bt.shift,
        nominal_shift=bt.nominal_shift,
        view_shift=shift,
        config_window=trace.config.window_size,
        window=bt.window,
        resolution=(H, W),
        padded=bt.padded,
        window_grid=bt.window_grid,
        tokens_per_window=N,
        heads=trace.config.num_heads[sel.stage],
        channels=trace.stages[sel.stage].dim,
        token=token,
        position=position,
        window_facts=WindowFacts(window, regions, N * N, masked, int((~real).sum()), region_tokens),
        mixed_windows=len(mixed),
        mixed_list=mixed,
        masked_pairs_total=masked_total,
    )


@lru_cache(maxsize=16)
def _grid_regions(Hp: int, Wp: int, M: int, s: int) -> tuple[np.ndarray, tuple[int, ...], int]:
    """(nW, N) region labels, the windows holding more than one region and the masked
    pairs of all windows together: geometry only, so computed once per grid and shift, not
    per token (a 12 MP photo's stage 0 has 15444 windows)."""
    labels = window_labels(Hp, Wp, M, s)  # nW, N
    labels.setflags(write=False)
    per_window = (labels[:, :, None] == np.arange(9)).sum(axis=1).astype(np.int64)  # nW, 9
    mixed = tuple(int(i) for i in np.flatnonzero((per_window > 0).sum(axis=1) > 1))
    N = M * M
    return labels, mixed, int(N * N * len(labels) - (per_window**2).sum())


def recorded_mask_pairs(trace, sel: Selection) -> int | None:
    """Masked pairs (entries equal to −100) of the selected window in the mask the block
    itself added, when it had one (None on an unshifted block)."""
    bt = trace.block(sel.stage, sel.block)
    if bt.mask is None:
        return None
    window = block_facts(trace, sel.with_(shift_view=None)).window_facts.index
    return int((bt.mask[window] == MASK_VALUE).sum())


@dataclass(frozen=True)
class QueryFacts:
    """The selected query's attention in its window, when the block's attention is held."""

    top_key: tuple[int, int]
    top_p: float
    masked_mass: float  # probability on keys the mask separated (mean over heads)
    padding_mass: float


def query_facts(trace, sel: Selection) -> QueryFacts | None:
    """None unless the attention of the selected token's window is already computed."""
    bt = trace.block(sel.stage, sel.block)
    f = block_facts(trace, sel.with_(shift_view=None))
    window = f.window_facts.index
    if not bt.window_computed(window):
        return None
    rows = bt.window_attention(window)[:, f.position, :].mean(axis=0)  # N
    keys = bt.window_tokens(window)
    H, W = bt.resolution
    padding = (keys[:, 0] >= H) | (keys[:, 1] >= W)
    mask = bt.window_mask(window)
    masked = np.zeros_like(padding) if mask is None else mask[f.position] < 0
    j = int(np.argmax(rows))
    return QueryFacts(
        (int(keys[j, 0]), int(keys[j, 1])),
        float(rows[j]),
        float(rows[masked].sum()),
        float(rows[padding].sum()),
    )


@dataclass(frozen=True)
class NormFacts:
    """Mean token norms of the residual stream, first block to last, and this block's."""

    version: int
    placement: str  # "pre-norm" | "res-post-norm"
    first: float  # ‖x_in‖ of block 0.0
    last: float  # ‖x_out‖ of the last block
    first_block: tuple[int, int]
    last_block: tuple[int, int]
    x_in: float
    attn_branch: float
    mlp_branch: float
    x_out: float


def norm_facts(trace, sel: Selection) -> NormFacts:
    table = block_norms(trace)
    row = table[flat_block_index(trace, sel.stage, sel.block)]
    blocks = block_list(trace)
    v = trace.config.version
    return NormFacts(
        v,
        norm_placement(v),
        float(table[0, 0]),
        float(table[-1, 2]),
        blocks[0],
        blocks[-1],
        *(float(row[i]) for i in (0, 3, 4, 2)),
    )


@dataclass(frozen=True)
class MergeFacts:
    """Patch merging into stage `stage` (≥ 1)."""

    stage: int
    version: int
    before: tuple[int, int]  # grid of stage - 1
    after: tuple[int, int]
    channels_in: int  # C of stage - 1
    odd: bool  # a row or column of zeros is padded first
    token: tuple[int, int]
    children: tuple[tuple[int, int], ...]  # its 2×2 neighbours on stage - 1, in concat order
    norm_in: float  # mean token norm entering
    norm_out: float  # and leaving
    window_px_before: int  # image pixels one window spans, stage - 1 and stage
    window_px_after: int


def merge_facts(trace, sel: Selection) -> MergeFacts:
    s = max(1, sel.stage)
    st, below = trace.stages[s], trace.stages[s - 1]
    H, W = st.resolution
    r, c = sel.token if sel.token is not None and sel.stage == s else (H // 2, W // 2)
    children = ((2 * r, 2 * c), (2 * r + 1, 2 * c), (2 * r, 2 * c + 1), (2 * r + 1, 2 * c + 1))
    from ...analysis.internals import mean_token_norm

    M = trace.config.window_size
    return MergeFacts(
        s,
        trace.config.version,
        below.resolution,
        st.resolution,
        below.dim,
        below.resolution[0] % 2 == 1 or below.resolution[1] % 2 == 1,
        (r, c),
        children,
        mean_token_norm(st.merge_in) if st.merge_in is not None else float("nan"),
        mean_token_norm(st.merge_out) if st.merge_out is not None else float("nan"),
        M * trace.token_pixels(s - 1),
        M * trace.token_pixels(s),
    )


@dataclass(frozen=True)
class CostFacts:
    """This model and DeiT-S on this image, analytically (MACs)."""

    height: int
    width: int
    swin_macs: int
    vit_macs: int
    vit_name: str = "DeiT-S"


def cost_facts(trace) -> CostFacts:
    H, W = trace.image.shape[:2]
    vit = vit_cost(vit_preset(COMPARE_VIT), H, W)["total"]
    return CostFacts(H, W, swin_total_macs(trace.config, H, W), vit)


@dataclass(frozen=True)
class MeasuredCost:
    """What a cost sweep measured: time of both models at the smallest and largest size
    and the time crossover. From the Cost lab's own run, or the README's recorded one."""

    source: str
    swin: str
    vit: str
    small: tuple[int, float, float]  # size, Swin ms, ViT ms
    large: tuple[int, float, float]
    crossover: float | None  # px where Swin becomes faster; None: no crossover in range
    always: bool = False  # Swin faster at every size swept


# The sweep recorded in README.md › "Cost lab" (tests/model/test_concepts_notes.py holds
# these numbers equal to that table): `swin-gui cost --model swin_tiny_patch4_window7_224`.
RECORDED = MeasuredCost(
    "README › Cost lab: swin-gui cost, 2-core AMD EPYC VM, 2 torch threads, 2026-12-01",
    "Swin-T",
    "DeiT-S",
    (224, 182.9, 154.0),
    (1024, 2992.2, 4836.5),
    574.0,
)


def measured_cost(result) -> MeasuredCost:
    """A `costlab.SweepResult` (the Cost lab's Run) as `MeasuredCost`."""
    swin, vit = result.models
    rows = {(r.model, r.size): r for r in result.rows}
    lo, hi = result.sizes[0], result.sizes[-1]
    cross = next((c for c in result.crossovers if c.quantity == "time"), None)
    return MeasuredCost(
        "the Cost lab's run in this session",
        swin,
        vit,
        (lo, rows[swin, lo].ms, rows[vit, lo].ms),
        (hi, rows[swin, hi].ms, rows[vit, hi].ms),
        cross.size if cross is not None and cross.status == "crossover" else None,
        cross is not None and cross.status == "always",
    )
