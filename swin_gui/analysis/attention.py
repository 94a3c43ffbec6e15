"""Attention and relative position bias of one Swin block, as plain arrays.

A block records its softmax probabilities `attn` (nW, heads, N, N) in the order it computed
them: after the cyclic shift and the bottom/right padding, window by window. These helpers
answer the paper's questions in image terms:

- where does the token (row, col) look? `query_attention` finds its window and position with
  the block's ACTUAL shift and returns one attention row per head (plus the mean over heads);
- where are those keys on the image? `window_keys` / `map_to_grid` undo the cyclic shift with
  `BlockTrace.window_tokens`, so a window that the roll wrapped around the border lands on the
  opposite edges of the image, and keys that are padding (row >= H or col >= W) are set apart;
- what is the relative position bias table? `bias_table` rebuilds the (2M-1) x (2M-1) table
  per head from the (heads, N, N) bias the block added to its logits.

Pure numpy (no torch, no Qt): `relative_offsets` / `relative_position_index` are the numpy
twins of `swin_gui.model.geometry`'s, for the views.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MASKED_BELOW = -1.0  # shift-mask entries below this are "masked" (the mask uses -100 / 0)


@dataclass(frozen=True)
class QueryAttention:
    """The attention of one query token over its window.

    Attributes:
        token: (row, col) of the query on the stage grid.
        window: window index on the block's rolled, padded grid.
        position: the query's position i in that window (0..N-1).
        rows: (heads + 1, N) attention of the query over the window's keys; rows 0..heads-1
            are the heads, the last row is the mean over heads (it still sums to 1).
        keys: (N, 2) original (row, col) of every key position j (undoing the shift).
        padding: (N,) bool, True where key j is a padding token (not on the image).
    """

    token: tuple[int, int]
    window: int
    position: int
    rows: np.ndarray
    keys: np.ndarray
    padding: np.ndarray

    @property
    def heads(self) -> int:
        return self.rows.shape[0] - 1

    def padding_mass(self) -> np.ndarray:
        """(heads + 1,) total probability the query puts on padding keys."""
        return self.rows[:, self.padding].sum(axis=1)


def default_token(block) -> tuple[int, int]:
    """The centre token of the block's grid: what the views show when none is selected."""
    H, W = block.resolution
    return H // 2, W // 2


def window_keys(block, window: int) -> tuple[np.ndarray, np.ndarray]:
    """((N, 2) original (row, col) of each key of `window`, (N,) bool padding flags),
    using the shift the block actually computed with."""
    keys = block.window_tokens(window)  # N, 2
    H, W = block.resolution
    padding = (keys[:, 0] >= H) | (keys[:, 1] >= W)  # N
    return keys, padding


def query_attention(block, token: tuple[int, int] | None = None) -> QueryAttention:
    """Attention of `token` (default: the centre token) over its window, every head + mean."""
    row, col = default_token(block) if token is None else (int(token[0]), int(token[1]))
    window, pos = block.locate(row, col)  # the partition the block computed
    per_head = block.window_attention(window)[:, pos, :]  # heads, N
    rows = np.concatenate([per_head, per_head.mean(axis=0, keepdims=True)])  # heads+1, N
    keys, padding = window_keys(block, window)
    return QueryAttention((row, col), window, pos, rows.astype(np.float32), keys, padding)


