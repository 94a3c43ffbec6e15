"""Window geometry as pure functions: partition, reverse, cyclic-shift regions, the shift
mask, and the relative-position index / v2 coordinates table.

Shapes use the paper's letters: B batch, H x W token grid, C channels, M window side,
N = M*M tokens per window, nW windows, s shift.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F

MASK_VALUE = -100.0  # what the reference code adds between tokens of different regions


def window_and_shift(height: int, width: int, window: int, shift: int) -> tuple[int, int]:
    """The window and shift a block actually uses at this resolution.

    Rule (official / Hugging Face): when min(H, W) <= M the window becomes the resolution
    and the shift is switched off, so one window sees every token.
    """
    if min(height, width) <= window:
        return min(height, width), 0
    return window, shift


def padded_size(size: int, multiple: int) -> int:
    """`size` rounded up to a multiple of `multiple` (bottom/right padding)."""
    return math.ceil(size / multiple) * multiple


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """(B, H, W, C) -> (B*nW, M*M, C); windows row-major, tokens row-major inside a window."""
    B, H, W, C = x.shape
    x = x.view(B, H // window, window, W // window, window, C)  # B, H/M, M, W/M, M, C
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, C)  # B*nW, N, C


def window_reverse(windows: torch.Tensor, window: int, height: int, width: int) -> torch.Tensor:
    """(B*nW, M*M, C) -> (B, H, W C); the inverse of `window_partition`."""
    C = windows.shape[-1]
    x = windows.view(-1, height // window, width // window, window, window, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, height, width, C)  # B, H, W, C


def shift_regions(
    height: int, width: int, window: int, shift: int, device: torch.device | str | None = None
) -> torch.Tensor:
    """Region labels 0..8 of the padded grid *after* the cyclic shift (H, W), int64, made
    on `device` (fills only: no host-device copy).

    Each axis splits into the slices [0:-M], [-M:-s], [-s:]; a token's label is
    3 * row_slice + col_slice. Tokens with different labels came from different image
    regions and must not attend to each other. With s = 0 every label is 0.
    """
    labels = torch.zeros(height, width, dtype=torch.long, device=device)
    if shift == 0:
        return labels
    bounds = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    for i, hs in enumerate(bounds):
        for j, ws in enumerate(bounds):
            labels[hs, ws] = 3 * i + j
    return labels


MASK_CACHE_BYTES = 1 << 22  # masks up to 4 MB are cached; larger ones are rebuilt per use


def window_mask(labels: torch.Tensor, window: int) -> torch.Tensor:
    """Additive mask (nW, N, N) of a (rows, cols) grid of region labels whose sides are
    multiples of M: -100 between tokens of one window with different labels, else 0."""
    win = window_partition(labels[None, :, :, None], window).squeeze(-1)  # nW, N
    differs = win[:, :, None] != win[:, None, :]  # nW, N, N
    return torch.zeros(differs.shape, device=differs.device).masked_fill_(differs, MASK_VALUE)


@lru_cache(maxsize=16)
def _shift_mask_cached(height: int, width: int, window: int, shift: int) -> torch.Tensor:
    return window_mask(shift_regions(height, width, window, shift), window)


def shift_mask(height: int, width: int, window: int, shift: int) -> torch.Tensor:
    """Additive attention mask (nW, N, N): -100 where query and key carry different
    shift-region labels inside one window, 0 elsewhere. All zeros when s = 0.

    Only small masks are cached, so a large image leaves no mask behind."""
    nbytes = 4 * (height // window) * (width // window) * window**4
    if nbytes > MASK_CACHE_BYTES:
        return window_mask(shift_regions(height, width, window, shift), window)
    return _shift_mask_cached(height, width, window, shift).clone()


def relative_offsets(window: int) -> torch.Tensor:
    """(N, N, 2) offsets (dy, dx) = (y_i - y_j, x_i - x_j) between query i and key j."""
    ys, xs = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
    coords = torch.stack([ys.flatten(), xs.flatten()])  # 2, N
    return (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)  # N, N, 2


@lru_cache(maxsize=32)
def _relative_position_index_cached(window: int, table_window: int) -> torch.Tensor:
    d = relative_offsets(window) + (table_window - 1)  # shift into [0, 2M-2]
    return d[..., 0] * (2 * table_window - 1) + d[..., 1]  # N, N


def relative_position_index(window: int, table_window: int | None = None) -> torch.Tensor:
    """(N, N) row of the ((2M-1)^2, heads) bias table for query i and key j:
    (dy + M - 1) * (2M - 1) + (dx + M - 1).

    `table_window` is the M the table was built for; a smaller effective window
    (tiny inputs) reads the central part of the same table.
    """
    return _relative_position_index_cached(window, table_window or window).clone()


def relative_coords_table(window: int, pretrained_window: int = 0) -> torch.Tensor:
    """Swin v2 log-spaced coordinates ((2M-1)^2, 2) fed to the continuous-bias MLP.

    Offsets are normalised to [-8, 8] by (pretrained_window - 1), or (M - 1) when no
    pretrained window is given, then mapped by sign(x) * log2(|x| + 1) / log2(8).
    """
    r = torch.arange(-(window - 1), window, dtype=torch.float32)
    table = torch.stack(torch.meshgrid(r, r, indexing="ij"), dim=-1)  # 2M-1, 2M-1, 2
    norm = (pretrained_window if pretrained_window > 0 else window) - 1
    table = table / max(norm, 1) * 8
    table = torch.sign(table) * torch.log2(table.abs() + 1.0) / math.log2(8)
    return table.reshape(-1, 2)


def pad_tokens(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Zero-pad a (B, H, W, C) grid on the bottom/right to a multiple of `multiple`."""
    _, H, W, _ = x.shape
    ph, pw = padded_size(H, multiple) - H, padded_size(W, multiple) - W
    if ph or pw:
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
    return x
