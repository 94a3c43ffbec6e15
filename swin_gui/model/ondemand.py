"""On-demand attention for a lazily captured `Trace`.

`swin_gui.capture` runs one plain forward pass that records every block's input and output;
a block's attention probabilities, position bias and `mid` (the residual stream after the
attention branch) are computed only when a view reads them, from that input, with the same
chunked code the forward pass uses (so they equal an eager capture exactly). What a trace
needs for that is a detached copy of each block's attention weights (LN1, qkv, the bias
table or CPB MLP, the logit scale), never the model itself, so switching models frees the
old one. The copy is shared by every trace of one
model while its weights are unchanged. Results stay in a per-trace LRU cache bounded in
bytes (the most recent block is always kept), so an old trace takes its cache with it.
"""

from __future__ import annotations

import copy
import ctypes
import threading
import warnings
import weakref
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from .chunks import WindowProbs, attention_residual, windowed_attention
from .swin import SwinBlock

CACHE_BYTES = 256 * 2**20  # on-demand results kept per trace (the latest block always is)
WINDOW_ROWS = 16  # rows of windows kept per trace for `window_attention` (a few MB each)
WHOLE_BYTES = CACHE_BYTES // 2  # a block's attention up to this is computed whole for a window


class BlockAttention(nn.Module):
    """A detached copy of what one block's attention needs."""

    def __init__(self, block: SwinBlock) -> None:
        super().__init__()
        self.version = block.version
        self.norm1 = copy.deepcopy(block.norm1)  # v1: before attention; v2: after it
        self.attn = copy.deepcopy(block.attn)
        self.requires_grad_(False)

    @torch.no_grad()
    def probabilities(
        self, x: torch.Tensor, window: int, shift: int, row: int | None = None
    ) -> torch.Tensor:
        """Block input x (B, H, W, C) -> softmax probabilities (B*nW, heads, N, N); with
        `row`, only that row of windows of the rolled, padded grid (B*nWw, heads, N, N)."""
        B, H, W, _ = x.shape
        nWh, nWw = -(-H // window), -(-W // window)
        band = None if row is None else (row * window, (row + 1) * window)
        keep = WindowProbs(B, nWw if band else nWh * nWw, self.attn.num_heads, window**2, x)
        pre = self.norm1 if self.version == 1 else None
        run = windowed_attention(x, self.attn, window, shift, pre, keep, False, band=band)
        for _ in run:
            pass
        return keep.result()

    @torch.no_grad()
    def mid(self, x: torch.Tensor, window: int, shift: int, keep=None) -> torch.Tensor:
        """Block input (B, H, W, C) -> the residual stream after the attention branch;
        `keep.append` receives that same pass's probabilities a chunk of windows at a time
        (B*nWc, heads, N, N), in `probabilities` order."""
        return attention_residual(x, self.attn, self.norm1, self.version, window, shift, keep)

    @torch.no_grad()
    def bias(self, window: int) -> torch.Tensor:
        return self.attn.position_bias(window)  # heads, N, N


_SNAPSHOTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _weights_key(model: nn.Module) -> tuple:
    return tuple((p.data_ptr(), p._version) for p in model.parameters())


def snapshot(model: nn.Module) -> tuple[tuple[BlockAttention, ...], ...]:
    """Per stage, per block, a `BlockAttention` copy of `model`'s weights. Cached weakly
    per model and rebuilt when a parameter changes (in place or replaced)."""
    key = _weights_key(model)
    hit = _SNAPSHOTS.get(model)
    if hit is not None and hit[0] == key:
        return hit[1]
    blocks = tuple(tuple(BlockAttention(b) for b in stage.blocks) for stage in model.layers)
    _SNAPSHOTS[model] = (key, blocks)
    return blocks


def trim_heap() -> None:
    """Give freed heap memory back to the OS (glibc `malloc_trim`; elsewhere a no-op).

    The chunked forward pass of a large image frees many medium-sized temporaries that
    glibc keeps in its heap; without this the RSS stays hundreds of MB above where it was
    after the trace is dropped. Runs (`trim_heap_soon`) when a large trace is freed."""
    global _LIBC
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL("libc.so.6")
            _LIBC.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _LIBC = False
    if _LIBC:
        _LIBC.malloc_trim(0)


_LIBC = None


def trim_heap_soon(delay: float = 0.2) -> None:
    """`trim_heap` from a short-lived thread a moment from now: a finalizer runs before the
    dying object's arrays are freed, so trimming at once would find nothing to return."""
    timer = threading.Timer(delay, trim_heap)
    timer.daemon = True
    timer.start()


class OnDemand:
    """Computes a lazily captured block's `attn`, `bias` and `mask` and caches them, least
    recently used first out, while the cache holds more than `max_bytes`; everything of the
    block read last stays (its attention and mask are drawn together).

    `window_attention` reads one window: from the whole block's attention when that is at
    most `WHOLE_BYTES` (computed and cached like `attn`, so the next token is free), else
    from the row of windows (of the rolled, padded grid) that holds it, computed alone:
    the same chunk the whole pass computes, so it equals `attn[window]` exactly. Swin-T
    on a 12 MP photo: one row of stage 0 is 4 MB, the block 445 MB (and its mask 148 MB).
    The last `WINDOW_ROWS` rows are kept."""

    def __init__(self, blocks, device: torch.device | str = "cpu", max_bytes: int = CACHE_BYTES):
        self._blocks = blocks
        self.device = torch.device(device)
        self.max_bytes = max_bytes
        self._cache: OrderedDict[tuple[int, int, str], np.ndarray] = OrderedDict()
        self._rows: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(a.nbytes for a in self._cache.values())

    def cached(self) -> list[tuple[int, int, str]]:
        """(stage, block, name) held now, least recently used first."""
        with self._lock:
            return list(self._cache)

    def holds(self, block, name: str) -> bool:
        with self._lock:
            return (block.stage, block.index, name) in self._cache

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._rows.clear()

    def window_row(self, block, window: int) -> int | None:
        """The row of windows `window_attention(block, window)` computes, or None when it
        computes the block's whole attention (one at most `WHOLE_BYTES`, then cached like
        `attn`)."""
        nWh, nWw = block.window_grid
        heads = self._blocks[block.stage][block.index].attn.num_heads
        whole = nWh * nWw * heads * block.tokens_per_window**2 * 4 <= WHOLE_BYTES
        return None if whole else window // nWw

    def holds_window(self, block, window: int) -> bool:
        """Whether `window_attention(block, window)` is free now."""
        row = (block.stage, block.index, self.window_row(block, window))
        with self._lock:
            return (block.stage, block.index, "attn") in self._cache or row in self._rows

    def window_attention(self, block, window: int) -> np.ndarray:
        """(heads, N, N) softmax of one window of `block` (rolled, padded window order)."""
        row = self.window_row(block, window)
        if row is None:
            return self.get(block, "attn")[window]
        nWw, key = block.window_grid[1], (block.stage, block.index, row)
        with self._lock:
            whole = self._cache.get((block.stage, block.index, "attn"))
            if whole is not None:
                return whole[window]
            if key in self._rows:
                self._rows.move_to_end(key)
                return self._rows[key][window % nWw]
        weights = self._blocks[block.stage][block.index]
        probs = weights.probabilities(self._input(block), block.window, block.shift, row)
        value = probs.float().cpu().numpy()  # nWw, heads, N, N
        value.setflags(write=False)
        with self._lock:
            self._rows[key] = value
            while len(self._rows) > WINDOW_ROWS:
                self._rows.popitem(last=False)
        return value[window % nWw]

    def get(self, block, name: str) -> np.ndarray:
        key = (block.stage, block.index, name)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = self._compute(block, name)
        value.setflags(write=False)
        with self._lock:
            self._cache[key] = value
            self._cache.move_to_end(key)
            total = sum(a.nbytes for a in self._cache.values())
            for old in [k for k in self._cache if k[:2] != key[:2]]:  # this block stays whole
                if total <= self.max_bytes:
                    break
                total -= self._cache.pop(old).nbytes
        return value

    def stream(self, block, keep=None) -> np.ndarray:
        """The block's `mid` (H, W, C), computed afresh and not cached; with `keep`, the
        same pass hands its attention probabilities to `keep.append` a chunk of windows
        (1*nWc, heads, N, N) at a time, in `attn` order, so a large block's attention is
        never held whole (the NPZ writer). Equal to `get(block, "mid")` / `"attn"` exactly."""
        weights = self._blocks[block.stage][block.index]
        mid = weights.mid(self._input(block), block.window, block.shift, keep)  # 1, H, W, C
        return mid[0].float().cpu().numpy()

    def _input(self, block) -> torch.Tensor:
        """The recorded block input as (1, H, W, C) on the device, without a copy on the
        CPU: the chunked attention only reads it (it gathers windows into new tensors;
        `tests/model/test_lazy_capture.py` checks the trace's array stays unchanged)."""
        if block.input is None:
            raise LookupError(f"stage {block.stage} block {block.index}: no recorded input")
        with warnings.catch_warnings():  # read-only array: torch warns it cannot protect it
            warnings.simplefilter("ignore", UserWarning)
            x = torch.as_tensor(block.input)
        return x[None].to(self.device)  # 1, H, W, C

    def _compute(self, block, name: str) -> np.ndarray:
        if name == "mask":
            from .regions import regions_to_mask

            return regions_to_mask(block.regions, block.window)
        weights = self._blocks[block.stage][block.index]
        if name == "bias":
            return weights.bias(block.window).float().cpu().numpy()
        if name not in ("attn", "mid"):
            raise KeyError(name)
        x = self._input(block)
        if name == "mid":
            return weights.mid(x, block.window, block.shift)[0].float().cpu().numpy()  # H, W, C
        probs = weights.probabilities(x, block.window, block.shift)  # nW, heads, N, N
        return probs.float().cpu().numpy()
