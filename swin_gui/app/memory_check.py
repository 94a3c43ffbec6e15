"""Before a big capture: will it fit? An estimate of the capture's peak memory from the
pixels and the model's width, against the memory the system has available, so the window
can warn before a photo at native size would push the machine into swap.

The rate is measured: Swin-T (C = 96) on a 4000×3000 photo at native size peaked 3.0 GB
above its starting RSS, i.e. about 2.6 bytes per input pixel per embedding channel
(README, Performance, the scaling rows).
"""

from __future__ import annotations

from pathlib import Path

BYTES_PER_PIXEL_CHANNEL = 2.6
WARN_SHARE = 0.5  # warn when a capture would need more than this share of what is free


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), else None (no warning)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def input_pixels(image, size, img_size: int) -> int | None:
    """Pixels entering the model for `image` at `size` ("model", "native" or N); None
    when that cannot be told without decoding (arrays are measured directly)."""
    if size == "model":
        return img_size * img_size
    if isinstance(size, int) or str(size).isdigit():
        return int(size) ** 2
    shape = getattr(image, "shape", None)
    if shape is not None and len(shape) >= 2:
        return int(shape[0]) * int(shape[1])
    if isinstance(image, (str, Path)):
        from PIL import Image

        try:
            with Image.open(image) as im:  # reads the header only
                w, h = im.size
            return w * h
        except Exception:
            return None  # the capture itself will say what is wrong with the file
    size_attr = getattr(image, "size", None)
    if isinstance(size_attr, tuple) and len(size_attr) == 2:
        return int(size_attr[0]) * int(size_attr[1])
    return None


def capture_bytes(pixels: int, embed_dim: int) -> int:
    return int(pixels * embed_dim * BYTES_PER_PIXEL_CHANNEL)


def too_big(pixels: int | None, embed_dim: int, available: int | None) -> bool:
    if pixels is None or available is None:
        return False
    return capture_bytes(pixels, embed_dim) > WARN_SHARE * available
