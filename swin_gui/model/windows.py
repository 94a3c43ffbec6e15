"""The window layout of one (S)W-MSA block as index arithmetic, and the per-size caches.

Pad to multiples of M, roll by (-s, -s), partition into M x M windows: the three steps
of the paper only move tokens, so they are one gather with a precomputed index
(`window_index`), and the way back (reverse, roll back, crop) is one more. The additive
bias + shift mask of a block at one input size is built once and kept in a small cache
bounded in bytes (`block_additive`), keyed by the attention weights' identity and
version — never stored on the module, so the model stays stateless.

Shapes: B batch, H x W token grid, Hp x Wp padded, C channels, M window, N = M*M, s shift.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .geometry import shift_regions, window_mask

CACHE_BYTES = 64 << 20  # all cached bias+mask tensors and indices together
ITEM_BYTES = 4 << 20  # a larger one (a big image's mask) is rebuilt per use instead


class BoundedCache:
    """Least-recently-used store bounded in bytes; values over `item_bytes` are not kept.
    Thread-safe (captures run off the GUI thread)."""

    def __init__(self, max_bytes: int = CACHE_BYTES, item_bytes: int = ITEM_BYTES) -> None:
        self.max_bytes, self.item_bytes = max_bytes, item_bytes
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(n for _, n in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def get(self, key, make: Callable[[], Any], valid: Callable[[Any], bool] | None = None):
        """The value under `key`, made by `make()` on a miss (or when `valid(value)` is
        false). The value is a tensor or a tuple of tensors/None."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and (valid is None or valid(hit[0])):
                self._items.move_to_end(key)
                return hit[0]
        value = make()
        nbytes = _nbytes(value)
        if nbytes <= self.item_bytes:
            with self._lock:
                self._items[key] = (value, nbytes)
                total = sum(n for _, n in self._items.values())
                while total > self.max_bytes:
                    total -= self._items.popitem(last=False)[1][1]
        return value


def _nbytes(value) -> int:
    items = value if isinstance(value, tuple) else (value,)
    return sum(t.numel() * t.element_size() for t in items if isinstance(t, torch.Tensor))


CACHE = BoundedCache()


@torch.compiler.disable  # a cache lookup: outside any compiled graph
def window_index(
    H: int, W: int, M: int, s: int, r0: int, r1: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """The gathers between the H x W grid and the windows of rolled padded rows [r0, r1).

    Returns (src, pad, rows, dst):
      src (nWc*N,): flat token r*W + c behind each window position, window-major and
        row-major inside a window; padding positions read token 0;
      pad (P,) or None: the window positions that are padding (to be zeroed);
      rows (R',): the grid rows these windows cover, ascending;
      dst (R'*W,): for each token of those rows (in that order), its window position.
    Position (p, q) of the rolled padded grid holds token ((p + s) % Hp, (q + s) % Wp)."""
    key = ("index", H, W, M, s, r0, r1, str(device))
    return CACHE.get(key, lambda: _window_index(H, W, M, s, r0, r1, device))


def _window_index(H, W, M, s, r0, r1, device):
    Hp, Wp = -(-H // M) * M, -(-W // M) * M
    R = r1 - r0
    src_r = (torch.arange(r0, r1) + s) % Hp  # R, padded row behind each rolled row
    src_c = (torch.arange(Wp) + s) % Wp  # Wp, padded column behind each rolled column
    real = (src_r[:, None] < H) & (src_c[None, :] < W)  # R, Wp
    flat = torch.where(real, src_r[:, None] * W + src_c[None, :], 0)  # R, Wp
    grid = torch.arange(R * Wp).view(R // M, M, Wp // M, M)  # rolled flat p*Wp + q
    perm = grid.permute(0, 2, 1, 3).reshape(-1)  # nWc*N, rolled position per window slot
    src, real_w = flat.view(-1)[perm], real.view(-1)[perm]  # nWc*N
    pad = None if bool(real_w.all()) else (~real_w).nonzero().flatten()
    slot = torch.empty(R * Wp, dtype=torch.long)
    slot[perm] = torch.arange(R * Wp)  # window slot of each rolled position
    kept = (src_r < H).nonzero().flatten()  # R', rolled rows that hold grid rows
    kept = kept[src_r[kept].argsort()]  # in grid order
    cols = (torch.arange(W) - s) % Wp  # W, rolled column of grid column c
    dst = slot.view(R, Wp)[kept][:, cols].reshape(-1)  # R'*W
    out = (src, pad, src_r[kept], dst)  # uploaded once per size, then cached
    return tuple(None if t is None else t.to(device, non_blocking=True) for t in out)


@torch.compiler.disable
def on_device(key: tuple, make: Callable[[], torch.Tensor], device) -> torch.Tensor:
    """`make()` (a small CPU tensor: an index, a coordinates table) on `device`, uploaded
    once and cached, so a steady-state forward pass does no host-to-device copies."""
    if torch.device(device).type == "cpu":
        return make()
    return CACHE.get((*key, str(device)), lambda: make().to(device, non_blocking=True))


def gather_windows(x: torch.Tensor, src: torch.Tensor, pad, M: int, norm=None) -> torch.Tensor:
    """(B, H, W, C) -> windows (B*nWc, N, C) in one gather: pad, roll and partition at once.
    `norm` (v1: LN1) runs on the gathered tokens (per token, so the same numbers)."""
    B, _, _, C = x.shape
    windows = x.reshape(B, -1, C).index_select(1, src)  # B, nWc*N, C
    if norm is not None:
        windows = norm(windows)
    if pad is not None:
        windows.index_fill_(1, pad, 0.0)  # padding tokens are zeros, as F.pad makes them
    return windows.view(-1, M * M, C)  # B*nWc, N, C


def scatter_windows(windows: torch.Tensor, dst: torch.Tensor, B: int, W: int) -> torch.Tensor:
    """Windows (B*nWc, N, C) -> (B, R', W, C) tokens of the covered rows: reverse, roll back
    and crop in one gather."""
    C = windows.shape[-1]
    return windows.view(B, -1, C).index_select(1, dst).view(B, -1, W, C)  # B, R', W, C


@torch.compiler.disable
def block_additive(
    attn: nn.Module, M: int, Hp: int, Wp: int, s: int, r0: int, r1: int
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """(bias (heads, N, N), mask (nWc, N, N) or None, additive (nWc or 1, heads, N, N)) of
    one block at one padded size, for the windows of rolled rows [r0, r1). Cached while
    autograd is off and the weights are unchanged (the key holds each parameter's id and
    version; a hit must still point at the same module)."""
    make = lambda: _additive(attn, M, Hp, Wp, s, r0, r1)  # noqa: E731
    if torch.is_grad_enabled():  # a graph must not be cached (the demo trains the model)
        return make()
    weights = tuple((id(p), p._version) for p in attn.parameters())
    device = attn.proj.weight.device
    key = ("additive", id(attn), weights, M, Hp, Wp, s, r0, r1, str(device))
    ref = weakref.ref(attn)
    value = CACHE.get(key, lambda: (*make(), ref), lambda v: v[3]() is attn)
    return value[:3]


def _additive(attn, M, Hp, Wp, s, r0, r1):
    bias = attn.position_bias(M)  # heads, N, N
    if not s:
        return bias, None, bias[None]
    labels = shift_regions(Hp, Wp, M, s, bias.device)[r0:r1]  # R, Wp labels after the roll
    mask = window_mask(labels, M).to(bias)  # nWc, N, N
    return bias, mask, bias[None] + mask[:, None]  # nWc, heads, N, N
