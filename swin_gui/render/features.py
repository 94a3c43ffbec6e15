"""Feature maps as numpy pictures (for files, not the screen): one stage's (H, W, C) output
coloured as a channel, the per-token L2 norm, or a 3-component PCA in RGB, upscaled
nearest-neighbour so tokens stay crisp; and the pyramid, every stage side by side aligned
to the input image. `swin_gui.export` writes these as the per-stage PNGs; the labelled,
interactive pyramid is the figure in `render/pyramid.py`.

Alignment is pixel-true: a stage-s token covers patch * 2**s input pixels, so each map is
repeated by that stride and cropped to the image (padding tokens fall off the edge).
"""

from __future__ import annotations

import numpy as np

from ..analysis.features import channel_map, norm_map, pca_rgb, top_channels
from ..i18n import tr
from .colormap import apply_colormap

MODES = ("channel", "norm", "pca")
BACKGROUND = (255, 255, 255)


def feature_scalar(f: np.ndarray, mode: str, channel: int | None = 0) -> tuple[np.ndarray, str]:
    """(H, W) values for the scalar modes, and a short description of them.
    `channel=None` picks the channel with the most energy."""
    if mode == "norm":
        return norm_map(f), tr("Features", "L2 norm")
    if mode == "channel":
        c = int(top_channels(f, 1)[0]) if channel is None else int(channel)
        return channel_map(f, c), tr("Features", "channel {c}", c=c)
    raise ValueError(
        tr(
            "Features",
            "unknown feature mode {mode!r}; choose one of {modes}",
            mode=mode,
            modes=", ".join(MODES),
        )
    )


def upscale(a: np.ndarray, factor: int) -> np.ndarray:
    """Repeat every pixel `factor` times along both axes (nearest neighbour)."""
    factor = max(1, int(factor))
    if factor == 1:
        return a
    return np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)


def resize_nearest(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize to (height, width): output pixel y reads row y*h // H."""
    H, W = size
    h, w = rgb.shape[:2]
    rows = np.arange(H) * h // H
    cols = np.arange(W) * w // W
    return np.ascontiguousarray(rgb[rows][:, cols])


def align_to_image(rgb: np.ndarray, stride: int, size: tuple[int, int]) -> np.ndarray:
    """Repeat each token `stride` times and crop (or edge-pad) to the image (H, W)."""
    H, W = size
    up = upscale(rgb, stride)[:H, :W]
    ph, pw = H - up.shape[0], W - up.shape[1]
    if ph > 0 or pw > 0:
        pad = ((0, max(ph, 0)), (0, max(pw, 0))) + ((0, 0),) * (up.ndim - 2)
        up = np.pad(up, pad, mode="edge")
    return np.ascontiguousarray(up)


def render_feature_map(
    f: np.ndarray,
    mode: str = "norm",
    channel: int | None = 0,
    cmap: str = "viridis",
    levels: tuple[float, float] | None = None,
    upscale_to: tuple[int, int] | None = None,
    scale: int | None = None,
) -> np.ndarray:
    """One (H, W, C) feature map -> uint8 RGB.

    Args:
        mode: "channel" (one channel; `channel=None` = top channel by energy),
            "norm" (L2 over channels) or "pca" (components 1-3 as R, G, B; no cmap).
        levels: (lo, hi) for the scalar modes; default the map's min and max.
        upscale_to: (height, width) to resize to, nearest-neighbour.
        scale: an integer factor to repeat every token by (ignored with upscale_to).
    """
    if mode == "pca":
        rgb = np.round(pca_rgb(f) * 255).astype(np.uint8)  # H, W, 3
    else:
        values, _ = feature_scalar(f, mode, channel)
        rgb = apply_colormap(values, cmap, levels)
    if upscale_to is not None:
        return resize_nearest(rgb, upscale_to)
    if scale is not None:
        return upscale(rgb, scale)
    return rgb


def stage_pictures(
    trace, mode: str = "norm", channel: int | None = None, cmap: str = "viridis"
) -> list[np.ndarray]:
    """Each stage's map as uint8 RGB aligned to the input image (H, W, 3)."""
    size = trace.image.shape[:2]
    return [
        align_to_image(
            render_feature_map(st.out, mode, channel, cmap), trace.token_pixels(st.index), size
        )
        for st in trace.stages
    ]


def _hstack(parts: list[np.ndarray], gap: int) -> np.ndarray:
    h = max(p.shape[0] for p in parts)
    w = sum(p.shape[1] for p in parts) + gap * (len(parts) - 1)
    out = np.empty((h, w, 3), np.uint8)
    out[:] = BACKGROUND
    x = 0
    for p in parts:
        out[: p.shape[0], x : x + p.shape[1]] = p[..., :3]
        x += p.shape[1] + gap
    return out


def render_pyramid(
    trace,
    mode: str = "norm",
    channel: int | None = None,
    cmap: str = "viridis",
    include_image: bool = False,
    gap: int = 6,
) -> np.ndarray:
    """Every stage's output side by side, each aligned to the input image (uint8 RGB,
    white gaps; no baked text: the labelled pyramid is `render.pyramid.figure_pyramid`).

    Args:
        trace: a `swin_gui.trace.Trace`.
        mode: "channel" | "norm" | "pca"; `channel=None` uses each stage's top channel.
        include_image: put the input image first, for reference.
        gap: white pixels between panels.
    """
    parts = stage_pictures(trace, mode, channel, cmap)
    if include_image:
        parts.insert(0, np.asarray(trace.image, np.uint8))
    return _hstack(parts, gap)
