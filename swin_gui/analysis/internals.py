"""Block internals: how large the residual stream and each branch are, block by block.

For every Swin block (all stages, in forward order) we measure the mean over tokens of a
token's L2 norm over its channels:

    column 0  ‖x_in‖        the residual stream entering the block (`trace.block_input`)
    column 1  ‖x_mid‖       after the attention branch was added (`block.mid`)
    column 2  ‖x_out‖       after the MLP branch was added (`block.out`)
    column 3  ‖attn branch‖ what the attention branch added: ‖x_mid - x_in‖
    column 4  ‖mlp branch‖  what the MLP branch added: ‖x_out - x_mid‖

A NaN or infinite weight gives NaN/Inf norms; they are kept as they are (the views mark
them, `non_finite_blocks`) and never raise.

In v1 (pre-norm) the branches are W-MSA(LN1(x)) and MLP(LN2(x)); in v2 (res-post-norm)
they are LN1(W-MSA(x)) and LN2(MLP(x)), so their size is set by the LayerNorm's gain.
"""

from __future__ import annotations

import numpy as np

from .cache import TraceCache

NORM_COLUMNS: tuple[str, ...] = ("x_in", "x_mid", "x_out", "attn_branch", "mlp_branch")

_CACHE = TraceCache(traces=4, entries=4)  # weak: a dropped trace takes its table along


def token_norms(x: np.ndarray) -> np.ndarray:
    """(H, W) float32 L2 norm of each token over its channels; x is (H, W, C)."""
    x64 = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # NaN/Inf weights: norms say so
        return np.sqrt(np.einsum("hwc,hwc->hw", x64, x64)).astype(np.float32)  # H, W


def mean_token_norm(x: np.ndarray) -> float:
    """Mean over tokens of the per-token L2 norm."""
    return float(token_norms(x).mean())


def block_list(trace) -> list[tuple[int, int]]:
    """(stage, block) of every block in forward order."""
    return [(st.index, b.index) for st in trace.stages for b in st.blocks]


def flat_block_index(trace, stage: int, block: int) -> int:
    """Position of block (stage, block) in `block_list(trace)`."""
    return sum(len(trace.stages[s].blocks) for s in range(stage)) + block


def block_row(trace, stage: int, block: int) -> np.ndarray:
    """(5,) the `NORM_COLUMNS` of one block."""
    x_in = trace.block_input(stage, block)  # H, W, C
    bt = trace.block(stage, block)
    return np.array(
        [
            mean_token_norm(x_in),
            mean_token_norm(bt.mid),
            mean_token_norm(bt.out),
            mean_token_norm(bt.mid - x_in),
            mean_token_norm(bt.out - bt.mid),
        ],
        dtype=np.float32,
    )


def block_norms(trace) -> np.ndarray:
    """(n_blocks, 5) float32 table, rows in forward order, columns `NORM_COLUMNS`.
    Cached per trace object (a Trace is frozen)."""
    return _CACHE.get(trace, "block_norms", lambda: _block_norms(trace))


def _block_norms(trace) -> np.ndarray:
    table = np.stack([block_row(trace, s, b) for s, b in block_list(trace)])  # n_blocks, 5
    table.setflags(write=False)
    return table


def non_finite_blocks(table: np.ndarray) -> list[int]:
    """Rows of a `block_norms` table with a NaN or infinite norm."""
    return [int(i) for i in np.flatnonzero(~np.isfinite(table).all(axis=1))]


def stage_boundaries(trace) -> list[int]:
    """Flat index of the first block of each stage."""
    return [flat_block_index(trace, st.index, 0) for st in trace.stages]


def norm_placement(version: int) -> str:
    """'pre-norm' (v1) or 'res-post-norm' (v2): where LayerNorm sits in a block."""
    return "pre-norm" if version == 1 else "res-post-norm"


def block_equations(version: int) -> tuple[str, str]:
    """The two residual updates of a Swin block, as written in the papers."""
    if version == 1:
        return "x = x + W-MSA(LN1(x))", "x = x + MLP(LN2(x))"
    return "x = x + LN1(W-MSA(x))", "x = x + LN2(MLP(x))"
