"""Feature-map analysis for one stage's output, a channel-last (H, W, C) array: channel
energy, single channels, the per-token L2 norm, and a 3-component PCA shown as RGB.

All functions are pure numpy and deterministic: the same features give the same numbers
(and the same PCA colours) on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROBUST_PERCENTILES = (1.0, 99.0)  # PCA components are scaled between these percentiles
SLAB = 1 << 21  # float64 values converted at a time (16 MB): a 12 MP photo's maps stay small


def _step(per_unit: int) -> int:
    """How many rows (or channels) of `per_unit` values make one SLAB."""
    return max(1, SLAB // max(1, per_unit))


def _check(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f)
    if f.ndim != 3:
        raise ValueError(f"expected a (H, W, C) feature map, got shape {f.shape}")
    return f


def channel_energy(f: np.ndarray) -> np.ndarray:
    """(C,) mean squared activation of each channel over all tokens."""
    f = _check(f)
    C = f.shape[2]
    # float64 a slab of channels at a time; never a one-channel slab of several (numpy
    # would then sum it pairwise, not in the token order the whole map is summed in)
    starts = list(range(0, C, max(2, _step(f.shape[0] * f.shape[1]))))
    if len(starts) > 1 and C - starts[-1] == 1:
        starts.pop()
    parts = []
    for a, b in zip(starts, [*starts[1:], C], strict=True):
        x = f[:, :, a:b].astype(np.float64)
        parts.append(np.mean(np.multiply(x, x, out=x), axis=(0, 1)))
    return np.concatenate(parts) if parts else np.zeros(0)  # C


def top_channels(f: np.ndarray, k: int = 8) -> np.ndarray:
    """Indices of the k channels with the most energy, strongest first (ties by index)."""
    energy = channel_energy(f)
    order = np.argsort(-energy, kind="stable")
    return order[: max(0, k)]


def channel_map(f: np.ndarray, channel: int) -> np.ndarray:
    """(H, W) float32 activation of one channel."""
    f = _check(f)
    if not 0 <= channel < f.shape[2]:
        raise IndexError(f"channel {channel} out of range (the map has {f.shape[2]} channels)")
    return np.ascontiguousarray(f[:, :, channel], dtype=np.float32)


def norm_map(f: np.ndarray) -> np.ndarray:
    """(H, W) float32 L2 norm of each token's feature vector over its channels."""
    f = _check(f)
    out = np.empty(f.shape[:2], np.float32)  # H, W
    rows = _step(f.shape[1] * f.shape[2])
    for r in range(0, f.shape[0], rows):  # float64 a band of rows at a time
        x = f[r : r + rows].astype(np.float64)
        out[r : r + rows] = np.sqrt(np.sum(np.multiply(x, x, out=x), axis=2))
    return out


@dataclass(frozen=True)
class PCAResult:
    """Projection of the tokens onto the leading principal directions.

    Attributes:
        scores: (H, W, k) float32 projections of the centred features.
        components: (k, C) unit principal directions, strongest first.
        explained: (k,) fraction of the total variance each direction explains.
    """

    scores: np.ndarray
    components: np.ndarray
    explained: np.ndarray


def _principal_axes(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k eigenvalues and unit principal axes (k', C) of centred X (T, C).

    Uses whichever side is smaller: the C x C covariance, or the T x T Gram matrix when
    there are fewer tokens than channels (stage 3: 49 tokens vs 768 channels)."""
    T, C = X.shape
    if T >= C:
        values, vectors = np.linalg.eigh(X.T @ X / max(T, 1))  # ascending
        order = np.argsort(-values, kind="stable")[:k]
        return values[order], vectors[:, order].T
    values, u = np.linalg.eigh(X @ X.T / T)  # T, T
    order = [i for i in np.argsort(-values, kind="stable")[:k] if values[i] > 1e-12 * values.max()]
    axes = X.T @ u[:, order]  # C, k'
    axes /= np.linalg.norm(axes, axis=0, keepdims=True)
    return values[order], axes.T


def pca(f: np.ndarray, k: int = 3) -> PCAResult:
    """PCA over tokens (float64), from the smaller of the covariance and Gram matrices.

    Sign convention (so colours are stable between runs): each component is flipped so
    that its largest-magnitude loading is positive. With fewer than k channels or
    tokens, the missing components are zero.
    """
    f = _check(f)
    H, W, C = f.shape
    X = f.reshape(-1, C).astype(np.float64)  # H*W, C (the one float64 copy)
    X -= X.mean(axis=0, keepdims=True)
    values, comps = _principal_axes(X, k)  # k', C
    flip = np.sign(comps[np.arange(len(comps)), np.argmax(np.abs(comps), axis=1)])
    comps = comps * np.where(flip == 0, 1.0, flip)[:, None]
    scores = X @ comps.T  # H*W, k'
    total = float(np.multiply(X, X, out=X).sum() / max(len(X), 1))  # trace of the covariance
    del X
    explained = values.clip(min=0) / total if total > 0 else np.zeros(len(values))
    if len(values) < k:  # pad when C < k
        scores = np.pad(scores, ((0, 0), (0, k - len(values))))
        comps = np.pad(comps, ((0, k - len(values)), (0, 0)))
        explained = np.pad(explained, (0, k - len(values)))
    return PCAResult(
        scores=scores.reshape(H, W, k).astype(np.float32),
        components=comps.astype(np.float32),
        explained=explained.astype(np.float32),
    )


def robust_unit(x: np.ndarray, percentiles: tuple[float, float] = ROBUST_PERCENTILES) -> np.ndarray:
    """Scale to [0, 1] between two percentiles (clipped); a flat array becomes 0.5."""
    lo, hi = np.percentile(x, percentiles)
    if not hi > lo:
        return np.full(x.shape, 0.5, np.float32)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def pca_rgb(f: np.ndarray, k: int = 3) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1]: the first three principal components as R, G, B,
    each scaled robustly between its 1st and 99th percentile."""
    scores = pca(f, k=max(k, 3)).scores[:, :, :3]  # H, W, 3
    return np.stack([robust_unit(scores[:, :, i]) for i in range(3)], axis=2)
