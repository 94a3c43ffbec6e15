"""Colormaps as 256 x 3 uint8 lookup tables, built without matplotlib, and
`apply_colormap` to turn a 2-D array into an RGB picture.

The sequential maps (viridis, magma, inferno, plasma; CC0, by Smith, van der Walt and
Firing) are stored as 33 evenly spaced anchors and interpolated linearly (within 2 levels
of the originals). `coolwarm` is Moreland's diverging map (33 anchors); `RdBu` is
ColorBrewer's 11-class RdBu. A `_r` suffix reverses any map; names are case-insensitive.
Diverging maps suit signed data (position bias, logits) with symmetric levels.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..i18n import tr

_ANCHORS: dict[str, str] = {
    "viridis": "440154470d6048186a482374472d7b4537814240863e49893b528b375b8d33638d2f6b8e2c728e"
    "297a8e26828e23898e21918c1f978b1f9f8821a68527ad8131b57b3dbc744cc26c5cc8636ece5881d34d95d840"
    "aadc32c0df25d5e21aeae51afde725",
    "magma": "0000040303120a0822130d341d114729115a36106b440f7651127c5d177f6a1c81762181832681902a"
    "819c2e7faa337db73779c23b75cf4070db476ae55064ee5b5ef4695cf9785dfb8761fd9668fea571feb47bfec2"
    "87fed194fde0a1fceeb0fcfdbf",
    "inferno": "0000040403120b0724150b37210c4a2f0a5b3d09654a0c6b57106e64156e71196e7d1e6d8a226a97"
    "2766a32c61b0315bbc3754c63d4dd04545da4e3ce35933eb6429f1711ff67e14f98c0afb9b06fcaa0ffbba1ff9"
    "c932f5d949f2e865f3f586fcffa4",
    "plasma": "0d08872206903105973f049c4c02a15901a56600a77201a87e03a88a09a59511a1a01a9caa2395b32c"
    "8ebc3587c43e7fcc4778d24f71d9586adf6263e56b5deb7556f07f4ff48948f89441fb9f3afdab33feb72dfdc3"
    "28fcd025f9dd25f5eb27f0f921",
    "gray": "000000ffffff",
    "coolwarm": "3b4cc0445acc4d68d75775e16282ea6c8ef1779af782a5fb8db0fe98b9ffa3c2ffaec9fdb8d0f9c2d5"
    "f4ccd9eed5dbe6dddddde5d8d1ecd3c5f1ccb9f5c4adf7bba0f7b194f7a687f49a7bf18d6fec7f63e57058de60"
    "4dd55042cb3e38c0282fb40426",
    "RdBu": "67001fb2182bd6604df4a582fddbc7f7f7f7d1e5f092c5de4393c32166ac053061",
}
DIVERGING = frozenset({"coolwarm", "rdbu"})
NAN_COLOR = (128, 128, 128)


COLORMAPS: tuple[str, ...] = (*_ANCHORS, "RdBu_r")  # any name also works with "_r"


def _decode(hex_string: str) -> np.ndarray:
    raw = bytes.fromhex(hex_string)
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.float64)  # K, 3


def _canonical(name: str) -> tuple[str, bool]:
    """(anchor-table key, reversed) for a case-insensitive name like 'Viridis_r'."""
    key = name.strip()
    reverse = key.lower().endswith("_r")
    if reverse:
        key = key[:-2]
    for known in _ANCHORS:
        if known.lower() == key.lower():
            return known, reverse
    raise KeyError(
        tr(
            "Colormap",
            "unknown colormap {name!r}; known: {names}",
            name=name,
            names=", ".join(COLORMAPS),
        )
    )


@lru_cache(maxsize=32)
def _lut_cached(name: str) -> np.ndarray:
    key, reverse = _canonical(name)
    anchors = _decode(_ANCHORS[key])  # K, 3
    x = np.linspace(0.0, 1.0, 256)
    xa = np.linspace(0.0, 1.0, len(anchors))
    lut = np.stack([np.interp(x, xa, anchors[:, i]) for i in range(3)], axis=1)
    lut = np.round(lut).clip(0, 255).astype(np.uint8)  # 256, 3
    lut = lut[::-1] if reverse else lut
    lut.setflags(write=False)
    return lut


def colormap_lut(name: str) -> np.ndarray:
    """The (256, 3) uint8 lookup table of a colormap (read-only)."""
    return _lut_cached(name)


def is_diverging(name: str) -> bool:
    return _canonical(name)[0].lower() in DIVERGING


def symmetric_levels(array: np.ndarray) -> tuple[float, float]:
    """(-m, m) with m the largest finite |value|: zero sits in the middle of the map."""
    a = np.asarray(array, dtype=np.float64)
    finite = a[np.isfinite(a)]
    m = float(np.abs(finite).max()) if finite.size else 0.0
    return (-m, m) if m > 0 else (-1.0, 1.0)


def apply_colormap(
    array: np.ndarray,
    name: str = "viridis",
    levels: tuple[float, float] | None = None,
    nan_color: tuple[int, int, int] = NAN_COLOR,
) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8 RGB.

    Values map linearly from `levels` = (lo, hi) (default: finite min and max) onto the
    256 entries, clipped at both ends. NaN/inf get `nan_color`. When hi == lo every finite
    value gets the middle colour.
    """
    a = np.asarray(array, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(
            tr("Colormap", "apply_colormap needs a 2-D array, got shape {shape}", shape=a.shape)
        )
    lut = colormap_lut(name)
    finite = np.isfinite(a)
    if levels is None:
        levels = (float(a[finite].min()), float(a[finite].max())) if finite.any() else (0, 1)
    lo, hi = float(levels[0]), float(levels[1])
    t = (np.where(finite, a, lo) - lo) / (hi - lo) if hi > lo else np.full(a.shape, 0.5)
    index = np.round(np.clip(t, 0.0, 1.0) * 255).astype(np.intp)  # H, W
    rgb = lut[index]  # H, W, 3
    if not finite.all():
        rgb = rgb.copy()
        rgb[~finite] = nan_color
    return np.ascontiguousarray(rgb)
