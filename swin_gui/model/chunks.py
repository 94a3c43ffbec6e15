"""The heavy steps of a Swin block in chunks, with results identical to the unchunked
formulation: window attention a band of whole window rows of the rolled, padded grid at a
time (its qkv inside), and token-wise steps (MLP, patch merging) a range of tokens at a
time. No chunk is shorter than MIN_CHUNK tokens, so every GEMM rounds like the unchunked
one (`tests/model/test_lazy_capture.py` checks bit equality).

Shapes: B batch, H x W token grid, Hp x Wp padded, C channels, M window, N = M*M, s shift.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from .geometry import padded_size
from .windows import block_additive, gather_windows, scatter_windows, window_index

CHUNK_TOKENS = 1 << 16  # tokens per chunk of the heavy steps; results do not depend on it


def windowed_attention(
    x: torch.Tensor,
    attn: nn.Module,
    window: int,
    shift: int,
    norm: nn.Module | None = None,
    keep=None,
    output: bool = True,
    chunk_tokens: int | None = None,
    band: tuple[int, int] | None = None,
) -> Iterator[tuple[torch.Tensor | None, torch.Tensor | None]]:
    """The (S)W-MSA branch of a block, in chunks of whole window rows.

    Args:
        x: the block input (B, H, W, C).
        attn: the block's `WindowAttention` / `WindowAttentionV2`.
        window, shift: M and s at this resolution (`SwinBlock.geometry`).
        norm: applied to the tokens first (v1: LN1), None for v2.
        keep: a list (or `WindowProbs`) that receives, per chunk, the probabilities
            (B*nW_chunk, heads, N, N).
        output: False computes the probabilities only (on-demand attention).
        chunk_tokens: tokens per chunk (default CHUNK_TOKENS).
        band: only the rolled, padded rows [r0, r1) (multiples of M): the windows there,
            computed exactly as in the whole pass (a window's attention on demand).
    Yields:
        (rows, branch) per chunk: the grid rows it covers (ascending) and the branch
        output there (B, len(rows), W, C), or None when `output` is False; a grid that
        fits one chunk yields rows None and the whole (B, H, W, C) branch.

    Equals, row for row: `norm`, pad to multiples of M, roll by (-s, -s), partition,
    window attention with the shift mask, reverse, roll back, crop. The first three and
    the last three are one gather each (`windows.window_index`). A window row of the
    rolled grid reads padded rows (r + s) mod Hp, so chunks never overlap and only one
    chunk's windows are alive at a time.
    """
    B, H, W, _ = x.shape
    M, s = window, shift
    Hp, Wp = padded_size(H, M), padded_size(W, M)
    step = M * max(1, (chunk_tokens or CHUNK_TOKENS) // (B * M * Wp))  # rolled rows per chunk
    lo, hi = band or (0, Hp)
    for r0 in range(lo, hi, step):
        r1 = min(hi, r0 + step)
        src, pad, rows, dst = window_index(H, W, M, s, r0, r1, x.device)
        bias, mask, additive = block_additive(attn, M, Hp, Wp, s, r0, r1)  # mask: nWc, N, N
        windows = gather_windows(x, src, pad, M, norm)  # B*nWc, N, C
        whole = band is None and step >= Hp  # one chunk: rows are all of the grid, in order
        if not output:
            keep.append(attn.probabilities(windows, M, mask, bias, additive))  # B*nWc, h, N, N
            yield (None if whole else rows), None
            continue
        windows = attn(windows, M, mask, keep, bias, additive=additive)  # B*nWc, N, C
        branch = scatter_windows(windows, dst, B, W)  # B, R', W, C
        yield (None if whole else rows), branch


MIN_CHUNK = 64  # a GEMM over fewer rows may round differently: a short tail joins the last


def token_chunks(total: int, chunk_tokens: int | None = None) -> list[tuple[int, int]]:
    """[start, stop) ranges of about `chunk_tokens` (default CHUNK_TOKENS) tokens; none is
    shorter than MIN_CHUNK unless `total` is, so every chunk rounds like the whole."""
    size = max(MIN_CHUNK, chunk_tokens or CHUNK_TOKENS)
    starts = list(range(0, total, size))
    if len(starts) > 1 and total - starts[-1] < MIN_CHUNK:
        starts.pop()
    return [(a, b) for a, b in zip(starts, [*starts[1:], total], strict=True)]


def attention_residual(
    x: torch.Tensor,
    attn: nn.Module,
    norm1: nn.Module,
    version: int,
    window: int,
    shift: int,
    keep=None,
) -> torch.Tensor:
    """The first half of a block, chunk by chunk: v1 x + W-MSA(LN1(x)) (pre-norm), v2
    x + LN1(W-MSA(x)) (res-post-norm). x: (B, H, W, C) -> the residual stream `mid`."""
    out = None
    pre = norm1 if version == 1 else None
    for rows, branch in windowed_attention(x, attn, window, shift, pre, keep):
        if version == 2:
            branch = norm1(branch)
        if rows is None:  # the whole grid in one chunk
            return x + branch  # B, H, W, C
        out = x.new_empty(x.shape) if out is None else out
        out[:, rows] = x[:, rows] + branch
    return out


def chunked_tokens(x: torch.Tensor, fn, chunk_tokens: int | None = None) -> torch.Tensor:
    """x + fn(x) per token, a chunk of tokens at a time (`token_chunks`). x: (B, H, W, C)."""
    chunks = token_chunks(x.shape[0] * x.shape[1] * x.shape[2], chunk_tokens)
    if len(chunks) == 1:
        return x + fn(x)
    out = x.new_empty(x.shape)  # contiguous
    flat, dst = x.reshape(-1, x.shape[-1]), out.view(-1, x.shape[-1])  # B*H*W, C
    for a, b in chunks:
        dst[a:b] = flat[a:b] + fn(flat[a:b])
    return out


class WindowProbs:
    """Collects per-chunk probabilities (B*nW_chunk, heads, N, N), in order, into one
    preallocated (B, nW, heads, N, N) tensor: no second copy of a large block's attention.
    Passed as the `keep` list of `windowed_attention` / `WindowAttention.forward`.

    `mean_heads` keeps only the mean over heads, (B, nW, N, N), and asks the attention to
    take its output from that same explicit softmax (`reuse`): one softmax per block."""

    def __init__(
        self,
        batch: int,
        windows: int,
        heads: int,
        tokens: int,
        like: torch.Tensor,
        mean_heads: bool = False,
    ):
        self.batch, self.filled, self.reuse, self.means = batch, 0, mean_heads, []
        shape = (batch, windows, heads, tokens, tokens)
        self.data = None if mean_heads else like.new_empty(shape)

    def append(self, chunk: torch.Tensor) -> None:
        n = chunk.shape[0] // self.batch
        chunk = chunk.view(self.batch, n, *chunk.shape[1:])
        if self.reuse:  # small: a list of per-chunk means, joined once
            self.means.append(chunk.mean(2))
            return
        self.data[:, self.filled : self.filled + n] = chunk
        self.filled += n

    def result(self) -> torch.Tensor:
        """(B*nW, heads, N, N) (mean_heads: (B*nW, N, N)), windows row-major over the
        rolled, padded grid per image."""
        if self.reuse:
            data = self.means[0] if len(self.means) == 1 else torch.cat(self.means, 1)
            return data.view(-1, *data.shape[2:])
        return self.data.view(-1, *self.data.shape[2:])