def map_to_grid(
    values: np.ndarray, keys: np.ndarray, resolution: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Scatter per-key values onto the stage grid.

    Args:
        values: (K, N) one row of N key values per map (e.g. heads + 1 attention rows).
        keys: (N, 2) original (row, col) of each key; keys outside [0, H) x [0, W) (padding,
            or outside a piece of the grid) are left out of the maps.
        resolution: (H, W) of the stage grid.
    Returns:
        ((K, H, W) float32 maps, NaN outside the window; (K,) mass of the padding keys).
    """
    values = np.asarray(values, dtype=np.float32)
    H, W = resolution
    inside = (keys[:, 0] >= 0) & (keys[:, 0] < H) & (keys[:, 1] >= 0) & (keys[:, 1] < W)  # N
    maps = np.full((values.shape[0], H, W), np.nan, np.float32)  # K, H, W
    maps[:, keys[inside, 0], keys[inside, 1]] = values[:, inside]
    return maps, values[:, ~inside].sum(axis=1)


def attention_maps(block, token: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """((heads + 1, H, W) attention maps of `token`, NaN outside its window; (heads + 1,)
    padding mass). Each map's finite sum plus its padding mass is 1."""
    q = query_attention(block, token)
    return map_to_grid(q.rows, q.keys, block.resolution)


def window_matrix(block, window: int, head: int | None) -> np.ndarray:
    """(N, N) attention of one window: a head, or the mean over heads when `head` is None."""
    a = block.window_attention(window)  # heads, N, N
    return a.mean(axis=0) if head is None else a[head]


def masked_entries(block, window: int) -> np.ndarray:
    """(N, N) bool: True where the shift mask separated query i from key j in `window`."""
    mask = block.window_mask(window)
    if mask is None:
        N = block.tokens_per_window
        return np.zeros((N, N), bool)
    return mask < MASKED_BELOW


# ---- relative position bias ------------------------------------------------------------------
@lru_cache(maxsize=32)
def _offsets(window: int) -> np.ndarray:
    ys, xs = np.divmod(np.arange(window * window), window)  # N, N
    d = np.stack([ys[:, None] - ys[None, :], xs[:, None] - xs[None, :]], axis=-1)
    d.setflags(write=False)
    return d


def relative_offsets(window: int) -> np.ndarray:
    """(N, N, 2) int offsets (dy, dx) = (y_i - y_j, x_i - x_j) between query i and key j,
    positions row-major in the M x M window (numpy twin of `model.geometry`'s)."""
    return _offsets(window).copy()


def relative_position_index(window: int, table_window: int | None = None) -> np.ndarray:
    """(N, N) int row of the ((2M-1)^2, heads) bias table for query i and key j:
    (dy + M - 1) * (2M - 1) + (dx + M - 1). `table_window` is the M the table was built
    for (a smaller effective window reads the central part of the same table)."""
    t = table_window or window
    d = _offsets(window) + (t - 1)
    return d[..., 0] * (2 * t - 1) + d[..., 1]


@lru_cache(maxsize=16)
def _table_cells(window: int) -> tuple[np.ndarray, np.ndarray]:
    """(N*N,) row and column in the (2M-1) x (2M-1) table of every (query, key) pair."""
    d = relative_offsets(window).reshape(-1, 2) + (window - 1)  # N*N, 2
    d.setflags(write=False)
    return d[:, 0], d[:, 1]


def bias_table(bias: np.ndarray, window: int) -> np.ndarray:
    """Rebuild the relative position bias table from the bias the block added.

    Args:
        bias: (heads, N, N) additive bias, bias[h, i, j] for query i and key j.
        window: M, with N = M * M.
    Returns:
        (heads, 2M-1, 2M-1) table: entry [h, dy + M-1, dx + M-1] is the bias for the offset
        (dy, dx) = (y_i - y_j, x_i - x_j). Every offset occurs for some pair (i, j).
    """
    heads = bias.shape[0]
    side = 2 * window - 1
    dy, dx = _table_cells(window)
    table = np.zeros((heads, side, side), np.float32)  # heads, 2M-1, 2M-1
    table[:, dy, dx] = bias.reshape(heads, -1)
    return table


def bias_table_spread(bias: np.ndarray, window: int) -> float:
    """Largest difference between two (i, j) pairs with the same offset: 0 when the bias
    really is a function of the relative position only."""
    heads = bias.shape[0]
    flat_index = relative_position_index(window).reshape(-1)  # N*N
    values = bias.reshape(heads, -1)  # heads, N*N
    cells = (2 * window - 1) ** 2
    hi = np.full((heads, cells), -np.inf)
    lo = np.full((heads, cells), np.inf)
    np.maximum.at(hi, (slice(None), flat_index), values)
    np.minimum.at(lo, (slice(None), flat_index), values)
    return float((hi - lo).max())


def expand_bias_table(table: np.ndarray) -> np.ndarray:
    """(heads, 2M-1, 2M-1) table -> (heads, N, N) bias, the inverse of `bias_table`."""
    window = (table.shape[-1] + 1) // 2
    dy, dx = _table_cells(window)
    N = window * window
    return table[:, dy, dx].reshape(table.shape[0], N, N)


def model_bias_table(table_rows: np.ndarray, window: int) -> np.ndarray:
    """A model's ((2M-1)^2, heads) table (v1 `relative_position_bias_table`, or v2
    `continuous_bias_table(M)`) as (heads, 2M-1, 2M-1), rows indexed like ours."""
    side = 2 * window - 1
    return np.asarray(table_rows, np.float32).reshape(side, side, -1).transpose(2, 0, 1)
